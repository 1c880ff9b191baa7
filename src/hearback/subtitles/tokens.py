"""Words as the cue layout sees them: tokens with times, grouped in runs of one speaker.

* A segment is split into runs of words with the same speaker (a word without a speaker
  takes its segment's); a segment without words is one run whose pieces get times in
  proportion to their character positions, so its cues tile the segment.
* What separates two words comes from the segment text (none in Chinese or Japanese).
* Consecutive runs of one speaker (across segments) join into one run (:func:`join_runs`)
  unless a pause of the cue-ending length separates them, so cues may span segments. One
  speaker's runs that overlap in time are first split into time order (:func:`interleave`).
* In French text (:func:`french_runs`), a non-breaking space goes before ``? ! : ;`` and
  inside « », and the punctuation stays with its word.
"""

from __future__ import annotations

import heapq
import logging
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Optional, Sequence

from ..types import Segment
from .linebreak import french_spacing

logger = logging.getLogger(__name__)

_CLOSERS = "\"'”’)]}»」』】〉》）"
# characters that must not start a line or a cue when nothing separates them from
# the previous token (CJK punctuation, or a word split from its punctuation)
_NO_LINE_START = set(".,;:!?%)]}…。、，．！？；：）」』】〉》") | set(_CLOSERS)


@dataclass(frozen=True)
class Token:
    """A word (or a piece of a segment's text) as it is laid out in cues."""

    #: the word (or piece of text) as shown
    text: str
    #: when it starts, seconds
    start: float
    #: when it ends, seconds
    end: float
    #: what goes between the previous token and this one: " ", "" or a non-breaking space
    sep: str
    #: a line or a cue may start with this token
    breakable: bool


# a speaker (None: diarization off) and the tokens of one stretch of a segment
Run = tuple[Optional[str], list[Token]]


# --------------------------------------------------------------------------- tokens


def _is_wide(char: str) -> bool:
    """Scripts written without spaces (CJK): a line may break between any two characters."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def _breakable(prev_text: str, sep: str, text: str) -> bool:
    """May a line break before ``text``? Always after a space; without one only in CJK text."""
    if not prev_text or sep == " ":
        return True
    if text[0] in _NO_LINE_START:
        return False
    return _is_wide(prev_text[-1]) or _is_wide(text[0])


def _clean(text: str) -> str:
    return " ".join(text.split())


def _separators(text: str, words: Sequence[str]) -> list[str]:
    """What separates each word from the previous one in the segment text.

    Whisper's segment text is its words run together, so finding the words in it in
    order tells where spaces were (none in Chinese or Japanese). If the words and the
    text disagree, words are separated by spaces.
    """
    seps: list[str] = []
    pos = 0
    for word in words:
        idx = text.find(word, pos)
        if idx < 0 or text[pos:idx].strip():
            logger.debug("segment text does not match its words; joining words with spaces")
            return [""] + [" "] * (len(words) - 1)
        seps.append(" " if idx > pos else "")
        pos = idx + len(word)
    if seps:
        seps[0] = ""
    return seps


def _word_runs(segment: Segment) -> list[Run]:
    """A segment with words: runs of tokens with the same speaker."""
    words = [w for w in segment.words if w.word.strip()]
    texts = [_clean(w.word) for w in words]
    seps = _separators(_clean(segment.text), texts)
    runs: list[Run] = []
    prev_text = ""
    for word, text, sep in zip(words, texts, seps):
        speaker = word.speaker if word.speaker is not None else segment.speaker
        start = float(word.start)
        token = Token(text, start, max(float(word.end), start), sep, _breakable(prev_text, sep, text))
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append(token)
        else:
            # the first word of a run starts a cue: nothing before it
            runs.append((speaker, [Token(text, token.start, token.end, "", True)]))
        prev_text = text
    return runs


def _text_pieces(text: str) -> list[tuple[int, int]]:
    """Character spans of the words of ``text``; wide (CJK) characters are pieces of their own."""
    spans: list[tuple[int, int]] = []
    for match in re.finditer(r"\S+", text):
        start = match.start()
        piece_start = start
        for i in range(start, match.end()):
            if _is_wide(text[i]):
                if i > piece_start:
                    spans.append((piece_start, i))
                spans.append((i, i + 1))
                piece_start = i + 1
        if piece_start < match.end():
            spans.append((piece_start, match.end()))
    return spans


def _text_runs(segment: Segment) -> list[Run]:
    """A segment without words: its text, times proportional to character positions."""
    text = _clean(segment.text)
    spans = _text_pieces(text)
    if not spans:
        return []
    start = float(segment.start)
    duration = max(float(segment.end) - start, 0.0)
    length = len(text)

    def at(char: int) -> float:
        return start + duration * char / length

    tokens = []
    prev_text = ""
    for i, (a, b) in enumerate(spans):
        piece = text[a:b]
        sep = " " if i and a > spans[i - 1][1] else ""
        # a piece runs until the next one starts, so the cues of a segment tile it
        end = at(spans[i + 1][0]) if i + 1 < len(spans) else start + duration
        tokens.append(Token(piece, at(a), end, sep, _breakable(prev_text, sep, piece)))
        prev_text = piece
    return [(segment.speaker, tokens)]


def segment_runs(segment: Segment) -> list[Run]:
    """The speaker runs of a segment, from its words when it has any, else from its text."""
    has_words = any(w.word.strip() for w in segment.words)
    return _word_runs(segment) if has_words else _text_runs(segment)


def speaker_runs(segment: Segment) -> list[tuple[Optional[str], str]]:
    """A segment as (speaker, text) stretches of one speaker each, spaced as in its text.

    The same split the cues follow; a segment with nothing to say gives no stretch.
    """
    return [(speaker, "".join(t.sep + t.text for t in tokens).strip())
            for speaker, tokens in segment_runs(segment)]


_NBSP = "\u00a0"


def french_runs(runs: Sequence[Run]) -> list[Run]:
    """The runs with French typography: non-breaking spaces that keep punctuation attached."""
    out: list[Run] = []
    for speaker, tokens in runs:
        fixed: list[Token] = []
        for token in tokens:
            text = french_spacing(token.text)
            sep, breakable = token.sep, token.breakable
            if fixed and (text.startswith(_NBSP) or fixed[-1].text.endswith(_NBSP)):
                sep, breakable = "", False
            elif fixed and text[0] in "?!:;":
                sep, breakable = _NBSP, False
            fixed.append(replace(token, text=text, sep=sep, breakable=breakable))
        out.append((speaker, fixed))
    return out


def _merged(runs: Sequence[tuple[int, Run]]) -> list[tuple[int, Run]]:
    """One speaker's runs (numbered, in order of their first word) as their words come in
    time: a run is split where another one's words come in between; each run's words keep
    their order, and a piece split off a run starts a line and a cue. Each piece keeps its
    run's number."""
    tagged = [[(token.start, n, token) for token in run[1]] for n, (_k, run) in enumerate(runs)]
    out: list[tuple[int, Run]] = []
    source = -1
    for _start, n, token in heapq.merge(*tagged, key=lambda item: item[0]):
        if n != source:
            number, (speaker, _tokens) = runs[n]
            out.append((number, (speaker, [replace(token, sep="", breakable=True)])))
            source = n
        else:
            out[-1][1][1].append(token)
    return out


def interleave(runs: Sequence[Run]) -> list[Run]:
    """The runs in time order (of their first word), where one speaker's runs overlap in time
    (Whisper's second pass can give a segment inside another) split into the order their
    words are spoken, so that the cues cut from them follow one another and every word shows
    while it is spoken. Different speakers' runs are not split: cross-talk of two short turns
    is what a dual-speaker cue shows. Runs that do not overlap come back as they are."""
    ordered = sorted((run for run in runs if run[1]), key=lambda run: run[1][0].start)
    by_speaker: dict[Optional[str], list[tuple[int, Run]]] = {}
    for number, run in enumerate(ordered):
        by_speaker.setdefault(run[0], []).append((number, run))
    pieces = [piece for its_runs in by_speaker.values() for piece in _merged(its_runs)]
    return [run for _number, run in sorted(pieces, key=lambda piece: (piece[1][1][0].start, piece[0]))]


def join_runs(runs: Sequence[Run], pause_seconds: float) -> list[Run]:
    """Runs in time order, each joined to the one before when both are the same speaker's and
    less than ``pause_seconds`` apart (Whisper's segments are not where a subtitler cuts).

    The joined run's first token is separated by a space (none between two wide characters)
    and may start a line.
    """
    out: list[Run] = []
    for speaker, tokens in runs:
        if not tokens:
            continue
        if out and out[-1][0] == speaker:
            previous = out[-1][1]
            last_end = max(t.end for t in previous)
            if tokens[0].start >= previous[-1].start and tokens[0].start - last_end < pause_seconds:
                wide = _is_wide(previous[-1].text[-1]) and _is_wide(tokens[0].text[0])
                first = replace(tokens[0], sep="" if wide else " ", breakable=True)
                out[-1] = (speaker, [*previous, first, *tokens[1:]])
                continue
        out.append((speaker, list(tokens)))
    return out
