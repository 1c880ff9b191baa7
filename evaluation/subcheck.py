"""An independent check of subtitle files: parsed back with ``srt`` and ``webvtt-py``, and the
rules of a preset re-implemented here (not Hearback's lint, which must agree with it).
Shared by bench/bench_subtitles.py and the tests."""

from __future__ import annotations

import html
import io
import re

import srt
import webvtt

from hearback.subtitles.lint import RULES


def vtt_ms(stamp: str) -> int:
    h, m, rest = stamp.split(":")
    s, frac = rest.split(".")
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac)


def srt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    return [(round(s.start.total_seconds() * 1000), round(s.end.total_seconds() * 1000), s.content.split("\n"))
            for s in srt.parse(text)]


def vtt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    """(start ms, end ms, lines) per caption; webvtt-py strips tags but keeps escapes (&amp;)."""
    return [(vtt_ms(c.start), vtt_ms(c.end), html.unescape(c.text).split("\n"))
            for c in webvtt.from_buffer(io.StringIO(text), strict=True).captions]


def independent_lint(cues, limits) -> dict[str, int]:
    """The preset's rules on parsed (start ms, end ms, lines) cues."""
    breaks = dict.fromkeys([r.name for r in RULES], 0)
    gap = round(limits.min_gap_seconds * 1000)
    for i, (start, end, lines) in enumerate(cues):
        seconds = (end - start) / 1000
        breaks["max_line_chars"] += any(len(line) > limits.max_line_chars for line in lines)
        breaks["max_lines"] += len(lines) > limits.max_lines
        breaks["max_cue_seconds"] += seconds > limits.max_cue_seconds + 1e-9
        breaks["max_cps"] += sum(len(line) for line in lines) / seconds > limits.max_cps + 1e-9
        breaks["min_cue_seconds"] += end - start < round(limits.min_cue_seconds * 1000) - 1
        if i + 1 < len(cues):
            breaks["overlap"] += cues[i + 1][0] < end
            breaks["min_gap_seconds"] += end <= cues[i + 1][0] < end + gap
    return breaks


def is_dual(lines) -> bool:
    """A dual-speaker cue: every one of its two or more lines starts with a dash."""
    return len(lines) > 1 and all(line.startswith("-") for line in lines)


#: the SRT label ``speaker_labels: "bracket"`` starts a line with: ``[SPEAKER_00] `` or a
#: one-word name (``[Diane] ``)
LABEL = re.compile(r"^\[[^\[\]\s]+\] ")


def strip_prefix(line: str, dual: bool) -> str:
    """A line without its dual-speaker dash (``dual``) and its SRT speaker label; a word that
    itself starts with a dash (Whisper writes "-" for a cut-off word) is kept."""
    return LABEL.sub("", re.sub(r"^-\s?", "", line) if dual else line)


def _bare(lines) -> str:
    dual = is_dual(lines)
    return re.sub(r"\s", "", "".join(strip_prefix(line, dual) for line in lines))


def cue_words(cues, document) -> list[list[tuple[str, int, int]]] | None:
    """The JSON's words (text, start ms, end ms) each cue shows, or None when the cues do not
    show every word of the JSON exactly once, in its order. A cue takes consecutive words of
    one segment at a time (two for a dual-speaker cue); segments may overlap in time, so a
    cue takes the next words of whichever segment's next words spell it, earliest first."""
    segments = [[(re.sub(r"\s", "", w["word"]), round(w["start"] * 1000), round(w["end"] * 1000))
                 for w in seg["words"] if w["word"].strip()] for seg in document["transcription"]["segments"]]
    pointer = [0] * len(segments)
    shown: list[list[tuple[str, int, int]]] = []
    for _start, _end, lines in cues:
        rest, taken = _bare(lines), []
        while rest:
            options = [i for i, words in enumerate(segments)
                       if pointer[i] < len(words) and rest.startswith(words[pointer[i]][0])]
            if not options:
                return None
            i = min(options, key=lambda k: segments[k][pointer[k]][1])
            while pointer[i] < len(segments[i]) and rest.startswith(segments[i][pointer[i]][0]):
                word = segments[i][pointer[i]]
                taken.append(word)
                rest, pointer[i] = rest[len(word[0]):], pointer[i] + 1
        shown.append(taken)
    return shown if all(p == len(words) for p, words in zip(pointer, segments)) else None


def word_check(cues, document, lead_ms: int) -> tuple[bool, int, int]:
    """(the cues' words equal the JSON's, words whose start lies outside their cue give or
    take ``lead_ms``, words)."""
    count = sum(1 for seg in document["transcription"]["segments"] for w in seg["words"] if w["word"].strip())
    shown = cue_words(cues, document)
    if shown is None:
        return False, count, count
    outside = sum(1 for (start, end, _lines), words in zip(cues, shown)
                  for _w, word_start, _e in words if not start - lead_ms <= word_start <= end)
    return True, outside, count
