"""Word-to-speaker assignment rules (assign.py), on hand-built turns and words.

The pipeline tests cover the same code on real audio; these pin each rule down.
"""

from __future__ import annotations

from hearback.assign import assign_speakers
from hearback.types import Diarization, Segment, Transcript, Turn, Word


def transcript(*words: tuple[str, float, float]) -> Transcript:
    ws = tuple(Word(w, s, e) for w, s, e in words)
    return Transcript((Segment(ws[0].start, ws[-1].end, " ".join(w.word for w in ws), ws),), "en")


def diar(*turns: tuple[float, float, str], exclusive=None) -> Diarization:
    ts = tuple(Turn(s, e, spk) for s, e, spk in turns)
    ex = tuple(Turn(s, e, spk) for s, e, spk in exclusive) if exclusive is not None else ts
    return Diarization(ts, ex)


def test_split_where_speaker_changes_and_inputs_untouched():
    t = transcript(("Hello?", 0.0, 0.5), ("Hi,", 1.0, 1.3), ("there.", 1.3, 1.6))
    d = diar((0.0, 0.6, "SPEAKER_00"), (0.9, 2.0, "SPEAKER_01"))
    segments = assign_speakers(t, d)
    assert [(s.speaker, s.text) for s in segments] == [("SPEAKER_00", "Hello?"), ("SPEAKER_01", "Hi, there.")]
    assert segments[1].start == 1.0 and segments[1].end == 1.6
    assert t.segments[0].words[0].speaker is None  # the input was not mutated


def test_word_outside_every_turn_gets_nearest_speaker_and_is_flagged():
    t = transcript(("one", 0.0, 0.4), ("two", 0.5, 0.9), ("three", 3.0, 3.4))
    d = diar((0.0, 1.0, "SPEAKER_00"), (3.6, 5.0, "SPEAKER_01"))
    words = [w for s in assign_speakers(t, d) for w in s.words]
    assert [w.word for w in words] == ["one", "two", "three"]  # nothing dropped
    assert words[2].speaker == "SPEAKER_01" and words[2].speaker_inferred
    assert not words[0].speaker_inferred


def test_overlap_flag_uses_regular_turns_and_speaker_uses_exclusive():
    t = transcript(("yes", 1.0, 1.4), ("no", 2.0, 2.4))
    d = diar((0.0, 3.0, "SPEAKER_00"), (0.9, 1.5, "SPEAKER_01"),
             exclusive=[(0.0, 0.9, "SPEAKER_00"), (0.9, 1.5, "SPEAKER_01"), (1.5, 3.0, "SPEAKER_00")])
    words = [w for s in assign_speakers(t, d) for w in s.words]
    assert words[0].overlap and words[0].speaker == "SPEAKER_01"
    assert not words[1].overlap


def test_weak_one_word_flip_flop_is_undone():
    # "and" lies in a gap; the nearest turn is a sliver of SPEAKER_01, so it is inferred (weak).
    t = transcript(("so", 0.0, 0.3), ("and", 0.35, 0.6), ("then", 0.7, 1.0))
    d = diar((0.0, 0.3, "SPEAKER_00"), (0.7, 1.0, "SPEAKER_00"), (0.6, 0.65, "SPEAKER_01"))
    segments = assign_speakers(t, d)
    assert len(segments) == 1 and segments[0].speaker == "SPEAKER_00"


def test_firm_one_word_reply_is_kept():
    t = transcript(("Hello?", 0.0, 0.5), ("Hello?", 0.9, 1.4), ("Oh,", 1.8, 2.0), ("hello.", 2.0, 2.4))
    d = diar((0.0, 0.6, "SPEAKER_00"), (0.8, 1.5, "SPEAKER_01"), (1.7, 2.5, "SPEAKER_00"))
    segments = assign_speakers(t, d)
    assert [s.speaker for s in segments] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]


def test_segment_without_words_takes_longest_overlap():
    seg = Segment(0.0, 2.0, "mm-hmm right")
    d = diar((0.0, 0.5, "SPEAKER_00"), (0.5, 2.0, "SPEAKER_01"))
    (out,) = assign_speakers(Transcript((seg,), "en"), d)
    assert out.speaker == "SPEAKER_01" and out.text == "mm-hmm right"


def test_no_turns_at_all_still_gives_every_word_a_speaker():
    t = transcript(("hm", 0.0, 0.2))
    (out,) = assign_speakers(t, Diarization((), ()))
    assert out.speaker == "SPEAKER_00" and out.words[0].speaker_inferred


def test_sentence_edges_follow_the_sentence_majority():
    # "Neither did I." — Whisper's "I." drifted past the turn change into the next speaker's turn.
    t = transcript(("Neither", 9.96, 10.2), ("did", 10.2, 10.42), ("I.", 10.42, 10.64),
                   ("Okay.", 10.64, 10.98), ("I", 11.1, 11.3), ("thought", 11.3, 11.5), ("so.", 11.5, 11.9))
    d = diar((9.9, 10.51, "SPEAKER_01"), (10.51, 12.0, "SPEAKER_00"))
    segments = assign_speakers(t, d)
    assert [(s.speaker, s.text) for s in segments] == [
        ("SPEAKER_01", "Neither did I."), ("SPEAKER_00", "Okay. I thought so.")]


def test_long_runs_inside_one_sentence_are_kept():
    words = [(f"w{i}", i * 0.3, i * 0.3 + 0.25) for i in range(8)]
    words[-1] = ("end.", 2.1, 2.35)
    t = transcript(*words)
    d = diar((0.0, 1.15, "SPEAKER_00"), (1.15, 3.0, "SPEAKER_01"))
    assert [s.speaker for s in assign_speakers(t, d)] == ["SPEAKER_00", "SPEAKER_01"]


def test_speakers_are_numbered_in_the_order_a_reader_meets_them():
    """The diarizer numbered by first turn; SPEAKER_00's first turn here holds no word (silence
    Whisper heard nothing in), so the first word heard is SPEAKER_01's. attribute() renumbers
    every output alike: words, segments, turns, centroids and the speakers list; a speaker
    given no word comes last; known voices are named after the numbering."""
    from hearback.assign import attribute

    t = transcript(("Hello?", 2.0, 2.5), ("Hi,", 3.0, 3.3), ("there.", 3.3, 3.6))
    d = Diarization((Turn(0.0, 1.0, "SPEAKER_00"), Turn(2.0, 2.6, "SPEAKER_01"), Turn(2.9, 3.7, "SPEAKER_00"),
                     Turn(5.0, 6.0, "SPEAKER_02")), (), centroids={"SPEAKER_00": (1.0, 0.0), "SPEAKER_01": (0.0, 1.0)})
    segments, diarization, identities, speakers = attribute(t, d)
    assert [(s.speaker, s.text) for s in segments] == [("SPEAKER_00", "Hello?"), ("SPEAKER_01", "Hi, there.")]
    assert speakers == ("SPEAKER_00", "SPEAKER_01", "SPEAKER_02") and identities == ()
    assert [(turn.start, turn.speaker) for turn in diarization.turns] == [
        (0.0, "SPEAKER_01"), (2.0, "SPEAKER_00"), (2.9, "SPEAKER_01"), (5.0, "SPEAKER_02")]
    assert diarization.centroids == {"SPEAKER_01": (1.0, 0.0), "SPEAKER_00": (0.0, 1.0)}
    assert d.turns[0].speaker == "SPEAKER_00"  # the input is not changed
