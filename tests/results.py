"""Hand-built results every case the writers must handle, and subtitles read back by independent
parsers (SRT by the ``srt`` library, WebVTT by ``webvtt-py`` in strict mode), for the format and
cue-layout tests."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
from dataclasses import dataclass
from typing import Optional

import pytest
import srt
import webvtt

from hearback.document import result_to_dict
from hearback.subtitles.cues import build_cues
from hearback.subtitles.presets import preset_limits
from hearback.types import Result, Segment, Word
from hearback.writers import render

MAX_CHARS = 42


FFMPEG = shutil.which("ffmpeg")


needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg not installed")


def spoken(text: str, start: float, speaker: Optional[str], step: float = 0.4,
           length: float = 0.3, lead: str = "") -> tuple[Word, ...]:
    """Words of ``text`` one ``step`` apart, each ``length`` long."""
    return tuple(
        Word(lead + w, round(start + i * step, 3), round(start + i * step + length, 3), 0.9, speaker)
        for i, w in enumerate(text.split())
    )


def segment(words: tuple[Word, ...], speaker: Optional[str], text: Optional[str] = None) -> Segment:
    return Segment(words[0].start, max(w.end for w in words),
                   text if text is not None else " ".join(w.word.strip() for w in words), words, speaker)


LONG = ("So the plan is simple. We ship the beta on Monday, collect feedback for two weeks, "
        "and then decide whether R&D keeps working on it or whether x < y > z really holds "
        "for the budget. Okay?")


NO_WORDS = ("This part has no word timestamps at all, so it is split in proportion to the "
            "characters of its text. It goes on for a while, long enough to need several cues.")


def meeting() -> Result:
    """Two speakers, ~2 h apart at the end; every case the writers must handle."""
    hello = spoken("Hello there, can everyone hear me?", 0.5, "SPEAKER_00", lead=" ")
    long = spoken(LONG, 3.0, "SPEAKER_01")
    # diarization labelled the segment SPEAKER_00, but its words switch speaker
    mixed = (spoken("I agree.", 20.0, "SPEAKER_00") + spoken("Me too.", 21.0, "SPEAKER_01"))
    # words of zero duration, then a segment starting at the very same instant
    zero = (Word("Okay.", 30.0, 30.0, 0.5, "SPEAKER_01"), Word("Sure.", 30.0, 30.0, 0.5, "SPEAKER_01"))
    right = spoken("Right then.", 30.0, "SPEAKER_00")
    late = spoken("And that wraps up the first two hours.", 7325.5, "SPEAKER_01")
    return Result(
        segments=(
            Segment(hello[0].start, hello[-1].end, " Hello there, can everyone hear me?", hello, "SPEAKER_00"),
            segment(long, "SPEAKER_01"),
            Segment(20.0, 22.3, "I agree. Me too.", mixed, "SPEAKER_00"),
            segment(zero, "SPEAKER_01"),
            segment(right, "SPEAKER_00"),
            Segment(40.0, 62.0, NO_WORDS, (), "SPEAKER_00"),
            segment(late, "SPEAKER_01"),
        ),
        language="en",
        duration=7330.0,
        speakers=("SPEAKER_00", "SPEAKER_01"),
        language_probability=0.987654,
    )


def anonymous() -> Result:
    """Diarization off: no speakers anywhere."""
    a = spoken("Testing one two three.", 1.0, None)
    b = spoken("Is this thing on?", 4.0, None)
    return Result((segment(a, None), segment(b, None)), "en", 10.0)


EMPTY = Result((), "en", 5.0)


@dataclass
class Parsed:
    start_ms: int
    end_ms: int
    speaker: Optional[str]
    lines: list[str]
    speakers: tuple = ()

    @property
    def bare(self) -> str:
        return squash("".join(self.lines))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def ms(td) -> int:
    return round(td.total_seconds() * 1000)


LABEL = re.compile(r"^(-\s?)?(?:\[(SPEAKER_\d\d)\] )?")


def parse_srt(text: str) -> list[Parsed]:
    """Cues with their speaker: a label where the speaker changes (carried to the next
    cues), a dash and a label on each line of a dual-speaker cue."""
    subs = list(srt.parse(text))
    assert [s.index for s in subs] == list(range(1, len(subs) + 1))
    out, speaker = [], None
    for sub in subs:
        lines, speakers = [], []
        for line in sub.content.split("\n"):
            match = LABEL.match(line)
            speaker = match.group(2) or speaker
            speakers.append(speaker)
            lines.append(line[match.end():])
        out.append(Parsed(ms(sub.start), ms(sub.end), speakers[0], lines, tuple(dict.fromkeys(speakers))))
    return out


def parse_vtt(text: str) -> list[Parsed]:
    doc = webvtt.from_buffer(io.StringIO(text), strict=True)
    out = []
    for cap in doc.captions:
        voices = tuple(re.findall(r"<v ([^>]+)>", cap.raw_text)) or (None,)
        if cap.voice is not None:
            assert cap.raw_text.startswith(f"<v {cap.voice}>") and cap.raw_text.endswith("</v>")
        lines = [html.unescape(line) for line in cap.text.split("\n")]
        if len(voices) > 1:  # dual-speaker cue: a dash on each line
            lines = [re.sub(r"^-\s?", "", line) for line in lines]
        out.append(Parsed(vtt_ms(cap.start), vtt_ms(cap.end), cap.voice, lines, voices))
    return out


def turn_order(cues: list[Parsed]) -> list[Optional[str]]:
    """Who speaks, in order, consecutive cues of one speaker counted once."""
    speakers = [speaker for c in cues for speaker in c.speakers]
    return [s for n, s in enumerate(speakers) if n == 0 or speakers[n - 1] != s]


def vtt_ms(stamp: str) -> int:
    h, m, rest = stamp.split(":")
    s, frac = rest.split(".")
    return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac)


LEAD_IN_MS = 125  # netflix: a cue may start 3 frames before its first word


GAP_MS = 83  # netflix: 2 frames between cues


def check_against_json(cues: list[Parsed], result: Result) -> None:
    """Walk the JSON document's words and the cues together: every word once, in order, in a
    cue of its speaker, shown while it is spoken (its start inside its cue, give or take the
    lead-in and the gap a cue before it may push the cue's start by)."""
    doc = json.loads(render(result, "json"))
    assert doc == result_to_dict(result)
    pieces = []  # (text without spaces, speaker, start ms or None)
    for seg in doc["transcription"]["segments"]:
        if seg["words"]:
            pieces += [(squash(w["word"]), w["speaker"] or seg["speaker"], round(w["start"] * 1000))
                       for w in seg["words"] if squash(w["word"])]
        else:
            pieces.append((squash(seg["text"]), seg["speaker"], None))
    flat = "".join(p[0] for p in pieces)
    assert "".join(c.bare for c in cues) == flat, "the cues' words are not the JSON's words"
    # each piece's start, located in the cue holding its first character
    bounds, pos = [], 0
    for c in cues:
        bounds.append((pos, pos + len(c.bare), c))
        pos += len(c.bare)
    pos = 0
    for text, speaker, start in pieces:
        cue = next(c for a, b, c in bounds if a <= pos < b)
        assert speaker in cue.speakers, (text, speaker, cue)
        if start is not None:
            assert cue.start_ms - LEAD_IN_MS - GAP_MS <= start <= cue.end_ms, (text, start, cue)
        pos += len(text)
    check_layout(cues)


def check_layout(cues: list[Parsed]) -> None:
    prev_end = 0
    for cue in cues:
        assert cue.end_ms > cue.start_ms
        assert cue.start_ms >= prev_end + (GAP_MS if prev_end else 0), "cues overlap or are too close"
        prev_end = cue.end_ms
        assert 1 <= len(cue.lines) <= 2
        assert all(len(line) <= MAX_CHARS and line == line.strip() and line for line in cue.lines)


def one_segment(text: str, step: float = 0.4, speaker: Optional[str] = "SPEAKER_00") -> Result:
    words = spoken(text, 0.0, speaker, step=step, length=step * 0.75)
    return Result((segment(words, speaker),), "en", words[-1].end + 1)



def default_cues(result: Result) -> list:
    """The cues the default preset (netflix) lays out for ``result``'s language."""
    return build_cues(result, preset_limits("netflix", result.language))
