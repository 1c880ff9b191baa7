"""Subtitles to a published standard: presets, timing, line breaks, speakers, French
typography, karaoke VTT and the lint report.

Hand-built results check each rule on its own; the real pipeline on the pyannote sample
and a French FLEURS clip checks them all together, read back by independent parsers
(``srt``, ``webvtt-py``) and an independent lint written here, not Hearback's.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from typing import Optional

import pytest
import webvtt

from evaluation.subcheck import independent_lint, srt_cues, vtt_cues, vtt_ms, word_check
from hearback.document import result_to_dict
from hearback.errors import ErrorCode, HearbackError
from hearback.schema import HandlerInput, parse
from hearback.subtitles.cues import build_cues
from hearback.subtitles.linebreak import break_penalty
from hearback.subtitles.lint import RULES, lint
from hearback.subtitles.presets import PRESETS, preset_limits
from hearback.subtitles.timing import Spoken, cue_times
from hearback.types import Options, Result, Segment, Word
from hearback.writers import ExportOptions, lint_report, render
from tests.results import default_cues

NBSP = "\u00a0"


def words_of(text: str, start: float, speaker: Optional[str], step: float = 0.3) -> tuple[Word, ...]:
    return tuple(Word(w, round(start + i * step, 3), round(start + i * step + step * 0.8, 3), 0.9, speaker)
                 for i, w in enumerate(text.split()))


def result_of(*turns: tuple[str, float, Optional[str]], language: str = "en", step: float = 0.3) -> Result:
    segments = []
    for text, start, speaker in turns:
        words = words_of(text, start, speaker, step)
        segments.append(Segment(words[0].start, words[-1].end, text, words, speaker))
    speakers = tuple(dict.fromkeys(s for _t, _s, s in turns if s))
    return Result(tuple(segments), language, segments[-1].end + 2.0, speakers)


# --------------------------------------------------------------------------- reading back


def check_words(cues, document: dict, lead_ms: int) -> None:
    """The cues' words are the JSON's words, in order, none lost or doubled, and each word's
    start lies inside its cue (give or take the lead-in the preset allows)."""
    same, outside, count = word_check(cues, document, lead_ms)
    assert same and count > 0, "the cues' words are not the JSON's words"
    assert outside == 0, f"{outside} of {count} words start outside their cue"


# --------------------------------------------------------------------------- presets


def test_presets_carry_the_guides_numbers_and_take_overrides():
    netflix_en, netflix_fr = preset_limits("netflix", "en"), preset_limits("netflix", "fr")
    assert (netflix_en.max_cps, netflix_fr.max_cps) == (20.0, 17.0)
    assert netflix_en.max_line_chars == 42 and netflix_en.max_lines == 2
    assert netflix_en.min_cue_seconds == pytest.approx(5 / 6) and netflix_en.max_cue_seconds == 7.0
    assert netflix_en.min_gap_seconds == pytest.approx(2 / 24)
    assert netflix_en.lead_in_seconds == pytest.approx(3 / 24) and netflix_en.lead_out_seconds == 0.5
    assert netflix_en.late_start_seconds == pytest.approx(3 / 24)  # "within 3 frames of the audio"
    bbc = preset_limits("bbc", "en")
    assert bbc.max_line_chars == 37 and not bbc.dual_speakers and bbc.late_start_seconds == 0
    assert preset_limits("netflix", "de") == preset_limits("netflix", "fr")  # no guide of its own
    assert preset_limits("BBC", "en", {"max_cps": 12, "max_lines": 3}).max_cps == 12.0
    for bad in ("hbo", ""):
        with pytest.raises(ValueError, match="subtitle_style"):
            preset_limits(bad)
    with pytest.raises(ValueError, match="unknown subtitle limit"):
        preset_limits("netflix", "en", {"pause": 1})
    assert set(PRESETS) == {"netflix", "bbc"}


def test_job_input_validates_style_and_overrides():
    ok = parse(HandlerInput, {"audio_url": "https://x.test/a.wav", "subtitle_style": "bbc", "max_cps": 15,
                              "speaker_labels": "colon", "highlight_words": True})
    export = ok.to_export()
    assert export.limits("en").max_cps == 15.0 and export.limits("en").max_line_chars == 37
    for bad in ({"subtitle_style": "hbo"}, {"max_line_chars": 5}, {"max_cps": "20"},
                {"min_cue_seconds": 8.0, "max_cue_seconds": 5.0}, {"speaker_labels": "bold"}):
        with pytest.raises(HearbackError) as info:
            parse(HandlerInput, {"audio_url": "https://x.test/a.wav", **bad})
        assert info.value.code == ErrorCode.INVALID_INPUT, bad


# --------------------------------------------------------------------------- timing


def test_a_short_cue_lingers_to_the_minimum_duration_without_touching_the_next():
    result = result_of(("Yes.", 1.0, "A"), ("Then we will start the review now.", 1.6, "B"), step=0.25)
    cues = build_cues(result, preset_limits("bbc", "en"))
    first, second = cues[0], cues[1]
    assert first.text == "Yes."
    assert second.start_ms - first.end_ms >= 83  # 2 frames
    assert first.start_ms >= 1000 - 1500  # bbc: at most 1.5 s before the word
    assert first.end_ms - first.start_ms >= 500  # it grew from its 0.2 s


def test_reading_speed_extends_the_end_by_at_most_the_lead_out():
    limits = preset_limits("netflix", "en")
    # "Absolutely extraordinary circumstances.": 39 characters spoken from 2.0 s to 2.84 s
    [(start, end)] = cue_times([Spoken(2000, 2840, 2600, 39)], limits)
    assert end == 2840 + 500  # 12 frames after the last word
    assert start == 2000 - 125  # and 3 frames before the first
    assert 39 / ((end - start) / 1000) > 20  # 39 chars in 1.465 s: still over 20 per second


def test_close_cues_are_chained_and_never_overlap():
    result = result_of(("We start at nine.", 0.0, "A"), ("Then lunch.", 1.6, "B"),
                       ("Overlapping words here.", 2.0, "C"), step=0.3)
    cues = build_cues(result, preset_limits("bbc", "en"))
    for a, b in zip(cues, cues[1:]):
        assert b.start_ms - a.end_ms >= 83
    # 0.36 s between the first two: chained, the gap closed to 2 frames
    assert cues[1].start_ms - cues[0].end_ms in (83, 84)


def test_a_cue_short_of_time_may_start_the_next_up_to_three_frames_late():
    limits = replace(preset_limits("netflix", "en"), dual_speakers=False)
    result = result_of(("Yes, exactly right.", 1.0, "A"), ("Then we should go now and see.", 1.82, "B"), step=0.2)
    first, second = build_cues(result, limits)
    # 19 characters need 0.95 s; the next words leave 0.862 s: the next cue starts 88 ms late
    assert first.end_ms - first.start_ms >= 950 and 0 < second.start_ms - 1820 <= 125
    assert second.start_ms - first.end_ms in (83, 84)
    assert lint([first, second], limits, "netflix").breaks["max_cps"] == 0
    # without that allowance (the BBC guidelines give none) the first cue reads too fast
    strict = replace(limits, late_start_seconds=0.0)
    first, second = build_cues(result, strict)
    assert second.start_ms == 1820 and lint([first, second], strict, "netflix").breaks["max_cps"] == 1


def test_a_cue_short_of_time_takes_its_lead_in_before_it_pushes_the_next():
    limits = preset_limits("netflix", "en")
    # 30 characters need 1.5 s; the next cue's words begin 1.1 s after this cue's
    short, following = Spoken(1000, 1800, 1600, 30), Spoken(2100, 3000, 2900, 10)
    assert cue_times([short, following], limits) == [(875, 2017), (2100, 3000)]  # lead-in only
    # allowed to push: the 3-frame lead-in first, then the next cue starts up to 3 frames late
    assert cue_times([short, following], limits, [True, False]) == [(875, 2142), (2225, 3058)]


# --------------------------------------------------------------------------- cutting


def test_a_fast_stretch_shares_a_cue_with_slower_words():
    slow = "We looked at all of the numbers from last year"
    fast = "and honestly they are much better than any of us expected."
    first = words_of(slow, 0.0, "A", step=0.45)
    second = words_of(fast, first[-1].end + 0.1, "A", step=0.13)
    result = Result((Segment(0.0, second[-1].end, f"{slow} {fast}", first + second, "A"),), "en",
                    second[-1].end + 3.0, ("A",))
    limits = preset_limits("netflix", "en")
    cues = build_cues(result, limits)
    # filling each cue in turn leaves the fast end alone in a cue too short to read (one break);
    # weighing every cut finds one where each cue reads in time
    assert lint(cues, limits, "netflix").breaks == dict.fromkeys([r.name for r in RULES], 0)
    assert " ".join(" ".join(c.lines) for c in cues) == f"{slow} {fast}"


def test_cues_run_on_across_segments_of_one_speaker_until_a_pause():
    result = result_of(("We met on Monday.", 0.0, "A"), ("Then we left.", 1.5, "A"), ("Much later.", 5.0, "A"))
    assert [c.text for c in build_cues(result, preset_limits("netflix", "en"))] == ["We met on Monday. Then we left.", "Much later."]


def test_the_end_of_a_turn_and_the_start_of_the_next_share_a_dual_speaker_cue():
    limits = preset_limits("netflix", "en")
    text = "We went through every line of the budget and it all adds up, thank you."
    first = words_of(text, 0.0, "A", step=0.3)
    second = words_of("Right, so the hiring plan is next on our list for today.", first[-1].start + 0.35, "B", step=0.2)
    result = Result((Segment(0.0, first[-1].end, text, first, "A"),
                     Segment(second[0].start, second[-1].end, "Right, so the hiring plan is next on our list for today.",
                             second, "B")), "en", second[-1].end + 3.0, ("A", "B"))

    def labels(speaker: str) -> str:
        return f"[{speaker}] "

    cues = build_cues(result, limits, labels)
    # neither turn fits one line, but A's last words and B's first share a cue, so the
    # label B's turn starts with has the time to be read
    assert ("-and it all adds up, thank you.", "-[B] Right,") in [c.lines for c in cues]
    assert lint(cues, limits, "netflix").breaks["max_cps"] == 0
    apart = replace(limits, dual_speakers=False)
    assert lint(build_cues(result, apart, labels), apart, "netflix").breaks["max_cps"] == 1


def test_segments_overlapping_in_time_give_cues_in_time_order():
    # AMI tst00 as Whisper base heard it: a second-pass segment ("Yeah.") and the next one
    # ("Not at all.") start inside a segment of the same speaker that is still going
    what = (Word("Does", 19.112, 19.212, 0.9, "SPEAKER_01"), Word("anybody", 19.212, 19.372, 0.9, "SPEAKER_01"),
            Word("What", 20.17, 21.05, 0.9, "SPEAKER_01"), Word("the", 21.05, 21.73, 0.9, "SPEAKER_01"))
    yeah = (Word("Yeah.", 20.732, 20.932, 0.9, "SPEAKER_01"),)
    not_at_all = words_of("Not at all.", 21.392, "SPEAKER_01", step=0.18)
    before = words_of("Look at all these things, man.", 16.0, "SPEAKER_00", step=0.3)
    result = Result(tuple(Segment(w[0].start, max(x.end for x in w), " ".join(x.word for x in w), w, w[0].speaker)
                          for w in (before, what, yeah, not_at_all)), "en", 25.0, ("SPEAKER_00", "SPEAKER_01"))
    document = result_to_dict(result)
    for fmt, parse_cues in (("srt", srt_cues), ("vtt", vtt_cues)):
        cues = parse_cues(render(result, fmt))
        assert [start for start, _end, _lines in cues] == sorted(start for start, _end, _lines in cues)
        check_words(cues, document, 125 + 84)  # "Not at all." shows while it is spoken


# --------------------------------------------------------------------------- line breaks


def test_line_breaks_follow_the_guides():
    assert break_penalty("hello,", "and", "en") < break_penalty("the", "White", "en")
    assert break_penalty("Barack", "Obama", "en") > break_penalty("Obama", "at", "en")
    assert break_penalty("le", "chat", "fr") > break_penalty("chat,", "mais", "fr")
    text = "Yesterday I met Barack Obama at the White House in Washington."
    cue = build_cues(result_of((text, 0.0, None)), preset_limits("netflix", "en"))[0]
    assert cue.lines == ("Yesterday I met Barack Obama", "at the White House in Washington.")
    # bottom-heavy when the lines cannot be equal
    text = "We should probably go now, because it is getting rather late."
    cue = build_cues(result_of((text, 0.0, None)), preset_limits("netflix", "en"))[0]
    assert cue.lines == ("We should probably go now,", "because it is getting rather late.")


# --------------------------------------------------------------------------- speakers


def test_srt_labels_where_the_speaker_changes_in_three_styles():
    result = result_of(("Good morning everyone, and welcome to the weekly review meeting.", 0.0, "SPEAKER_00"),
                       ("Thanks, glad to be here with all of you again today.", 6.0, "SPEAKER_01"),
                       ("Let us begin with the budget figures for this quarter.", 12.0, "SPEAKER_01"))
    text = render(result, "srt")
    assert text.count("[SPEAKER_00] ") == 1 and text.count("[SPEAKER_01] ") == 1
    assert render(result, "srt", ExportOptions(speaker_labels="colon")).count("SPEAKER_01: ") == 1
    assert "SPEAKER" not in render(result, "srt", ExportOptions(speaker_labels="none"))
    vtt = render(result, "vtt")
    assert len(webvtt.from_buffer(io.StringIO(vtt)).captions) == vtt.count("<v ")  # every cue


def test_labels_only_where_the_speaker_changes_and_never_for_one_voice():
    one = result_of(("Good morning everyone.", 0.0, "SPEAKER_00"), ("Let us begin.", 3.0, "SPEAKER_00"))
    assert "SPEAKER" not in render(one, "srt")
    # a dual-speaker cue after the first speaker's own cue labels only the new speaker
    two = result_of(("Good morning everyone, and welcome to the weekly review.", 0.0, "SPEAKER_00"),
                    ("Okay.", 5.0, "SPEAKER_00"), ("Thanks.", 5.3, "SPEAKER_01"), step=0.15)
    text = render(two, "srt")
    assert "-Okay.\n-[SPEAKER_01] Thanks." in text and text.count("[SPEAKER_00]") == 1


def test_two_short_turns_share_a_dual_speaker_cue():
    result = result_of(("Are you coming?", 1.0, "SPEAKER_00"), ("In a minute.", 1.8, "SPEAKER_01"), step=0.2)
    en = default_cues(result)
    assert len(en) == 1 and en[0].lines == ("-Are you coming?", "-In a minute.")
    vtt = render(result, "vtt")
    assert "<v SPEAKER_00>-Are you coming?</v>\n<v SPEAKER_01>-In a minute.</v>" in vtt
    fr = result_of(("Tu viens ?", 1.0, "SPEAKER_00"), ("Une minute.", 1.8, "SPEAKER_01"), language="fr", step=0.2)
    assert [c.lines for c in default_cues(fr)] == [(f"- Tu viens{NBSP}?", "- Une minute.")]
    assert len(build_cues(result, preset_limits("bbc", "en"))) == 2  # bbc: no dual cues


def test_french_typography():
    result = result_of(("Il a dit « bonjour » : vraiment? Oui !", 0.0, None), language="fr")
    line = default_cues(result)[0].text
    assert line == f"Il a dit «{NBSP}bonjour{NBSP}»{NBSP}: vraiment{NBSP}? Oui{NBSP}!"
    assert render(result_of(("Really? Yes: sure!", 0.0, None)), "srt").count(NBSP) == 0  # English untouched


def test_karaoke_vtt_word_times_lie_inside_their_cues():
    result = result_of(("One two three four five six seven eight nine ten eleven twelve thirteen "
                        "fourteen fifteen sixteen seventeen eighteen nineteen twenty", 0.0, "SPEAKER_00"))
    vtt = render(result, "vtt", ExportOptions(highlight_words=True))
    doc = webvtt.from_buffer(io.StringIO(vtt), strict=True)
    assert len(doc.captions) >= 2
    stamps_seen = 0
    for cap in doc.captions:
        stamps = [vtt_ms(s) for s in re.findall(r"<(\d\d:\d\d:\d\d\.\d{3})>", cap.raw_text)]
        stamps_seen += len(stamps)
        assert stamps == sorted(set(stamps))
        assert all(vtt_ms(cap.start) < s < vtt_ms(cap.end) for s in stamps)
    assert stamps_seen == len(result.segments[0].words) - len(doc.captions)  # every word but each cue's first


# --------------------------------------------------------------------------- lint


def test_lint_counts_each_rule_and_agrees_with_the_independent_lint():
    result = result_of(("Hi.", 0.0, "A"), ("This sentence is spoken much faster than anyone could read it.", 3.0, "A"),
                       step=0.08)
    limits = preset_limits("netflix", "en")
    text = render(result, "srt")
    report = lint_report(result, "srt")
    assert report["preset"] == "netflix" and report["cues"] == len(srt_cues(text))
    assert report["breaks"] == independent_lint(srt_cues(text), limits)
    assert report["breaks"]["max_cps"] >= 1  # the fast sentence
    assert all(report["breaks"][name] == 0 for name in report["hard_rules"])


# --------------------------------------------------------------------------- the real pipeline


@pytest.mark.parametrize("style", ["netflix", "bbc"])
def test_sample_subtitles_keep_the_hard_rules_and_every_word(sample_result, style):
    document = result_to_dict(sample_result)
    options = ExportOptions(style)
    limits = options.limits("en")
    for fmt, parse_cues in (("srt", srt_cues), ("vtt", vtt_cues)):
        text = render(sample_result, fmt, options)
        cues = parse_cues(text)
        breaks = independent_lint(cues, limits)
        assert {k: breaks[k] for k in ("max_line_chars", "max_lines", "max_cue_seconds", "overlap",
                                       "min_gap_seconds")} == dict.fromkeys(
            ["max_line_chars", "max_lines", "max_cue_seconds", "overlap", "min_gap_seconds"], 0), (fmt, text)
        assert breaks == lint_report(sample_result, fmt, options)["breaks"]
        check_words(cues, document, round(limits.lead_in_seconds * 1000) + 84)


def test_french_clip_gets_french_typography_and_keeps_the_rules(pipeline_base, testdata):
    result = pipeline_base.transcribe_file(testdata / "asr" / "fleurs" / "fr-001.ogg", Options(language="fr"))
    text = render(result, "srt")
    cues = srt_cues(text)
    breaks = independent_lint(cues, preset_limits("netflix", "fr"))
    assert all(breaks[r.name] == 0 for r in RULES if r.hard), text
    assert not re.search(r"[^\W\d][?!:;]", text)  # never glued to the word before
    check_words(cues, result_to_dict(result), 125 + 84)
    json.dumps(lint_report(result, "srt"))
