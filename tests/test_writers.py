"""The output writers (writers.py, cues.py) on hand-built results, read back by independent parsers.

SRT is parsed with the ``srt`` library, WebVTT with ``webvtt-py`` (strict mode), and both
are converted by ffmpeg when it is installed. Cue times and texts are checked against the
JSON document the same result gives, word by word.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from typing import Optional

import pytest
import srt
import webvtt

from hearback.subtitles.cues import CueLimits, build_cues
from hearback.types import Notice, Result, Segment, Word
from hearback.writers import (
    FORMATS,
    WRITERS,
    ExportOptions,
    JsonWriter,
    SrtWriter,
    TxtWriter,
    VttWriter,
    expand_formats,
    get_writer,
    render,
    render_bytes,
    result_from_dict,
    result_to_dict,
)

MAX_CHARS = 42
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg not installed")


# --------------------------------------------------------------------------- building results


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


# --------------------------------------------------------------------------- reading subtitles back


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


# --------------------------------------------------------------------------- SRT


def test_srt_round_trips_through_the_srt_library():
    result = meeting()
    text = render(result, "srt")
    cues = parse_srt(text)
    assert len(cues) == len(SrtWriter().cues(result))  # labels count, so SRT cues may differ from VTT's
    assert len(cues) >= 10
    check_layout(cues)
    check_against_json(cues, result)
    assert squash("".join(c.bare for c in cues)) == squash(result.text)
    # every cue but the zero-length nudge stays within the duration limit
    assert all(c.end_ms - c.start_ms <= 7000 for c in cues)
    assert "[SPEAKER_01] And that wraps up\nthe first two hours." in text
    assert "02:02:05,500 --> 02:02:08,600" in text
    assert "R&D" in text and "x < y > z" in text  # SRT carries the text as is


def test_srt_speaker_changes_inside_a_segment_start_a_new_cue():
    # netflix: two short turns share a dual-speaker cue, one dash line each
    text = render(meeting(), "srt")
    assert "-[SPEAKER_00] I agree.\n-[SPEAKER_01] Me too.\n" in text
    # bbc has no dual-speaker cues: a new cue where the speaker changes
    cues = parse_srt(render(meeting(), "srt", ExportOptions("bbc")))
    mixed = [c for c in cues if 19000 <= c.start_ms < 23000]
    assert [(c.speaker, " ".join(c.lines)) for c in mixed] == [
        ("SPEAKER_00", "I agree."), ("SPEAKER_01", "Me too.")]


def test_zero_duration_words_get_their_reading_time_before_the_next_cue():
    cues = parse_srt(render(meeting(), "srt", ExportOptions("bbc")))
    at30 = [c for c in cues if 28000 <= c.start_ms < 31000]
    # words of zero length at 30.0 s, and the next cue's words at the very same instant:
    # the next cue keeps its start, so the first takes its minimum duration (bbc: 1 s) from
    # the lead-in (bbc: up to 1.5 s) and ends the minimum gap (2 frames) before the next
    assert [(c.start_ms, c.end_ms, c.speaker, " ".join(c.lines)) for c in at30] == [
        (29001, 29917, "SPEAKER_01", "Okay. Sure."),
        (30000, 31500, "SPEAKER_00", "Right then."),
    ]


def test_long_segment_is_broken_into_wrapped_cues():
    cues = [c for c in parse_srt(render(meeting(), "srt")) if 3000 <= c.start_ms < 20000]
    assert len(cues) >= 3
    assert all(c.speaker == "SPEAKER_01" for c in cues)
    assert any(len(c.lines) == 2 for c in cues)
    assert squash("".join(c.bare for c in cues)) == squash(LONG)


@needs_ffmpeg
def test_ffmpeg_reads_the_srt(tmp_path):
    result = meeting()
    src = tmp_path / "meeting.srt"
    with open(src, "w", encoding="utf-8") as f:
        SrtWriter().write(result, f)
    out = tmp_path / "meeting.ass"
    proc = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", str(src), str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    dialogues = [l for l in out.read_text(encoding="utf-8").splitlines() if l.startswith("Dialogue:")]
    assert len(dialogues) == len(SrtWriter().cues(result))
    assert any("2:02:05.50" in d for d in dialogues)  # ASS keeps centiseconds


# --------------------------------------------------------------------------- VTT


def test_vtt_round_trips_through_webvtt_py():
    result = meeting()
    text = render(result, "vtt")
    assert text.startswith("WEBVTT\n\n")
    cues = parse_vtt(text)
    assert len(cues) == len(build_cues(result))
    check_layout(cues)
    check_against_json(cues, result)
    # the same turns in the same order (SRT labels take room, so its cues may be cut elsewhere)
    assert turn_order(cues) == turn_order(parse_srt(render(result, "srt")))
    assert "02:02:05.500 --> 02:02:08.600" in text


def test_vtt_escapes_markup_characters():
    text = render(meeting(), "vtt")
    assert "R&amp;D" in text and "x &lt; y &gt; z" in text
    assert "R&D" not in text and "x < y" not in text
    # escaped text survives the parser: no tag is stripped from it
    joined = " ".join(" ".join(c.lines) for c in parse_vtt(text))
    assert "R&D" in joined and "x < y > z" in joined


def test_vtt_from_file(tmp_path):
    result = meeting()
    path = tmp_path / "meeting.vtt"
    with open(path, "w", encoding="utf-8") as f:
        VttWriter().write(result, f)
    doc = webvtt.read(str(path), strict=True)
    assert len(doc.captions) == len(build_cues(result))
    assert doc.captions[0].voice == "SPEAKER_00"
    assert doc.captions[0].text == "Hello there, can everyone hear me?"
    assert doc.captions[-1].start == "02:02:05.500"


@needs_ffmpeg
def test_ffmpeg_reads_the_vtt(tmp_path):
    result = meeting()
    src = tmp_path / "meeting.vtt"
    src.write_text(render(result, "vtt"), encoding="utf-8")
    out = tmp_path / "from_vtt.srt"
    proc = subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", str(src), str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    subs = list(srt.parse(out.read_text(encoding="utf-8")))
    ours = build_cues(result)
    assert [(ms(s.start), ms(s.end)) for s in subs] == [(c.start_ms, c.end_ms) for c in ours]


# --------------------------------------------------------------------------- cue rules


def one_segment(text: str, step: float = 0.4, speaker: Optional[str] = "SPEAKER_00") -> Result:
    words = spoken(text, 0.0, speaker, step=step, length=step * 0.75)
    return Result((segment(words, speaker),), "en", words[-1].end + 1)


def test_cue_prefers_to_end_after_a_sentence():
    text = "We shipped the release on Monday. Then the bug reports started coming in from everyone."
    cues = build_cues(one_segment(text))
    assert [c.text.replace("\n", " ") for c in cues] == [
        "We shipped the release on Monday.",
        "Then the bug reports started coming in from everyone.",
    ]
    # balanced, broken before a preposition
    assert cues[1].lines == ("Then the bug reports started coming", "in from everyone.")


def test_cue_duration_limit_and_pause_break():
    # slow speech: 20 short words over 20 s must be split by duration, not characters
    cues = build_cues(one_segment(" ".join(["word"] * 20), step=1.0))
    assert len(cues) >= 3
    assert all(c.end - c.start <= 7.0 for c in cues)
    # a pause of 2 s ends a cue even though the text would fit
    words = spoken("Yes.", 0.0, "SPEAKER_00") + spoken("Then we go.", 2.5, "SPEAKER_00")
    cues = build_cues(Result((segment(words, "SPEAKER_00"),), "en", 5.0))
    assert [c.text for c in cues] == ["Yes.", "Then we go."]
    # the pause is a limit like the others: a longer one keeps the two in one cue
    cues = build_cues(Result((segment(words, "SPEAKER_00"),), "en", 5.0), CueLimits(pause_break_seconds=3.0))
    assert [c.text for c in cues] == ["Yes. Then we go."]
    with pytest.raises(ValueError):
        CueLimits(pause_break_seconds=0)


def test_limits_are_parameters_and_an_overlong_word_gets_its_own_line():
    url = "https://example.com/a/very/long/path/that/does/not/fit/on/one/line"
    cues = build_cues(one_segment(f"Please open {url} right now."), CueLimits(max_line_chars=20, max_lines=1))
    lines = [line for c in cues for line in c.lines]
    assert url in lines
    assert all(len(line) <= 20 for line in lines if line != url)
    assert all(len(c.lines) == 1 for c in cues)
    with pytest.raises(ValueError):
        CueLimits(max_line_chars=0)
    # a word after a space may start a line, an opening quote included
    cues = build_cues(one_segment('He said "stop" twice.'), CueLimits(max_line_chars=8, max_lines=4))
    assert cues[0].lines == ("He said", '"stop"', "twice.")


def test_text_without_spaces_is_not_spaced_out():
    words = (Word("今日は", 1.0, 1.5), Word("いい", 1.5, 1.8), Word("天気", 1.8, 2.2), Word("です。", 2.2, 2.8))
    result = Result((Segment(1.0, 2.8, "今日はいい天気です。", words, None),), "ja", 3.0)
    assert [c.text for c in build_cues(result)] == ["今日はいい天気です。"]
    assert render(result, "txt") == "今日はいい天気です。\n"


def test_overlapping_segments_never_give_overlapping_cues():
    a = segment(spoken("First speaker talking here.", 0.0, "SPEAKER_00"), "SPEAKER_00")
    b = segment(spoken("Second one cuts in.", 1.0, "SPEAKER_01"), "SPEAKER_01")
    result = Result((a, b), "en", 5.0)
    # netflix: the two turns share a dual-speaker cue, so every word shows while it is spoken
    cues = parse_srt(render(result, "srt"))
    check_layout(cues)
    assert len(cues) == 1 and cues[0].speakers == ("SPEAKER_00", "SPEAKER_01")
    # bbc (no dual cues): the earlier cue ends 2 frames before the later one's first word
    cues = parse_srt(render(result, "srt", ExportOptions("bbc")))
    check_layout(cues)
    assert cues[0].end_ms == 917 and cues[1].start_ms == 1000


# --------------------------------------------------------------------------- speakers off, empty


def test_no_speaker_gives_no_labels():
    result = anonymous()
    srt_cues = parse_srt(render(result, "srt"))
    assert len(srt_cues) == 2 and all(c.speaker is None for c in srt_cues)
    assert "[" not in render(result, "srt")
    vtt_text = render(result, "vtt")
    assert "<v" not in vtt_text
    vtt_cues = parse_vtt(vtt_text)
    assert [c.speaker for c in vtt_cues] == [None, None]
    check_against_json(srt_cues, result)
    check_against_json(vtt_cues, result)
    assert render(result, "txt") == "Testing one two three.\nIs this thing on?\n"
    doc = json.loads(render(result, "json"))
    assert doc["speakers"] == [] and doc["language_probability"] is None
    assert all(s["speaker"] is None for s in doc["transcription"]["segments"])


def test_empty_result_gives_valid_empty_files():
    assert render(EMPTY, "srt") == ""
    assert list(srt.parse("")) == []
    vtt_text = render(EMPTY, "vtt")
    assert vtt_text == "WEBVTT\n\n"
    assert len(webvtt.from_buffer(io.StringIO(vtt_text), strict=True).captions) == 0
    assert render(EMPTY, "txt") == ""
    assert json.loads(render(EMPTY, "json")) == {
        "transcription": {"text": "", "segments": []}, "speakers": [], "language": "en", "languages": [],
        "language_probability": None, "duration": 5.0, "warnings": [], "turns": []}
    assert build_cues(EMPTY) == []


# --------------------------------------------------------------------------- JSON, TXT, API


def test_json_document_matches_the_result():
    result = Result(
        segments=(
            Segment(0.12345, 1.23456, " Hello there.",
                    (Word(" Hello", 0.12345, 0.5004, 0.931234, "SPEAKER_00"),
                     Word(" there.", 0.6, 1.23456, 0.8, "SPEAKER_00", speaker_inferred=True, overlap=True)),
                    "SPEAKER_00"),
            Segment(2.0, 3.0, "No words here.", (), "SPEAKER_01"),
        ),
        language="en", duration=30.0004, speakers=("SPEAKER_00", "SPEAKER_01"), language_probability=0.99,
        timings={"asr": 1.0},
        warnings=(Notice("audio_damaged", "skipped", 4.00049, 5.5), Notice("alignment_skipped", "no model")),
    )
    doc = json.loads(render(result, "json"))
    assert doc == {
        "transcription": {
            "text": "Hello there. No words here.",
            "segments": [
                {"start": 0.123, "end": 1.235, "text": "Hello there.", "speaker": "SPEAKER_00",
                 "language": "en", "loop_collapsed": False, "words": [
                    {"word": "Hello", "start": 0.123, "end": 0.5, "speaker": "SPEAKER_00",
                     "probability": 0.9312, "speaker_inferred": False, "overlap": False},
                    {"word": "there.", "start": 0.6, "end": 1.235, "speaker": "SPEAKER_00",
                     "probability": 0.8, "speaker_inferred": True, "overlap": True}]},
                {"start": 2.0, "end": 3.0, "text": "No words here.", "speaker": "SPEAKER_01",
                 "language": "en", "loop_collapsed": False, "words": []},
            ],
        },
        "speakers": ["SPEAKER_00", "SPEAKER_01"],
        "language": "en",
        "languages": [{"language": "en", "share": 1.0}],
        "language_probability": 0.99,
        "duration": 30.0,
        "warnings": [{"code": "audio_damaged", "message": "skipped", "start": 4.0, "end": 5.5},
                     {"code": "alignment_skipped", "message": "no model"}],
        "turns": [],
    }
    # the subtitles use the very same milliseconds as the JSON document
    # (the cue ends later: 25 characters shown, label included, need 1.25 s at 20 per second)
    assert render(result, "srt").startswith("1\n00:00:00,123 --> 00:00:01,373\n[SPEAKER_00] Hello there.\n")


def test_txt_one_line_per_speaker_turn():
    lines = render(meeting(), "txt").splitlines()
    assert lines[0] == "SPEAKER_00: Hello there, can everyone hear me?"
    assert lines[1].startswith("SPEAKER_01: So the plan is simple.") and lines[1].endswith("Okay?")
    assert lines[2] == "SPEAKER_00: I agree."
    assert lines[3] == "SPEAKER_01: Me too. Okay. Sure."
    assert lines[4] == f"SPEAKER_00: Right then. {NO_WORDS}"
    assert lines[5] == "SPEAKER_01: And that wraps up the first two hours."
    assert len(lines) == 6


def test_get_writer_and_render():
    classes = {"json": JsonWriter, "srt": SrtWriter, "vtt": VttWriter, "txt": TxtWriter}
    for fmt in classes:
        writer = get_writer(fmt)
        assert isinstance(writer, classes[fmt]) and writer.extension == fmt
        buffer = io.StringIO()
        writer.write(meeting(), buffer)
        assert buffer.getvalue() == render(meeting(), fmt)
    for bad in ("ass", "", "json5"):
        with pytest.raises(ValueError):
            get_writer(bad)
        with pytest.raises(ValueError):
            render(meeting(), bad)


def test_one_registry_of_formats_and_all():
    assert FORMATS == tuple(WRITERS) == ("json", "srt", "vtt", "txt", "tsv", "rttm", "docx")
    assert expand_formats("all") == expand_formats(" ALL ") == FORMATS
    assert expand_formats("srt") == expand_formats("SRT") == ("srt",)
    for bad in ("ass", "", "all,srt"):
        with pytest.raises(ValueError, match="unknown output format"):
            expand_formats(bad)
    with pytest.raises(ValueError):
        get_writer("all")  # one writer per format; "all" is expanded first


def test_every_format_renders_the_same_from_the_json_document():
    """Stored jobs keep the JSON document and render exports from it: nothing may differ."""
    for result in (meeting(), anonymous(), EMPTY):
        document = json.loads(render(result, "json"))
        back = result_from_dict(document)
        for fmt in FORMATS:
            options = ExportOptions(on=date(2026, 1, 2))  # a DOCX shows its date
            assert render_bytes(back, fmt, options) == render_bytes(result, fmt, options), fmt
