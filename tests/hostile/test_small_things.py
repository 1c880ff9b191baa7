"""Issue 24, data safety 8, "smaller ones", over real HTTP: strict types in edits, a URL no job
can fetch refused at once, HEAD on the playback audio, voices named like paths or ids, enrolling
a name the library has, and torch's temporary folder of a killed server swept at the next start.
Real models (tiny.en + embedded diarization) on the pyannote sample."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.httpserver import free_port, sample_job_server, serve_process


@pytest.fixture(scope="module")
def server(pipeline_tiny, testdata, tmp_path_factory):
    with sample_job_server(pipeline_tiny, testdata, tmp_path_factory.mktemp("small")) as served:
        yield served


def code(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]["code"]


def test_edits_take_strict_types(server):
    url, job_id = server
    for segment in (True, "1", 1.0, None):
        answer = httpx.post(f"{url}/v1/jobs/{job_id}/edits", timeout=30, json={
            "ops": [{"op": "edit", "segment": segment, "text": "x"}], "revision": 0})
        assert code(answer) == (400, "invalid_edit"), segment
    answer = httpx.post(f"{url}/v1/jobs/{job_id}/edits", timeout=30, json={
        "ops": [{"op": "assign", "segment": 0, "speaker": "SPEAKER_01", "words": ["0", "1"]}], "revision": 0})
    assert code(answer) == (400, "invalid_edit")
    assert httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()["revision"] == 0


@pytest.mark.parametrize("audio_url", ["ftp://example.com/a.mp3", "file:///etc/passwd", "/etc/passwd",
                                       "gopher://example.com/a", "javascript:alert(1)"])
def test_a_url_no_job_can_fetch_is_refused_at_once(server, audio_url):
    url, _ = server
    before = httpx.get(f"{url}/v1/jobs", timeout=10).json()["data"]
    answer = httpx.post(f"{url}/v1/jobs", data={"audio_url": audio_url}, timeout=30)
    assert code(answer) == (400, "invalid_url"), answer.text
    assert httpx.get(f"{url}/v1/jobs", timeout=10).json()["data"] == before  # no job was made


def test_head_on_the_playback_audio(server):
    url, job_id = server
    whole = httpx.get(f"{url}/v1/jobs/{job_id}/audio", timeout=30)
    head = httpx.head(f"{url}/v1/jobs/{job_id}/audio", timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(whole.content)) and head.headers["accept-ranges"] == "bytes"
    assert httpx.head(f"{url}/v1/jobs/{'0' * 32}/audio", timeout=30).status_code == 404


def test_voice_names_like_paths_and_ids_and_enrolling_a_name_twice(server):
    url, job_id = server

    def enrol(name: str, speaker: str = "SPEAKER_00", **extra) -> httpx.Response:
        return httpx.post(f"{url}/v1/speakers", data={"name": name, "job_id": job_id, "speaker": speaker, **extra},
                          timeout=30)

    slash = enrol("a/b")
    assert slash.status_code == 201, slash.text
    other = enrol("Carol", "SPEAKER_01")
    assert code(enrol(other.json()["id"])) == (400, "invalid_speaker_name")  # no name may look like an id
    # enrolling a name the library has is asked, not done: the voice stays as it was
    assert code(enrol("Carol")) == (409, "voice_exists")
    listed = httpx.get(f"{url}/v1/speakers", timeout=10).json()["data"]
    assert [v["id"] for v in listed if v["name"] == "Carol"] == [other.json()["id"]]
    replaced = enrol("Carol", replace="true")
    assert replaced.status_code == 201 and replaced.json()["id"] != other.json()["id"]
    assert [v["name"] for v in httpx.get(f"{url}/v1/speakers", timeout=10).json()["data"]] == ["Carol", "a/b"]
    # a name with a slash is deleted by name, and an id deletes only its own voice
    gone = httpx.delete(f"{url}/v1/speakers/a/b", timeout=30)
    assert gone.status_code == 200 and gone.json()["id"] == slash.json()["id"]
    assert httpx.delete(f"{url}/v1/speakers/{replaced.json()['id']}", timeout=30).json()["name"] == "Carol"
    assert httpx.get(f"{url}/v1/speakers", timeout=10).json()["data"] == []


def test_torchs_folder_of_a_killed_server_is_swept_at_the_next_start(tmp_path, monkeypatch):
    """torch makes a temporary folder when pyannote imports it and removes it only at a clean
    exit. ``hearback serve`` has it made inside its own locked folder, which the next start
    removes once its process is dead (SIGKILL, the OOM killer)."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = free_port()
    env = dict(os.environ, WHISPER_MODEL="tiny.en", HEARBACK_DB=str(tmp_path / "jobs.sqlite3"), TMPDIR=str(temp),
               HEARBACK_DATA_DIR=str(tmp_path / "audio"), HF_HUB_OFFLINE="1")

    def torch_folders() -> list[Path]:
        return sorted(p.parent for p in temp.rglob("_remote_module_non_scriptable.py"))

    first = serve_process(port, env)
    made = torch_folders()
    assert made and all(p.parent.name.startswith("hearback-") for p in made), made  # inside its own folder
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    assert all(p.exists() for p in made)  # a killed process cleans nothing
    second = serve_process(port, env)
    try:
        assert not any(p.exists() for p in made)  # swept
        assert len(torch_folders()) == 1  # the new server's own
    finally:
        second.terminate()  # uvicorn ends by its signal again: no exit handler runs either
        second.wait(30)
    from hearback.runtime import tempdirs

    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    tempdirs.sweep()  # what the next start does
    assert torch_folders() == [] and [p.name for p in temp.iterdir() if p.name.startswith("hearback-")] == []
