"""``GET /v1/catalog`` and the job view's ``stages`` over real HTTP (tiny.en + the embedded
diarizer on the pyannote sample): the lists a client reads are the server's own, and a job
says which stages really ran."""

from __future__ import annotations

import httpx
import pytest

from hearback import languages, writers
from hearback.jobs.store import JobStatus
from hearback.schema import MAX_SPEAKERS
from hearback.types import DONE, Stage
from tests.httpserver import hearback_server, wait_for_job


@pytest.fixture(scope="module")
def server(pipeline_tiny, tmp_path_factory):
    with hearback_server(pipeline_tiny, tmp_path_factory.mktemp("catalog")) as url:
        yield url


def test_the_catalog_is_the_servers_lists(server, pipeline_tiny):
    catalog = httpx.get(f"{server}/v1/catalog", timeout=10).json()
    assert catalog["formats"] == list(writers.FORMATS)
    assert list(catalog["stages"].items()) == [(s.name, s.value) for s in Stage] + [("DONE", DONE)]
    assert list(catalog["statuses"].items()) == [(s.name, s.value) for s in JobStatus]
    assert catalog["max_speakers"] == MAX_SPEAKERS
    english_only = not pipeline_tiny.recognizer.multilingual  # tiny.en: only English can be asked for
    assert [entry["code"] for entry in catalog["languages"]] == (["en"] if english_only else list(languages.NAMES))
    assert all(entry["name"] == languages.NAMES[entry["code"]] for entry in catalog["languages"])


def test_the_catalog_needs_the_key(pipeline_tiny, tmp_path):
    with hearback_server(pipeline_tiny, tmp_path, hearback_api_key="k") as url:
        refused = httpx.get(f"{url}/v1/catalog", timeout=10)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
        assert httpx.get(f"{url}/v1/catalog", headers={"Authorization": "Bearer k"}, timeout=10).status_code == 200


def test_a_job_lists_the_stages_that_ran(server, testdata, pipeline_tiny):
    with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
        answer = httpx.post(f"{server}/v1/jobs", files={"file": fh}, timeout=60).json()
    assert answer["stages"] is None  # queued: nothing ran yet
    job = wait_for_job(server, answer["id"])
    aligned = pipeline_tiny.aligner.available("en")  # no wav2vec2 model here: alignment does not run
    assert job["stages"] == ["decode", "transcribe", *(["align"] if aligned else []), "diarize", "assign"]
    undiarized = httpx.post(f"{server}/v1/jobs", files={"file": (testdata / "diarization" / "pyannote-sample.wav").read_bytes()},
                            data={"diarize": "false"}, timeout=60).json()
    assert wait_for_job(server, undiarized["id"])["stages"] == ["decode", "transcribe"]


def test_a_failed_job_keeps_the_stage_it_failed_in(server):
    answer = httpx.post(f"{server}/v1/jobs", files={"file": ("notes.wav", b"not audio" * 50)}, timeout=60).json()
    job = wait_for_job(server, answer["id"])
    assert job["status"] == "failed" and job["stage"] == "decode" and job["stages"] == ["decode"]
