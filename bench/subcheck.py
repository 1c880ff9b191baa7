"""An independent check of subtitle files: parsed back with ``srt`` and ``webvtt-py``, and the
rules of a preset re-implemented here (not Hearback's lint, which must agree with it).
Shared by bench/bench_subtitles.py and the tests."""

from __future__ import annotations

import io
import re

import srt
import webvtt

from hearback.sublint import RULES


def vtt_ms(stamp: str) -> int:
    h, m, rest = stamp.split(":")
    s, frac = rest.split(".")
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac)


def srt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    return [(round(s.start.total_seconds() * 1000), round(s.end.total_seconds() * 1000), s.content.split("\n"))
            for s in srt.parse(text)]


def vtt_cues(text: str) -> list[tuple[int, int, list[str]]]:
    return [(vtt_ms(c.start), vtt_ms(c.end), c.text.split("\n"))
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


def _bare(lines) -> str:
    return re.sub(r"\s", "", "".join(re.sub(r"^(-\s?)?(\[SPEAKER_\d\d\] )?", "", line) for line in lines))


def word_check(cues, document, lead_ms: int) -> tuple[bool, int, int]:
    """(the cues' words equal the JSON's, words whose start lies outside their cue, words)."""
    words = [(re.sub(r"\s", "", w["word"]), round(w["start"] * 1000))
             for seg in document["transcription"]["segments"] for w in seg["words"] if w["word"].strip()]
    shown = [(_bare(lines), start, end) for start, end, lines in cues]
    same = "".join(t for t, _s, _e in shown) == "".join(w for w, _ in words)
    if not same:
        return False, len(words), len(words)
    owner = [k for k, (text, _s, _e) in enumerate(shown) for _ in text]
    outside, pos = 0, 0
    for word, start in words:
        _t, cue_start, cue_end = shown[owner[pos]]
        outside += not (cue_start - lead_ms <= start <= cue_end)
        pos += len(word)
    return True, outside, len(words)
