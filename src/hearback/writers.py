"""Turn a :class:`~hearback.types.Result` into JSON, SRT, WebVTT or plain text.

Modelled on openai-whisper's ``whisper/utils.py``: one writer class per format,
each writing to any text file object. Every time is rounded once to a whole
millisecond (:func:`_ms`) and then formatted, so the JSON document and the
subtitles never disagree by a millisecond.

SRT and VTT share :func:`build_cues`, which decides where subtitles break:

* A cue never spans two segments or two speakers: each segment is split into runs
  of words with the same speaker (a word without a speaker takes its segment's).
* A run is cut greedily into cues of at most ``max_lines`` lines of at most
  ``max_line_chars`` characters (wrapped at word boundaries) and at most
  ``max_cue_seconds`` long (one word longer than either limit gets a cue of its own).
  Where the greedy cut would fall, the cue rather ends after the last sentence
  end (``.?!…``) that keeps at least a third of the text, else after the last
  clause mark (``,;:``) that keeps at least half of it. A pause of
  ``PAUSE_BREAK_SECONDS`` or more between two words always ends a cue.
* Cue times are word times. A segment without words is cut the same way, its
  times spread over the text in proportion to character positions.
* Lines within a cue are balanced (the longest line as short as possible).
* Cues are ordered; a cue's start is clamped to the previous cue's end, and a cue
  is at least 1 ms long (words of zero duration are nudged).
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Optional, Sequence, TextIO

from .speech_languages import language_shares
from .types import Result, Segment

logger = logging.getLogger(__name__)

FORMATS = ("json", "srt", "vtt", "txt")

#: A silence at least this long between two words always ends a cue.
PAUSE_BREAK_SECONDS = 1.5

_CLOSERS = "\"'”’)]}»」』】〉》）"
_SENTENCE_END = re.compile(r"[.?!…。？！][" + re.escape(_CLOSERS) + r"]*$")
_CLAUSE_END = re.compile(r"[,;:，、；：—–][" + re.escape(_CLOSERS) + r"]*$")
# characters that must not start a line or a cue when nothing separates them from
# the previous token (CJK punctuation, or a word split from its punctuation)
_NO_LINE_START = set(".,;:!?%)]}…。、，．！？；：）」』】〉》") | set(_CLOSERS)


# --------------------------------------------------------------------------- times


def _ms(seconds: float) -> int:
    """Seconds to whole milliseconds, half up, never negative. The only rounding done."""
    value = float(seconds)
    if not math.isfinite(value):
        return 0
    return max(0, int(math.floor(value * 1000.0 + 0.5)))


def _seconds(seconds: float) -> float:
    """Seconds rounded to the millisecond, as the JSON document carries them."""
    return _ms(seconds) / 1000.0


def _timestamp(ms: int, decimal_marker: str) -> str:
    """``HH:MM:SS<marker>mmm``; hours take as many digits as they need (at least 2)."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"


# --------------------------------------------------------------------------- JSON


def _round_probability(value: Optional[float]) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None


def result_to_dict(result: Result) -> dict[str, Any]:
    """The JSON document of the service contract (see SPECS.md), without the caller's extras."""
    segments = []
    for seg in result.segments:
        segments.append({
            "start": _seconds(seg.start),
            "end": _seconds(seg.end),
            "text": seg.text.strip(),
            "speaker": seg.speaker,
            "language": seg.language or result.language,
            "loop_collapsed": bool(seg.loop_collapsed),
            "words": [
                {
                    "word": w.word.strip(),
                    "start": _seconds(w.start),
                    "end": _seconds(w.end),
                    "speaker": w.speaker,
                    "probability": _round_probability(w.probability),
                    "speaker_inferred": bool(w.speaker_inferred),
                    "overlap": bool(w.overlap),
                }
                for w in seg.words
            ],
        })
    return {
        "transcription": {"text": result.text, "segments": segments},
        "speakers": list(result.speakers),
        "language": result.language,
        "languages": [{"language": code, "share": share}
                      for code, share in language_shares(result.segments, result.language)],
        "language_probability": _round_probability(result.language_probability),
        "duration": _seconds(result.duration),
        "warnings": [_notice(n) for n in result.warnings],
    }


def _notice(notice) -> dict[str, Any]:
    out: dict[str, Any] = {"code": notice.code, "message": notice.message}
    if notice.start is not None:
        out["start"] = _seconds(notice.start)
    if notice.end is not None:
        out["end"] = _seconds(notice.end)
    return out


# --------------------------------------------------------------------------- cues


@dataclass(frozen=True)
class Cue:
    """One subtitle: whole-millisecond times, wrapped lines, and who speaks."""

    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    speaker: Optional[str] = None

    @property
    def start(self) -> float:
        return self.start_ms / 1000.0

    @property
    def end(self) -> float:
        return self.end_ms / 1000.0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class _Token:
    """A word (or a piece of a segment's text) as it is laid out in cues."""

    text: str
    start: float
    end: float
    sep: str  # what goes between the previous token and this one: " " or ""
    breakable: bool  # a line or a cue may start with this token


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


def _word_runs(segment: Segment) -> list[tuple[Optional[str], list[_Token]]]:
    """A segment with words: runs of tokens with the same speaker."""
    words = [w for w in segment.words if w.word.strip()]
    texts = [_clean(w.word) for w in words]
    seps = _separators(_clean(segment.text), texts)
    runs: list[tuple[Optional[str], list[_Token]]] = []
    prev_text = ""
    for word, text, sep in zip(words, texts, seps):
        speaker = word.speaker if word.speaker is not None else segment.speaker
        start = float(word.start)
        token = _Token(text, start, max(float(word.end), start), sep, _breakable(prev_text, sep, text))
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append(token)
        else:
            # the first word of a run starts a cue: nothing before it
            runs.append((speaker, [_Token(text, token.start, token.end, "", True)]))
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


def _text_runs(segment: Segment) -> list[tuple[Optional[str], list[_Token]]]:
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
        tokens.append(_Token(piece, at(a), end, sep, _breakable(prev_text, sep, piece)))
        prev_text = piece
    return [(segment.speaker, tokens)]


def _units(tokens: Sequence[_Token]) -> list[tuple[str, str]]:
    """(separator, text) pieces a line may not be broken inside."""
    units: list[tuple[str, str]] = []
    for token in tokens:
        if units and not token.breakable:
            sep, text = units[-1]
            units[-1] = (sep, text + token.sep + token.text)
        else:
            units.append((token.sep, token.text))
    return units


def _joined(units: Sequence[tuple[str, str]]) -> str:
    return units[0][1] + "".join(sep + text for sep, text in units[1:]) if units else ""


def _line_count(units: Sequence[tuple[str, str]], max_chars: int) -> int:
    """Lines greedy wrapping needs (the fewest); a unit longer than a line gets its own."""
    lines, width = 0, 0
    for sep, text in units:
        if lines and width + len(sep) + len(text) <= max_chars:
            width += len(sep) + len(text)
        else:
            lines += 1
            width = len(text)
    return lines


def _wrap(units: Sequence[tuple[str, str]], max_chars: int) -> tuple[str, ...]:
    """Wrap into the fewest lines, then balance them: the longest line as short as possible."""
    n = len(units)
    count = _line_count(units, max_chars)
    if count <= 1:
        return (_joined(units),)

    def width(a: int, b: int) -> int:
        return len(_joined(units[a:b]))

    inf = float("inf")
    # best[k][j]: the smallest possible longest line putting units[:j] on k lines
    best = [[inf] * (n + 1) for _ in range(count + 1)]
    cut = [[0] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0
    for k in range(1, count + 1):
        for j in range(1, n + 1):
            for i in range(j - 1, -1, -1):
                w = width(i, j)
                if w > max_chars and j - i > 1:
                    break
                cost = max(best[k - 1][i], w)
                # on a tie the earliest break wins: the lower line is the longer one
                if cost <= best[k][j]:
                    best[k][j], cut[k][j] = cost, i
    lines: list[str] = []
    j = n
    for k in range(count, 0, -1):
        i = cut[k][j]
        lines.append(_joined(units[i:j]))
        j = i
    return tuple(reversed(lines))


def _chunk(tokens: Sequence[_Token], max_chars: int, max_lines: int,
           max_seconds: float) -> list[list[_Token]]:
    """Cut one speaker run into the token lists of its cues (see the module docstring)."""
    chunks: list[list[_Token]] = []
    n = len(tokens)
    i = 0
    while i < n:
        j = i + 1
        end = tokens[i].end
        paused = False
        while j < n:
            token = tokens[j]
            if token.breakable and token.start - tokens[j - 1].end >= PAUSE_BREAK_SECONDS:
                paused = True
                break
            if max(end, token.end) - tokens[i].start > max_seconds:
                break
            if _line_count(_units(tokens[i:j + 1]), max_chars) > max_lines:
                break
            end = max(end, token.end)
            j += 1
        if j < n and not paused:
            j = _choose_break(tokens, i, j)
        chunks.append(list(tokens[i:j]))
        i = j
    return chunks


def _choose_break(tokens: Sequence[_Token], i: int, j: int) -> int:
    """Where to end the cue starting at ``i`` when ``tokens[i:j]`` is all that fits."""
    full = len(_joined(_units(tokens[i:j])))
    for pattern, share in ((_SENTENCE_END, 1 / 3), (_CLAUSE_END, 1 / 2)):
        for k in range(j, i, -1):
            if not tokens[k].breakable or not pattern.search(tokens[k - 1].text):
                continue
            if len(_joined(_units(tokens[i:k]))) >= share * full:
                return k
            break  # earlier marks would keep even less
    for k in range(j, i, -1):
        if tokens[k].breakable:
            return k
    # no break allowed before j: the cue runs to the end of the unbreakable unit
    k = j
    while k < len(tokens) and not tokens[k].breakable:
        k += 1
    return k


def build_cues(result: Result, *, max_line_chars: int = 42, max_lines: int = 2,
               max_cue_seconds: float = 7.0) -> list[Cue]:
    """The subtitle cues of ``result``, shared by the SRT and VTT writers.

    See the module docstring for the rules. The line limit applies to the spoken
    text; the SRT speaker label comes in front of the first line.
    """
    if max_line_chars < 1 or max_lines < 1 or not max_cue_seconds > 0:
        raise ValueError("max_line_chars and max_lines must be >= 1 and max_cue_seconds > 0")
    raw: list[tuple[float, float, tuple[str, ...], Optional[str]]] = []
    for segment in result.segments:
        has_words = any(w.word.strip() for w in segment.words)
        runs = _word_runs(segment) if has_words else _text_runs(segment)
        for speaker, tokens in runs:
            for chunk in _chunk(tokens, max_line_chars, max_lines, max_cue_seconds):
                lines = _wrap(_units(chunk), max_line_chars)
                raw.append((chunk[0].start, max(t.end for t in chunk), lines, speaker))

    cues: list[Cue] = []
    previous_end = 0
    for start, end, lines, speaker in sorted(raw, key=lambda c: _ms(c[0])):
        start_ms = max(_ms(start), previous_end)
        end_ms = max(_ms(end), start_ms + 1)
        cues.append(Cue(start_ms, end_ms, lines, speaker))
        previous_end = end_ms
    return cues


# --------------------------------------------------------------------------- writers


class ResultWriter:
    """Writes a :class:`Result` in one format to a text file object."""

    extension: str = ""

    def write(self, result: Result, file: TextIO) -> None:
        raise NotImplementedError  # abstract: every format's writer below implements it


class JsonWriter(ResultWriter):
    extension = "json"

    def write(self, result: Result, file: TextIO) -> None:
        json.dump(result_to_dict(result), file, ensure_ascii=False)


class _SubtitleWriter(ResultWriter):
    def __init__(self, *, max_line_chars: int = 42, max_lines: int = 2,
                 max_cue_seconds: float = 7.0) -> None:
        self.max_line_chars = max_line_chars
        self.max_lines = max_lines
        self.max_cue_seconds = max_cue_seconds

    def cues(self, result: Result) -> list[Cue]:
        return build_cues(result, max_line_chars=self.max_line_chars, max_lines=self.max_lines,
                          max_cue_seconds=self.max_cue_seconds)


class SrtWriter(_SubtitleWriter):
    """SubRip: numbered cues, ``HH:MM:SS,mmm``, ``[SPEAKER_00] text``."""

    extension = "srt"

    def write(self, result: Result, file: TextIO) -> None:
        for number, cue in enumerate(self.cues(result), start=1):
            # "-->" inside the text would read as a timing line
            body = "\n".join(line.replace("-->", "->") for line in cue.lines)
            if cue.speaker is not None:
                body = f"[{cue.speaker}] {body}"
            file.write(f"{number}\n{_timestamp(cue.start_ms, ',')} --> "
                       f"{_timestamp(cue.end_ms, ',')}\n{body}\n\n")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class VttWriter(_SubtitleWriter):
    """WebVTT: ``HH:MM:SS.mmm``, speakers as voice spans ``<v SPEAKER_00>text</v>``."""

    extension = "vtt"

    def write(self, result: Result, file: TextIO) -> None:
        file.write("WEBVTT\n\n")
        for cue in self.cues(result):
            body = "\n".join(_vtt_escape(line) for line in cue.lines)
            if cue.speaker is not None:
                body = f"<v {_vtt_escape(cue.speaker)}>{body}</v>"
            file.write(f"{_timestamp(cue.start_ms, '.')} --> {_timestamp(cue.end_ms, '.')}\n{body}\n\n")


class TxtWriter(ResultWriter):
    """Plain text: one line per speaker turn, ``SPEAKER_00: text``.

    Consecutive stretches of the same speaker are one turn; without a speaker
    (diarization off) every segment is a line of its own.
    """

    extension = "txt"

    def write(self, result: Result, file: TextIO) -> None:
        turns: list[tuple[Optional[str], list[str]]] = []
        for segment in result.segments:
            has_words = any(w.word.strip() for w in segment.words)
            for speaker, tokens in (_word_runs(segment) if has_words else _text_runs(segment)):
                text = "".join(t.sep + t.text for t in tokens).strip()
                if speaker is not None and turns and turns[-1][0] == speaker:
                    turns[-1][1].append(text)
                else:
                    turns.append((speaker, [text]))
        for speaker, texts in turns:
            text = " ".join(texts)
            file.write(f"{speaker}: {text}\n" if speaker is not None else f"{text}\n")


_WRITERS: dict[str, type[ResultWriter]] = {
    "json": JsonWriter,
    "srt": SrtWriter,
    "vtt": VttWriter,
    "txt": TxtWriter,
}


def get_writer(fmt: str) -> ResultWriter:
    """The writer for ``fmt`` (one of :data:`FORMATS`, any case)."""
    key = str(fmt).strip().lower()
    if key not in _WRITERS:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return _WRITERS[key]()


def render(result: Result, fmt: str) -> str:
    """``result`` in format ``fmt``, as a string."""
    buffer = io.StringIO()
    get_writer(fmt).write(result, buffer)
    return buffer.getvalue()
