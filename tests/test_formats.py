"""The output formats (writers.py) on hand-built results, read back by independent parsers.

SRT is parsed with the ``srt`` library, WebVTT with ``webvtt-py`` (strict mode), and both are
converted by ffmpeg when it is installed. Cue times and texts are checked against the JSON
document the same result gives, word by word; the JSON, TXT and the registry of formats too.
"""

from __future__ import annotations

import io
import json
import subprocess
from datetime import date

import pytest
import srt
import webvtt

from hearback.document import result_from_dict
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
)
from tests.results import (
    EMPTY,
    FFMPEG,
    NO_WORDS,
    anonymous,
    check_against_json,
    check_layout,
    default_cues,
    meeting,
    ms,
    needs_ffmpeg,
    parse_srt,
    parse_vtt,
    squash,
    turn_order,
)


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


def test_vtt_round_trips_through_webvtt_py():
    result = meeting()
    text = render(result, "vtt")
    assert text.startswith("WEBVTT\n\n")
    cues = parse_vtt(text)
    assert len(cues) == len(default_cues(result))
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
    assert len(doc.captions) == len(default_cues(result))
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
    ours = default_cues(result)
    assert [(ms(s.start), ms(s.end)) for s in subs] == [(c.start_ms, c.end_ms) for c in ours]


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
    assert default_cues(EMPTY) == []


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

