"""Long meetings you can trust (issue 18): order, real word times, no repetition loops, French
and English in one file.

The pipeline tests run the real models on real recordings from ../shared/testdata, put end to
end with uneven pauses. The first tests feed hand-made documents and words to the checks
themselves, to show each check can fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.testdata import fleurs_clips
from evaluation.wer import wer
from hearback.asr import loops
from hearback.asr.language_regions import by_region, runs
from hearback.asr.word_times import spread_words, untangle, without_repeats
from hearback.audio.decode import decode
from hearback.document import result_to_dict
from hearback.invariants import check
from hearback.types import Audio, Options, Segment, Word


def _doc(segments, duration=100.0, speakers=("SPEAKER_00",)):
    return {"duration": duration, "speakers": list(speakers), "transcription": {"segments": segments}}


def _seg(start, end, words, speaker="SPEAKER_00"):
    return {"start": start, "end": end, "speaker": speaker, "text": " ".join(w[0] for w in words),
            "words": [{"word": w, "start": a, "end": b, "speaker": speaker} for w, a, b in words]}


def test_the_invariants_helper_finds_each_kind_of_fault():
    good = _doc([_seg(1.0, 2.0, [("hello", 1.0, 1.5), ("there", 1.5, 2.0)]),
                 _seg(3.0, 4.0, [("bye", 3.0, 4.0)])])
    assert check(good) == []
    faults = _doc([
        _seg(78.0, 80.0, [("late", 78.0, 80.0)]),
        _seg(62.0, 64.0, [("early", 62.0, 62.0), ("b", 63.0, 65.0)]),   # order, zero length, outside
        _seg(70.0, 72.0, [("x", 71.0, 72.0), ("y", 70.0, 70.5)]),        # word order
        _seg(90.0, 101.0, [("yeah", 90.0 + i, 90.5 + i) for i in range(6)], speaker=None),
    ])
    kinds = {p.kind for p in check(faults)}
    assert kinds == {"order", "zero_length", "outside", "word_order", "past_duration", "no_speaker", "loop"}


def test_loops_are_found_and_cut_to_one_occurrence():
    assert loops.find_loop("Yeah, yeah, yeah, yeah.".split()) == loops.Loop(0, 1, 4)
    assert loops.find_loop("no, no, no, I said".split()) is None  # three times is speech
    assert loops.collapse("so de l'Est de l'Est de l'Est de l'Est ok".split()) == ["so", "de", "l'Est", "ok"]
    long_phrase = "I do not know what to say about it. " * 5
    assert loops.is_loop(long_phrase)  # Whisper's own check: the text compresses too well
    assert " ".join(loops.collapse(long_phrase.split())) == long_phrase.strip().split(". ")[0] + "."


def test_collapsed_words_are_spread_over_their_span_and_segments_untangled():
    stacked = [Word("so", 10.0, 10.4)] + [Word("yeah", 10.5, 10.5)] * 3 + [Word("ok", 10.5, 11.0)]
    spread = spread_words(stacked, 10.0, 11.0)
    assert [w.word for w in spread] == ["so", "yeah", "yeah", "yeah", "ok"]
    assert all(w.end > w.start for w in spread)
    assert all(a.end <= b.start for a, b in zip(spread, spread[1:]))
    assert (spread[0].start, spread[-1].end) == (10.0, 11.0)
    at_the_end = spread_words([Word("a", 5.0, 5.0), Word("b", 5.0, 5.0)], 5.0, 5.0)
    assert all(w.end > w.start for w in at_the_end)
    # a second-pass segment in a pause of a first-pass one: the first is split around it
    first = Segment(60.0, 90.0, "a b", (Word("a", 60.0, 61.0), Word("b", 78.0, 90.0)))
    second = Segment(62.0, 70.0, "c", (Word("c", 62.0, 70.0),))
    assert [s.text for s in untangle([first, second])] == ["a", "c", "b"]


def test_unsure_and_short_regions_follow_their_neighbours_and_runs_share_clips():
    """Measured in the bilingual benchmark file: the end of an English sentence (en 0.77) after
    English, and a sentence start Whisper is unsure of (en 0.67) before English, were decoded
    as French, the window's language; a 0.6 s region cannot be asked at all."""
    regions = [(0.0, 8.0), (8.0, 9.4), (10.0, 13.0), (13.0, 16.0), (16.5, 17.1), (17.1, 22.0), (40.0, 45.0)]
    found = {(0.0, 8.0): (("fr", 0.98),), (8.0, 9.4): (("en", 0.77), ("fr", 0.1)),
             (10.0, 13.0): (("en", 0.67), ("ja", 0.14)), (13.0, 16.0): (("en", 0.99),),
             (17.1, 22.0): (("en", 0.97),), (40.0, 45.0): (("fr", 0.99),)}
    languages = by_region(regions, found, "fr")
    assert [languages[r] for r in regions] == ["fr", "en", "en", "en", "en", "en", "fr"]
    found[(8.0, 9.4)] = (("ja", 0.5),)  # a guess no neighbour shares: the nearest one's
    assert by_region(regions, found, "fr")[(8.0, 9.4)] == "fr"
    assert by_region(regions, {}, "fr") == {r: "fr" for r in regions}  # nothing sure: the main one
    assert runs(regions, languages) == [("fr", 0.0, 8.0), ("en", 8.0, 22.0), ("fr", 40.0, 45.0)]


def test_a_second_pass_does_not_give_a_word_the_first_pass_has():
    """AMI trn08: the first pass heard "Hello." at 7.86-8.04 s, the second pass over the region
    "Hello?" at 7.71-8.11 s: the same word twice. The checker finds it; the merge drops it."""
    first = [Segment(7.0, 9.0, "Hello.", (Word(" Hello.", 7.86, 8.04),))]
    second = [Segment(7.5, 12.0, "Hello? How are you", (Word(" Hello?", 7.71, 8.11), Word(" How", 9.0, 9.3),
                                                       Word(" are", 9.3, 9.5), Word(" you", 9.5, 9.8)))]
    both = _doc([_seg(7.0, 9.0, [("Hello.", 7.86, 8.04)]),
                 _seg(7.5, 12.0, [("Hello?", 7.71, 8.11), ("How", 9.0, 9.3)])])
    assert [p.kind for p in check(both)] == ["duplicate"]
    merged = without_repeats(second, first)
    assert [w.word for s in merged for w in s.words] == [" How", " are", " you"]
    # another word half inside a first-pass word is the same sound heard twice; a word after it is not
    assert without_repeats([Segment(7.5, 9.0, "x", (Word(" Hi", 7.9, 8.0),))], first) == []
    # a first-pass word stretched over a pause does not swallow the words heard inside it
    stretched = [Segment(7.0, 12.0, "so", (Word(" so", 7.0, 11.0),))]
    assert without_repeats(second, stretched) == second
    kept = [Segment(8.5, 9.0, "Hello", (Word(" Hello", 8.5, 8.9),))]
    assert without_repeats(kept, first) == kept
    # bench meeting: a first-pass "thank" collapsed to an instant (325.47 s) inside a second-pass one
    instant = [Segment(325.0, 326.0, "thank", (Word(" thank", 325.47, 325.47),))]
    assert without_repeats([Segment(324.9, 326.3, "thank", (Word(" thank", 325.356, 325.576),))], instant) == []


def test_repeats_are_looked_for_once_both_passes_are_settled():
    """A damaged Opus file (tests/hostile): the first pass stacked "What's the username?" on
    one instant (52.67 s), the second pass heard "the username." at 51.70-52.02 s. Apart
    before settling; settling spreads the stacked words back over 50.86-52.67 s, where they
    overlap the second pass's: one window's passes are compared once settled."""
    from hearback.asr.recognizer import settled

    def words(*triples):
        return tuple(Word(" " + w, a, b) for w, a, b in triples)

    first = [Segment(45.5, 54.03, "...", words(("it", 50.5, 50.86), ("What's", 52.67, 52.67), ("the", 52.67, 52.67),
                                              ("username?", 52.67, 52.67), ("What's", 52.67, 52.91),
                                              ("the", 52.91, 53.09), ("username", 53.09, 53.31)))]
    second = [Segment(51.184, 52.4, "the username.", words(("the", 51.696, 51.796), ("username.", 51.796, 52.016)))]
    assert without_repeats(second, first) == second  # unsettled, nothing looks repeated
    merged = settled(first, second, duration=60.0, offset=0.0)
    document = _doc([_seg(s.start, s.end, [(w.word, w.start, w.end) for w in s.words]) for s in merged])
    assert check(document) == []
    assert [w.word for s in merged for w in s.words] == ["it", "What's", "the", "username?", "What's", "the", "username"]


def test_one_pass_does_not_give_a_word_twice():
    """The clean-clone CI's AMI tst00 (Whisper base): "Not at" at 20.176-22.248 s and again at
    21.348-21.768 s, both from one window's passes (a mended chunk beside its neighbour's
    words, or a region packed then decoded alone). Built here: two segments of one pass that
    hear the same words, one of them stacked on an instant that settling spreads over its
    span. Each pass keeps a word once, the earlier segment's; the other words stay."""
    from hearback.asr.recognizer import settled

    def words(*triples):
        return tuple(Word(" " + w, a, b) for w, a, b in triples)

    one = Segment(20.0, 22.3, "...", words(("Not", 22.25, 22.25), ("at", 22.25, 22.25)))
    two = Segment(21.3, 23.0, "...", words(("Not", 21.348, 21.608), ("at", 21.608, 21.768), ("all", 21.8, 22.1)))
    for first, second in (([one, two], []), ([], [one, two])):
        merged = settled(first, second, duration=60.0, offset=0.0)
        document = _doc([_seg(s.start, s.end, [(w.word, w.start, w.end) for w in s.words]) for s in merged])
        assert check(document) == [], document
        assert [w.word for s in merged for w in s.words] == ["Not", "at", "all"]
    # unsettled the two did not overlap: without settling first there would be nothing to see
    assert one.words[0].start > two.words[1].end


@pytest.mark.slow
def test_no_word_is_heard_twice_on_ami_trn08(pipeline_base, testdata):
    """AMI trn08, where a second pass over a region the first pass left nearly empty once heard
    "Hello?" over the first pass's "Hello." (the fault is built from constructed input in
    :func:`test_a_second_pass_does_not_give_a_word_the_first_pass_has`: whether a given CPU's
    decoding hears it twice varies). On real audio the promise holds: no word twice, every
    invariant kept."""
    path = testdata / "diarization" / "ami" / "trn08.flac"
    document = result_to_dict(pipeline_base.transcribe_file(path, Options(language="en", diarize=False)))
    assert document["transcription"]["segments"] and check(document) == []


def test_vad_onsets_missed_after_another_voice_are_found(testdata):
    """Silero VAD run over a French sentence then, 0.3 s later, an English one hears the English
    one only from its fifth word (measured on FLEURS fr-006 + en-004 in the benchmark's
    bilingual file); with fresh state over the pause it hears it from the first, as when the
    sentence is alone."""
    from hearback.asr.batched import speech_regions, with_onsets

    fr, en = decode(testdata / "asr" / "fleurs" / "fr-006.ogg"), decode(testdata / "asr" / "fleurs" / "en-004.ogg")
    samples = np.concatenate([fr.samples, np.zeros(int(0.31 * 16000), dtype=np.float32), en.samples])
    boundary = fr.duration + 0.31
    alone = speech_regions(en.samples, 16000)[0][0] + boundary
    regions = speech_regions(samples, 16000)
    found = with_onsets(samples, 16000, regions)
    assert set(regions) <= set(found) and found == sorted(found)
    first_after = min(start for start, _end in found if start >= boundary - 0.2)
    assert abs(first_after - alone) < 0.3, (first_after, alone, regions)


def _shuffled(paths, seed: int) -> tuple[Audio, list[tuple[float, float]]]:
    """The recordings in a shuffled order, 0.1-6 s of silence after each; each one's span."""
    rng = np.random.default_rng(seed)
    pieces, spans, offset = [], [], 0.0
    for i in rng.permutation(len(paths)):
        audio = decode(paths[i])
        pause = float(rng.uniform(0.1, 6.0))
        spans.append((offset, offset + audio.duration))
        pieces += [audio.samples, np.zeros(int(pause * 16000), dtype=np.float32)]
        offset += audio.duration + pause
    return Audio(np.concatenate(pieces)), spans


@pytest.mark.slow
def test_a_shuffled_meeting_of_many_speakers_keeps_every_promise(pipeline_tiny, testdata, caplog):
    """Four minutes: AMI excerpts (1-4 speakers each), the pyannote sample and falcon in a
    shuffled order with uneven pauses, diarized: many speakers, many second-pass regions. The
    document keeps the contract: ordered segments, words ordered, positive and inside their
    segment, a speaker on each, no loops."""
    folder = testdata / "diarization"
    paths = sorted((folder / "ami").glob("*.flac"))[:6] + [folder / "pyannote-sample.wav",
                                                           folder / "falcon-3spk.wav"]
    audio, _spans = _shuffled(paths, seed=7)
    with caplog.at_level("INFO", logger="hearback.asr"):
        result = pipeline_tiny.transcribe(audio, Options(language="en"))
    assert "second pass over" in caplog.text
    document = result_to_dict(result)
    assert check(document) == []
    assert len(result.speakers) >= 4
    assert sum(len(s["words"]) for s in document["transcription"]["segments"]) > 300


@pytest.mark.slow
def test_a_clip_whisper_loops_on_is_mended(pipeline_base, testdata):
    """AMI tst00 alone: Whisper base's batched pass says "yeah" dozens of times running there.
    The piece is decoded again with faster-whisper's fallback; nothing loops any more, and what
    could not be cured is flagged and warned about, not dropped."""
    result = pipeline_base.transcribe_file(testdata / "diarization" / "ami" / "tst00.flac",
                                           Options(language="en", diarize=False))
    document = result_to_dict(result)
    assert check(document) == []
    assert len(result.text.split()) > 30
    flagged = [s for s in result.segments if s.loop_collapsed]
    assert len(flagged) == sum(w.code == "repetition_loop" for w in result.warnings)


def test_mending_decodes_a_looping_piece_again(pipeline_base, testdata):
    """A looping piece handed to the mender (made up here: Whisper does not loop on this clip)
    over JFK's 11 s comes back as the real speech; over silence, where the second decoding hears
    nothing, the loop is kept once and flagged, not dropped."""
    from hearback.asr.batched import Chunk
    from hearback.asr.mend import mend

    model = pipeline_base.recognizer.model
    samples = decode(testdata / "asr" / "misc" / "jfk-en.flac").samples
    looping = Segment(0.0, 11.0, " and so and so and so and so and so",
                      tuple(Word(" " + w, 0.5 + i * 0.2, 0.6 + i * 0.2) for i, w in enumerate(["and", "so"] * 5)),
                      language="en")
    options = {"beam_size": 5, "word_timestamps": True, "initial_prompt": None}
    mended = mend(model, samples, 16000, [(looping, 0)], {0: Chunk(0.0, 11.0)}, options)
    text = " ".join(s.text for s in mended)
    assert wer(["and so my fellow americans ask not what your country can do for you ask what you "
                "can do for your country"], [text], "en") < 0.2, text
    assert not any(s.loop_collapsed for s in mended)
    silent = mend(model, np.zeros(16000 * 5, dtype=np.float32), 16000, [(looping, 0)], {0: Chunk(0.0, 5.0)}, options)
    assert [s.text for s in silent] == [" and so"] and silent[0].loop_collapsed


@pytest.fixture(scope="module")
def bilingual(testdata):
    """Three FLEURS-fr and three FLEURS-en sentences alternating, 1-3 s apart (~1.5 min):
    (audio, [(start, end, reference, language)])."""
    rng = np.random.default_rng(5)
    pieces, parts, offset = [], [], 0.0
    for fr, en in zip(fleurs_clips(testdata, "fr")[3:6], fleurs_clips(testdata, "en")[3:6]):
        for (path, ref), language in ((fr, "fr"), (en, "en")):
            audio = decode(path)
            pause = float(rng.uniform(1.0, 3.0))
            parts.append((offset, offset + audio.duration, ref, language))
            pieces += [audio.samples, np.zeros(int(pause * 16000), dtype=np.float32)]
            offset += audio.duration + pause
    return Audio(np.concatenate(pieces)), parts


def _wer_by_language(document, parts) -> dict[str, float]:
    words = [w for s in document["transcription"]["segments"] for w in s["words"]]
    out = {}
    for language in ("fr", "en"):
        mine = [p for p in parts if p[3] == language]
        hyps = [" ".join(w["word"] for w in words if lo <= (w["start"] + w["end"]) / 2 <= hi) for lo, hi, _r, _l in mine]
        out[language] = wer([p[2] for p in mine], hyps, language)
    return out


@pytest.mark.slow
def test_a_recording_that_switches_language_is_transcribed_in_both(pipeline_base, bilingual):
    """language=auto on French and English sentences alternating: each segment carries the
    language it was transcribed in, the document keeps a main language and lists both with
    their share of speech, and the English sentences are not turned into French (one language
    per file gave 79.8 % WER on them)."""
    audio, parts = bilingual
    document = result_to_dict(pipeline_base.transcribe(audio, Options(diarize=False)))
    assert check(document) == []
    segments = document["transcription"]["segments"]
    assert {s["language"] for s in segments} == {"fr", "en"}
    shares = {x["language"]: x["share"] for x in document["languages"]}
    assert set(shares) == {"fr", "en"} and abs(sum(shares.values()) - 1.0) < 0.01
    assert document["language"] == max(shares, key=shares.get)
    for lo, hi, _ref, language in parts:  # every sentence is heard in its own language
        heard = [s["language"] for s in segments if lo <= (s["start"] + s["end"]) / 2 <= hi]
        assert heard and all(code == language for code in heard), (lo, hi, language, heard)
    scores = _wer_by_language(document, parts)
    # Within 3 points of each sentence sent alone (the issue's goal). Before the fixes of round
    # two English was 19.6 % here against 2.0 % alone: Silero VAD heard "many people don't think
    # about them as dinosaurs" only from "them" on (batched.with_onsets).
    slack = {"fr": 0.03, "en": 0.03}
    for language in ("fr", "en"):
        mine = [p for p in parts if p[3] == language]
        alone = [pipeline_base.transcribe(Audio(audio.samples[int(lo * 16000):int(hi * 16000)]),
                                          Options(diarize=False)).text for lo, hi, _r, _l in mine]
        baseline = wer([p[2] for p in mine], alone, language)
        assert scores[language] <= baseline + slack[language], (language, scores[language], baseline)


@pytest.mark.slow
def test_a_forced_language_keeps_forcing(pipeline_base, bilingual):
    audio, _parts = bilingual
    document = result_to_dict(pipeline_base.transcribe(audio, Options(language="fr", diarize=False)))
    assert {s["language"] for s in document["transcription"]["segments"]} == {"fr"}
    assert document["languages"] == [{"language": "fr", "share": 1.0}]
    assert document["language"] == "fr"
