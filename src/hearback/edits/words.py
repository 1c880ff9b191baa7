"""Words moved to another speaker and text edited, in a finished result.

Moving words keeps the document whole: a segment splits where its speaker changes (up to three
pieces), the moved span of the turns goes to the new speaker, and ``speakers`` /
``speaker_identities`` list exactly the speakers that remain. Edited words keep time: the new
words share the span of the words they replace in proportion to their length (in whole
milliseconds, each at least 1 ms), and a segment's start and end stay. An edit to nothing
deletes those words, or the whole segment. A speaker left without words is no longer a speaker
of the result (its turns go too).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Optional, Sequence

from ..speakers.voiceprint import check_name, not_text
from ..types import Result, Segment, Turn, Word
from .checks import invalid
from .speakers import tidy

logger = logging.getLogger(__name__)


def assign(result: Result, segment: int, speaker: str, words: Optional[Sequence[int]] = None) -> Result:
    """Segment ``segment`` (or only its words ``words[0]:words[1]``) to ``speaker``, an existing
    speaker or a new name; the segment splits around a word range."""
    if not result.speakers:
        raise invalid("this transcript has no speakers (it was made without diarization)")
    seg = _segment(result, segment)
    target = speaker if speaker in result.speakers else check_name(speaker)
    lo, hi = _word_range(seg, words) if words is not None else (0, len(seg.words))
    if not seg.words:
        pieces, span = (replace(seg, speaker=target),), (seg.start, seg.end)
    elif lo == 0 and hi == len(seg.words):
        words = tuple(replace(w, speaker=target, speaker_inferred=False) for w in seg.words)
        pieces, span = (replace(seg, speaker=target, words=words),), (seg.start, seg.end)
    else:
        pieces = _split(seg, lo, hi, target)
        span = (seg.words[lo].start, max(w.end for w in seg.words[lo:hi]))
    moved = ({seg.speaker} | {w.speaker for w in seg.words[lo:hi]}) - {None, target}
    segments = result.segments[:segment] + pieces + result.segments[segment + 1:]
    turns = result.diarization.turns if result.diarization else ()
    if result.diarization is not None:
        turns = _move_turns(turns, span, moved, target)
    return _consistent(result, segments, turns)


def _split(seg: Segment, lo: int, hi: int, target: str) -> tuple[Segment, ...]:
    """The segment in up to three pieces: words before ``lo``, ``lo:hi`` (to ``target``), after."""
    bounds = [(a, b) for a, b in ((0, lo), (lo, hi), (hi, len(seg.words))) if b > a]
    return tuple(_piece(seg, a, b, target if a == lo else None, first=a == 0, last=b == len(seg.words))
                 for a, b in bounds)


def _piece(seg: Segment, lo: int, hi: int, speaker: Optional[str], *, first: bool, last: bool) -> Segment:
    """Words ``lo:hi`` of ``seg`` as a segment of their own (given to ``speaker`` unless None);
    the first piece keeps the segment's start, the last its end."""
    words = seg.words[lo:hi]
    if speaker is not None:
        words = tuple(replace(w, speaker=speaker, speaker_inferred=False) for w in words)
    return replace(seg, start=seg.start if first else words[0].start,
                   end=seg.end if last else max(w.end for w in words),
                   text=_text_of(seg, lo, hi, first=first, last=last), words=words,
                   speaker=speaker or seg.speaker)


def _move_turns(turns: Sequence[Turn], span: tuple[float, float], moved: set[str],
                target: str) -> list[Turn]:
    """Turns where ``span`` is taken from the ``moved`` speakers and given to ``target``."""
    a, b = span
    out = [Turn(a, b, target)]
    for turn in turns:
        if turn.speaker not in moved or turn.end <= a or turn.start >= b:
            out.append(turn)
            continue
        if turn.start < a:
            out.append(Turn(turn.start, a, turn.speaker))
        if turn.end > b:
            out.append(Turn(b, turn.end, turn.speaker))
    return out


def edit(result: Result, segment: int, text: str, words: Optional[Sequence[int]] = None) -> Result:
    """Segment ``segment``'s text (or its words ``words[0]:words[1]``) becomes ``text``; new
    words share the replaced words' time span. Empty ``text`` deletes those words (the segment,
    when no word or text is left)."""
    seg = _segment(result, segment)
    tokens = text.split()  # any whitespace separates words: tabs, line breaks, U+2028 …
    bad = not_text("".join(tokens))
    if bad:
        raise invalid(f"the text holds characters that are no text: {', '.join(bad)}")
    if not seg.words:
        if words is not None:
            raise invalid(f"segment {segment} has no words (made without word timestamps)")
        edited = replace(seg, text=" ".join(tokens)) if tokens else None
    else:
        lo, hi = _word_range(seg, words) if words is not None else (0, len(seg.words))
        edited = _edited(seg, lo, hi, tokens) if tokens or hi - lo < len(seg.words) else None
    segments = result.segments[:segment] + ((edited,) if edited else ()) + result.segments[segment + 1:]
    return _consistent(result, segments, result.diarization.turns if result.diarization else ())


def _edited(seg: Segment, lo: int, hi: int, tokens: list[str]) -> Segment:
    replaced = seg.words[lo:hi]
    template = Word("", 0.0, 0.0, None, replaced[0].speaker, overlap=any(w.overlap for w in replaced))
    times = spread([len(t) for t in tokens], replaced[0].start, max(w.end for w in replaced))
    new = tuple(replace(template, word=token, start=start, end=end)
                for token, (start, end) in zip(tokens, times))
    spans = _word_spans(seg)
    words = seg.words[:lo] + new + seg.words[hi:]
    if spans is None:
        text = " ".join(w.word.strip() for w in words)
    else:
        text = seg.text[:spans[lo][0]] + " ".join(tokens) + seg.text[spans[hi - 1][1]:]
    return replace(seg, words=words, text=" ".join(text.split()))


def spread(lengths: Sequence[int], start: float, end: float) -> list[tuple[float, float]]:
    """(start, end) per new word over ``start``-``end``, in proportion to ``lengths``, in
    whole milliseconds, each at least 1 ms long; ``invalid_edit`` when they cannot fit."""
    a, b, n = round(start * 1000), round(end * 1000), len(lengths)
    if b - a < n:
        raise invalid(f"{n} words do not fit in {b - a} ms")
    total, done, bounds = sum(lengths), 0, [a]
    for length in lengths:
        done += length
        bounds.append(a + round((b - a) * done / total))
    for k in range(1, n):  # strictly increasing, room left for the words after
        bounds[k] = min(max(bounds[k], bounds[k - 1] + 1), b - (n - k))
    return [(bounds[k] / 1000, bounds[k + 1] / 1000) for k in range(n)]


def _word_spans(seg: Segment) -> Optional[list[tuple[int, int]]]:
    """Each word's (start, end) character offsets in the segment text; None when the words
    cannot all be found in it in order."""
    spans, position = [], 0
    for word in seg.words:
        token = word.word.strip()
        found = seg.text.find(token, position) if token else -1
        if found < 0:
            return None
        spans.append((found, found + len(token)))
        position = found + len(token)
    return spans


def _text_of(seg: Segment, lo: int, hi: int, *, first: bool, last: bool) -> str:
    """The part of the segment text that words ``lo:hi`` say (from the text's start for the
    ``first`` piece, to its end for the ``last``, so that no character is lost between pieces)."""
    spans = _word_spans(seg)
    if spans is None:
        return " ".join(w.word.strip() for w in seg.words[lo:hi])
    return seg.text[0 if first else spans[lo][0]:len(seg.text) if last else spans[hi - 1][1]].strip()


def _segment(result: Result, index: int) -> Segment:
    if not 0 <= index < len(result.segments):
        raise invalid(f"no segment {index} (the transcript has {len(result.segments)})")
    return result.segments[index]


def _word_range(seg: Segment, words: Sequence[int]) -> tuple[int, int]:
    if len(words) != 2 or not 0 <= words[0] < words[1] <= len(seg.words):
        raise invalid(f"words must be [first, end) within the segment's {len(seg.words)} words: {list(words)}")
    return words[0], words[1]


def _voiced(segments: Sequence[Segment]) -> list[Optional[str]]:
    """The speakers segments and words carry, in order, repeats included."""
    return [s.speaker for s in segments] + [w.speaker for s in segments for w in s.words]


def _consistent(result: Result, segments: Sequence[Segment], turns: Sequence[Turn]) -> Result:
    """The result with these segments and turns, listing only (and all) the speakers they name.
    A speaker whose last words went (moved or deleted) goes with its turns: nobody is left to
    have said them."""
    named = _voiced(segments)
    lost = set(_voiced(result.segments)) - set(named)
    turns = [t for t in turns if t.speaker not in lost]
    present = set(named + [t.speaker for t in turns]) - {None}
    speakers = [s for s in result.speakers if s in present]
    speakers += [s for s in dict.fromkeys(named) if s in present and s not in speakers]
    diarization = replace(result.diarization, turns=tidy(turns)) if result.diarization else None
    return replace(result, segments=tuple(segments), speakers=tuple(speakers), diarization=diarization,
                   identities=tuple(i for i in result.identities if i.speaker in present))
