"""Async jobs over real HTTP: submit, poll, fetch, delete; and a server killed mid-queue
loses no job. Real models (tiny.en + embedded diarization), real audio."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest
import srt

from tests.httpserver import free_port, hearback_server, serve_process, wait_for_job


@pytest.fixture(scope="module")
def server(pipeline_tiny, tmp_path_factory):
    folder = tmp_path_factory.mktemp("jobs")
    with hearback_server(pipeline_tiny, folder) as url:
        yield url, folder


def test_submit_poll_fetch_delete(server, testdata):
    url, folder = server
    with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
        answer = httpx.post(f"{url}/v1/jobs", files={"file": fh}, data={"language": "en"}, timeout=60)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    job = wait_for_job(url, job_id)
    assert job["status"] == "succeeded" and job["progress"] == 1.0, job
    document = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json()
    assert len(document["speakers"]) == 2 and document["transcription"]["segments"]
    subtitles = httpx.get(f"{url}/v1/jobs/{job_id}/result", params={"format": "srt"}, timeout=10).text
    assert len(list(srt.parse(subtitles))) >= 8
    # the upload is gone once the job is done; the playback copy and what rediarize needs are
    # kept with the job, in kept/<id>/
    assert [p.name for p in (folder / "audio").iterdir()] == ["kept"]
    assert [p.name for p in (folder / "audio" / "kept").iterdir()] == [job_id]
    assert httpx.delete(f"{url}/v1/jobs/{job_id}", timeout=10).json() == {"id": job_id, "deleted": True}
    assert list((folder / "audio" / "kept").iterdir()) == []  # and goes with it
    gone = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"


def test_failed_job_reports_its_code(server):
    url, _ = server
    answer = httpx.post(f"{url}/v1/jobs", files={"file": ("notes.mp3", b"not audio" * 50)}, timeout=60)
    job = wait_for_job(url, answer.json()["id"])
    assert job["status"] == "failed" and job["error"]["code"] == "invalid_audio"
    assert httpx.get(f"{url}/v1/jobs/{job['id']}/result", timeout=10).status_code == 409


def _spawned(pid: int) -> list[int]:
    """The Python processes ``pid`` spawned with multiprocessing (Linux: /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            spawned = b"spawn_main" in (stat.parent / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        if parent == pid and spawned:
            found.append(int(stat.parent.name))
    return found


def test_restart_mid_queue_loses_nothing(testdata, tmp_path):
    """One worker, three queued jobs; the server is killed (SIGKILL) while the first runs; a new
    server on the same database finishes all three."""
    port = free_port()
    env = dict(os.environ, WHISPER_MODEL="tiny.en", HEARBACK_DB=str(tmp_path / "jobs.sqlite3"),
               HEARBACK_DATA_DIR=str(tmp_path / "audio"), HEARBACK_WORKERS="1", HF_HUB_OFFLINE="1")
    url = f"http://127.0.0.1:{port}"
    first = serve_process(port, env)
    ids = []
    try:
        for _ in range(3):
            with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
                ids.append(httpx.post(f"{url}/v1/jobs", files={"file": fh}, timeout=60).json()["id"])
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/v1/jobs/{ids[0]}", timeout=10).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        statuses = [httpx.get(f"{url}/v1/jobs/{i}", timeout=10).json()["status"] for i in ids]
        assert statuses[1:] == ["queued", "queued"], statuses
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    second = serve_process(port, env)
    try:
        jobs = [wait_for_job(url, i) for i in ids]
        assert [j["status"] for j in jobs] == ["succeeded"] * 3, jobs
        assert [p.name for p in Path(tmp_path / "audio").iterdir()] == ["kept"]  # uploads gone
        kept = sorted(p.relative_to(tmp_path / "audio" / "kept")
                      for p in (tmp_path / "audio" / "kept").glob("*/audio.ogg"))
        assert kept == sorted(Path(i) / "audio.ogg" for i in ids)  # one playback copy each, no partial
    finally:
        second.terminate()
        second.wait(30)


def test_results_stored_by_earlier_versions_still_render(tmp_path):
    """Before 0.2 a job stored every format rendered; such a row still gives its result."""
    from hearback.jobs.store import JobStore
    from hearback.types import Options, Result, Segment, Word
    from hearback.writers import render

    result = Result((Segment(0.5, 1.2, "Hello there.", (Word("Hello", 0.5, 0.8, 0.9, "SPEAKER_00"),
                                                          Word("there.", 0.8, 1.2, 0.8, "SPEAKER_00")),
                             "SPEAKER_00"),), "en", 2.0, ("SPEAKER_00",))
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.add(Options(), audio_path=None, audio_url="https://example.com/a.mp3")
    old = {fmt: render(result, fmt) for fmt in ("json", "srt", "vtt", "txt")}
    store._set(job.id, status="succeeded", results=json.dumps(old))
    assert render(store.result(job.id), "srt") == old["srt"]


def test_retention_forgets_everything_kept_for_a_job(tmp_path):
    """An ended job past its retention loses its row, its speakers' embeddings and its kept
    folder; a job still within retention keeps all three. (Store-level: no pipeline needed.)"""
    from types import SimpleNamespace

    from hearback.jobs.runner import JobRunner
    from hearback.jobs.store import JobStore
    from hearback.types import Diarization, Options, Result

    db = tmp_path / "jobs.sqlite3"
    runner = JobRunner(JobStore(db), None, SimpleNamespace(hearback_db=db), data_dir=tmp_path / "data",
                       retention=3600)
    try:
        ids = []
        for _ in range(2):
            job = runner.store.add(Options(), audio_path=None, audio_url="https://example.com/a.mp3")
            runner.store.succeed(job.id, Result((), "en", 1.0, ("SPEAKER_00",), diarization=Diarization(
                (), (), {"SPEAKER_00": (0.1, 0.2)}, "cam++")))  # its speakers' embeddings kept with it
            runner.kept_folder(job.id).mkdir(parents=True)
            (runner.kept_folder(job.id) / "audio.ogg").write_bytes(b"kept")
            ids.append(job.id)
        runner.store._run(  # ended long ago
            "UPDATE jobs SET updated_at = 0 WHERE id = ?", (ids[0],))
        assert runner.purge_expired() == [ids[0]]
        assert runner.store.get(ids[0]) is None and runner.store.voices.kept(ids[0]) == {}
        assert not runner.kept_folder(ids[0]).exists()
        assert runner.store.get(ids[1]) is not None and runner.store.voices.kept(ids[1])
        assert (runner.kept_folder(ids[1]) / "audio.ogg").read_bytes() == b"kept"
    finally:
        runner.shutdown()


def test_a_kill_right_after_an_edit_leaves_document_and_kept_voices_agreeing(testdata, tmp_path):
    """Issue 24, data safety 4: a 1000-op rename chain over real HTTP, and the server SIGKILLed
    the moment its result is committed. The document and the speaker embeddings kept for
    "this voice is …" changed in one transaction: both show N999, and enrolling N999 from the
    job works after the restart. The export processes an SRT started end with the killed server."""
    import sqlite3
    import threading

    from hearback.jobs.store import JobStore

    port = free_port()
    db = tmp_path / "jobs.sqlite3"
    env = dict(os.environ, WHISPER_MODEL="tiny.en", HEARBACK_DB=str(db), HEARBACK_DATA_DIR=str(tmp_path / "audio"),
               SPEAKER_LIBRARY=str(tmp_path / "voices.sqlite"), HF_HUB_OFFLINE="1")
    url = f"http://127.0.0.1:{port}"
    server = serve_process(port, env)
    try:
        with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
            job_id = httpx.post(f"{url}/v1/jobs", files={"file": fh}, data={"language": "en"}, timeout=60).json()["id"]
        job = wait_for_job(url, job_id)
        assert job["status"] == "succeeded", job
        first = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json()["speakers"][0]
        assert httpx.get(f"{url}/v1/jobs/{job_id}/result?format=srt", timeout=60).status_code == 200
        helpers = _spawned(server.pid)  # the export processes that SRT started (api.exports)
        assert helpers
        ops = [{"op": "rename", "speaker": f"N{i - 1}" if i else first, "name": f"N{i}"} for i in range(1000)]
        watch = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        changed = lambda: watch.execute("SELECT revision FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]  # noqa: E731
        before = changed()
        sent = threading.Thread(target=_post_quietly, args=(f"{url}/v1/jobs/{job_id}/edits",
                                                            {"ops": ops, "revision": before}))
        sent.start()
        deadline = time.monotonic() + 120
        while changed() == before:
            assert time.monotonic() < deadline and server.poll() is None, "the batch was never stored"
            time.sleep(0.001)
        server.send_signal(signal.SIGKILL)  # the result is committed: nothing after it may be lost
        server.wait(30)
        deadline = time.monotonic() + 15  # a killed server's export processes end on their own
        while any(Path(f"/proc/{pid}").exists() for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in helpers if Path(f"/proc/{pid}").exists()], "export processes outlived it"
        sent.join(30)
        watch.close()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(30)
    with sqlite3.connect(db) as read:
        kept = {row[0] for row in read.execute("SELECT speaker FROM job_voices WHERE job_id = ?", (job_id,))}
    speakers = set(JobStore(db).result(job_id).speakers)
    assert "N999" in speakers and kept == speakers
    server = serve_process(port, env)
    try:
        answer = httpx.post(f"{url}/v1/speakers", data={"name": "Alice", "job_id": job_id, "speaker": "N999"},
                            timeout=30)
        assert answer.status_code == 201, answer.text
    finally:
        server.terminate()
        server.wait(30)


def _post_quietly(url: str, body: dict) -> None:
    """POST ``body``; the server may be killed before it answers."""
    try:
        httpx.post(url, json=body, timeout=120)
    except httpx.HTTPError:
        pass
