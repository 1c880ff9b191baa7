"""What every result document must satisfy (SPECS.md, "Output"), checked in one place.

:func:`check` takes the JSON dict the writers produce (``writers.result_to_dict``) and lists
every broken promise: tests call it on every transcript they produce, the long-form
benchmark counts its problems by kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .asr.loops import is_loop, word_key

#: The kinds of problem :func:`check` reports, each written once.
KINDS = (
    "order",         # a segment starts before the one listed ahead of it
    "word_order",    # a word starts before the one ahead of it in its segment
    "zero_length",   # a word whose end is not after its start
    "outside",       # a word not inside its segment, or a segment with end before start
    "past_duration",  # a time below 0 or after the document's duration
    "no_speaker",    # a diarized document with a segment or word without a speaker
    "loop",          # a segment whose text repeats itself (loops.is_loop)
    "duplicate",     # one word heard twice: the same word twice at overlapping times
)


@dataclass(frozen=True)
class Problem:
    """One broken promise of a result document."""

    #: one of KINDS
    kind: str
    #: what and where, for a human
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def check(document: dict[str, Any]) -> list[Problem]:
    """Every problem of a result document (``[]`` when it keeps the contract)."""
    duration = document["duration"]
    diarized = bool(document.get("speakers"))
    problems: list[Problem] = []
    previous = None
    for index, segment in enumerate(document["transcription"]["segments"]):
        where = f"segment {index} ({segment['start']:.3f}-{segment['end']:.3f} s)"
        if previous is not None and segment["start"] < previous["start"]:
            problems.append(Problem("order", f"{where} starts before segment {index - 1} "
                                             f"({previous['start']:.3f} s)"))
        problems += _segment_problems(segment, where, duration, diarized)
        previous = segment
    return problems + _duplicates(document["transcription"]["segments"])


def _duplicates(segments: list[dict]) -> list[Problem]:
    """Words said once but given twice: the same word (``loops.word_key``) at overlapping times,
    in one segment or two (two passes that both heard it)."""
    words = sorted((w["start"], w["end"], word_key(w["word"]), w["word"]) for s in segments for w in s["words"])
    problems = []
    for i, (start, end, key, text) in enumerate(words):
        for other in words[i + 1:]:
            if other[0] >= end:
                break
            if key and other[2] == key and min(end, other[1]) > other[0]:
                problems.append(Problem("duplicate", f"{text!r} at {start:.3f}-{end:.3f} s and {other[3]!r} "
                                                     f"at {other[0]:.3f}-{other[1]:.3f} s"))
    return problems


def _segment_problems(segment: dict, where: str, duration: float, diarized: bool) -> list[Problem]:
    problems = []
    start, end = segment["start"], segment["end"]
    if end < start:
        problems.append(Problem("outside", f"{where} ends before it starts"))
    if start < 0 or end > duration:
        problems.append(Problem("past_duration", f"{where} is not within 0-{duration:.3f} s"))
    if diarized and segment.get("speaker") is None:
        problems.append(Problem("no_speaker", f"{where} has no speaker"))
    words = segment.get("words") or []
    if is_loop(segment["text"], [w["word"] for w in words] if words else None):
        problems.append(Problem("loop", f"{where} repeats itself: {segment['text'][:80]!r}"))
    for i, word in enumerate(words):
        what = f"word {word['word']!r} ({word['start']:.3f}-{word['end']:.3f} s) of {where}"
        if word["end"] <= word["start"]:
            problems.append(Problem("zero_length", f"{what} has no duration"))
        if word["start"] < start or word["end"] > end:
            problems.append(Problem("outside", f"{what} is not inside its segment"))
        if i and word["start"] < words[i - 1]["start"]:
            problems.append(Problem("word_order", f"{what} starts before the word ahead of it"))
        if diarized and word.get("speaker") is None:
            problems.append(Problem("no_speaker", f"{what} has no speaker"))
    return problems
