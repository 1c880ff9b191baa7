"""Where cues break and how long they show (the subtitle engine, subtitles/), on hand-built results:
sentence ends, the duration limit and pauses, limits as parameters, scripts without spaces,
overlapping segments and words of zero duration."""

from __future__ import annotations

import pytest

from hearback.subtitles.cues import CueLimits, build_cues
from hearback.types import Result, Segment, Word
from hearback.writers import ExportOptions, render
from tests.results import LONG, check_layout, default_cues, meeting, one_segment, parse_srt, segment, spoken, squash


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


def test_cue_prefers_to_end_after_a_sentence():
    text = "We shipped the release on Monday. Then the bug reports started coming in from everyone."
    cues = default_cues(one_segment(text))
    assert [c.text.replace("\n", " ") for c in cues] == [
        "We shipped the release on Monday.",
        "Then the bug reports started coming in from everyone.",
    ]
    # balanced, broken before a preposition
    assert cues[1].lines == ("Then the bug reports started coming", "in from everyone.")


def test_cue_duration_limit_and_pause_break():
    # slow speech: 20 short words over 20 s must be split by duration, not characters
    cues = default_cues(one_segment(" ".join(["word"] * 20), step=1.0))
    assert len(cues) >= 3
    assert all(c.end - c.start <= 7.0 for c in cues)
    # a pause of 2 s ends a cue even though the text would fit
    words = spoken("Yes.", 0.0, "SPEAKER_00") + spoken("Then we go.", 2.5, "SPEAKER_00")
    cues = default_cues(Result((segment(words, "SPEAKER_00"),), "en", 5.0))
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
    assert [c.text for c in default_cues(result)] == ["今日はいい天気です。"]
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

