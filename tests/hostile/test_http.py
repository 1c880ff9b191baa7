"""Hostile peers over real HTTP (``hearback serve`` on loopback; every peer on 127.0.0.1):
uploads past the cap, stalled bodies, slow download servers, malformed URLs, Starlette-level
errors, a crash that leaves files behind, DELETE of a running job, retention.

Issue 16, items 3, 4, 5, 6, 7, 9 and 10. Real models (tiny.en), real audio built with ffmpeg."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from hearback.errors import ErrorCode
from tests import hostile
from tests.httpserver import hearback_server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(tmp_path_factory, testdata) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile-http")
    speech = hostile.speech(testdata, folder, clips=1)
    return {"speech": speech, "mp3": hostile.encode(speech, "mp3", folder), "folder": folder}


@pytest.fixture
def private_urls(monkeypatch):
    """The download servers of these tests are on loopback, which the SSRF guard refuses."""
    monkeypatch.setenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "1")


def error_of(answer: httpx.Response) -> str:
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "code"}, body
    return body["error"]["code"]


def wait_for(url: str, job_id: str, timeout: float = 120, until=("succeeded", "failed")) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
        if job.get("status") in until:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id}: {job}")


# --- item 3: the upload cap holds as the body streams, one copy on disk --------------------

@pytest.fixture(scope="module")
def capped(pipeline_tiny, tmp_path_factory):
    folder = tmp_path_factory.mktemp("capped")
    with hearback_server(pipeline_tiny, folder, max_download_bytes=1_000_000, hearback_body_timeout=3,
                         hearback_max_uploads=4) as url:
        yield url, folder


@pytest.mark.parametrize("route", ["/v1/audio/transcriptions", "/v1/jobs"])
def test_content_length_over_the_cap_is_refused_before_the_body(capped, route):
    url, _ = capped
    sock = hostile.stalled_upload(url, route, b"", content_length=600_000_000)
    answer = hostile.read_answer(sock, timeout=5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"audio_too_large"' in answer


@pytest.mark.parametrize("route", ["/v1/audio/transcriptions", "/v1/jobs"])
def test_a_streamed_upload_is_refused_once_it_passes_the_cap(capped, route):
    """No Content-Length (chunked), 1 MB chunks up to 600 MB: the answer comes, and the
    connection closes, as soon as the count passes the cap (1 MB)."""
    url, folder = capped
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall((f"POST {route} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Type: multipart/form-data; boundary=hb\r\n\r\n").encode())
    sent = 0
    chunks = [hostile.multipart_head()] + [b"\0" * (1 << 20)] * 600
    for chunk in chunks:
        if select.select([sock], [], [], 0)[0]:
            break  # the server answered
        try:
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            break  # the server closed the connection
        sent += len(chunk)
    answer = hostile.read_answer(sock, timeout=10)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413") and b'"audio_too_large"' in answer, answer[:300]
    assert sent <= 16 << 20, sent  # stopped within a few socket buffers, not 600 MB
    assert uploads_in(folder / "audio") == []  # the partial upload is gone


def test_an_upload_is_one_file_on_disk_while_it_streams(capped):
    """Part of an upload sent, then a pause: the data directory holds one file with the bytes
    so far, and no spooled copy was opened (no new deleted temporary file)."""
    url, folder = capped
    data = os.urandom(300_000).replace(b"\r", b"R")  # not audio (the job fails later); no CR:
    # the multipart parser holds back bytes after a CR until it knows they are no boundary
    head, tail = hostile.multipart_head(), b"\r\n--hb--\r\n"
    before = _deleted_temp_files()
    sock = hostile.stalled_upload(url, "/v1/jobs", head + data[:200_000],
                                  content_length=len(head) + len(data) + len(tail))
    try:
        time.sleep(1)
        uploads = uploads_in(folder / "audio")
        assert len(uploads) == 1 and uploads[0].stat().st_size == 200_000
        assert _deleted_temp_files() - before == set()
        sock.sendall(data[200_000:] + tail)
        answer = hostile.read_answer(sock, timeout=30)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 202"), answer[:300]


def uploads_in(data: Path) -> list[Path]:
    """The uploads in a data directory (files; ``kept/`` holds what finished jobs keep)."""
    return [p for p in data.iterdir() if p.is_file()] if data.is_dir() else []


def _deleted_temp_files() -> set[str]:
    """This process's open files that are deleted temporary files (a spooled upload is one)."""
    links = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return {p for p in links if p.startswith(tempfile.gettempdir()) and "(deleted)" in p}


# --- item 9: body read timeout and a cap on uploads at once ---------------------------------

def test_stalled_bodies_time_out_and_uploads_at_once_are_capped(capped, files):
    url, folder = capped
    head = hostile.multipart_head()
    stalled = [hostile.stalled_upload(url, "/v1/jobs", head + b"\0" * 100_000, content_length=900_000)
               for _ in range(4)]
    time.sleep(0.5)
    extra = hostile.stalled_upload(url, "/v1/jobs", head, content_length=900_000)
    busy = hostile.read_answer(extra, timeout=3)
    extra.close()
    assert busy.startswith(b"HTTP/1.1 503") and b'"server_busy"' in busy, busy[:300]
    started = time.monotonic()
    answers = [hostile.read_answer(sock, timeout=10) for sock in stalled]
    assert time.monotonic() - started < 5  # the body timeout is 3 s
    for answer, sock in zip(answers, stalled):
        assert answer.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in answer, answer[:300]
        assert sock.recv(1) == b""  # and the server closed the connection
        sock.close()
    assert uploads_in(folder / "audio") == []
    with files["mp3"].open("rb") as fh:  # capacity is back
        ok = httpx.post(f"{url}/v1/audio/transcriptions", files={"file": fh}, timeout=120)
    assert ok.status_code == 200, ok.text


# --- item 7: one error shape, stable codes --------------------------------------------------

@pytest.mark.parametrize("method, path, kwargs, status, code", [
    ("GET", "/nowhere", {}, 404, ErrorCode.NOT_FOUND),
    ("DELETE", "/v1/models", {}, 405, ErrorCode.METHOD_NOT_ALLOWED),
    ("POST", "/v1/jobs", {"data": {f"f{i}": "x" for i in range(60)}}, 400, ErrorCode.INVALID_INPUT),
    ("POST", "/v1/jobs", {"files": {"file": ("a.mp3", b"\0" * 10)}, "data": {"prompt": "x" * 70_000}},
     400, ErrorCode.INVALID_INPUT),
    ("POST", "/v1/jobs", {"content": b"--x\r\n", "headers": {"Content-Type": "multipart/form-data"}},
     400, ErrorCode.INVALID_INPUT),
    ("POST", "/v1/audio/transcriptions",
     {"content": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=zz"}},
     400, ErrorCode.INVALID_INPUT),
    ("POST", "/v1/audio/transcriptions", {"data": {"model": "whisper-1"}}, 400, ErrorCode.MISSING_AUDIO),
    ("POST", "/v1/jobs", {"data": {"language": "en"}}, 400, ErrorCode.MISSING_AUDIO),
    ("POST", "/v1/jobs", {"json": {"audio_url": "http://example.com/a.mp3"}}, 400, ErrorCode.INVALID_INPUT),
])
def test_one_error_shape(capped, method, path, kwargs, status, code):
    url, _ = capped
    answer = httpx.request(method, f"{url}{path}", timeout=30, **kwargs)
    assert answer.status_code == status, answer.text
    assert error_of(answer) == code


# --- item 5: malformed URLs -----------------------------------------------------------------

@pytest.mark.parametrize("bad", ["http://example.com:99999/a.mp3", "http://[::1/a.mp3",
                                 f"http://{'a' * 70}.com/a.mp3", "http://exa mple..com/a.mp3",
                                 "https:///a.mp3", "http://:80/a.mp3"])
def test_malformed_urls_are_invalid_url(capped, bad):
    url, _ = capped
    answer = httpx.post(f"{url}/v1/jobs", data={"audio_url": bad}, timeout=30)
    assert answer.status_code == 400, answer.text
    assert error_of(answer) == ErrorCode.INVALID_URL


# --- item 4 and 10: the download deadline, the download stage, DELETE cancels ---------------

@pytest.fixture(scope="module")
def deadline_api(pipeline_tiny, tmp_path_factory):
    with hearback_server(pipeline_tiny, tmp_path_factory.mktemp("deadline"), download_deadline=3,
                         download_read_timeout=60) as url:
        yield url


@pytest.mark.parametrize("headers_too", [False, True])
def test_a_slow_server_cannot_hold_a_job_past_the_deadline(deadline_api, private_urls, files,
                                                           headers_too):
    with hostile.trickling_server(headers_too=headers_too) as slow:
        started = time.monotonic()
        job = httpx.post(f"{deadline_api}/v1/jobs", data={"audio_url": slow, "diarize": "false"},
                         timeout=30).json()
        running = wait_for(deadline_api, job["id"], until=("running",), timeout=10)
        assert running["stage"] == "download"
        with files["mp3"].open("rb") as fh:  # queued behind it
            after = httpx.post(f"{deadline_api}/v1/jobs", files={"file": fh},
                               data={"diarize": "false"}, timeout=30).json()
        failed = wait_for(deadline_api, job["id"], timeout=30)
        held = time.monotonic() - started
        assert failed["status"] == "failed" and failed["error"]["code"] == ErrorCode.DOWNLOAD_FAILED
        assert held < 3 + 1.5, held  # the deadline, to within a second (plus polling)
        assert wait_for(deadline_api, after["id"])["status"] == "succeeded"


def test_delete_cancels_a_running_job(deadline_api, private_urls, files):
    """A job downloading from a slow server is deleted: its work stops at once and the next
    job starts, instead of waiting for the deadline."""
    with hostile.trickling_server() as slow:
        job = httpx.post(f"{deadline_api}/v1/jobs", data={"audio_url": slow}, timeout=30).json()
        wait_for(deadline_api, job["id"], until=("running",), timeout=10)
        with files["mp3"].open("rb") as fh:
            after = httpx.post(f"{deadline_api}/v1/jobs", files={"file": fh},
                               data={"diarize": "false"}, timeout=30).json()
        deleted = time.monotonic()
        assert httpx.delete(f"{deadline_api}/v1/jobs/{job['id']}", timeout=10).json()["deleted"]
        wait_for(deadline_api, after["id"], until=("running", "succeeded"), timeout=10)
        assert time.monotonic() - deleted < 1.5
        assert httpx.get(f"{deadline_api}/v1/jobs/{job['id']}", timeout=10).status_code == 404


def test_delete_cancels_a_job_in_the_pipeline(deadline_api, testdata, tmp_path, caplog):
    """Deleted mid-pipeline (3 minutes of speech, with diarization): the job stops at its next
    stage report (it says so in the log, and never ends as succeeded or failed), and the next
    job starts without waiting for the deleted one's work."""
    long = hostile.speech(testdata, tmp_path, clips=6)
    with long.open("rb") as fh:
        job = httpx.post(f"{deadline_api}/v1/jobs", files={"file": fh}, timeout=60).json()
    wait_for(deadline_api, job["id"], until=("running",), timeout=20)
    time.sleep(1)
    with long.open("rb") as fh:
        after = httpx.post(f"{deadline_api}/v1/jobs", files={"file": fh}, data={"diarize": "false"},
                           timeout=60).json()
    with caplog.at_level("INFO", logger="hearback.jobs.runner"):
        httpx.delete(f"{deadline_api}/v1/jobs/{job['id']}", timeout=10)
        wait_for(deadline_api, after["id"], until=("running", "succeeded"), timeout=60)
        assert wait_for(deadline_api, after["id"], timeout=300)["status"] == "succeeded"
    messages = [r.getMessage() for r in caplog.records if job["id"] in r.getMessage()]
    assert messages == [f"job {job['id']} cancelled"], messages


# --- item 10: retention, and the URL is forgotten when the job ends -------------------------

def test_ended_jobs_are_deleted_after_the_retention(pipeline_tiny, tmp_path, files):
    with hearback_server(pipeline_tiny, tmp_path, hearback_retention=2) as url:
        bad = httpx.post(f"{url}/v1/jobs", data={"audio_url": "http://127.0.0.1:9/signed?sig=SECRET"},
                         timeout=30).json()
        with files["mp3"].open("rb") as fh:
            good = httpx.post(f"{url}/v1/jobs", files={"file": fh}, data={"diarize": "false"},
                              timeout=30).json()
        assert wait_for(url, bad["id"])["status"] == "failed"
        assert wait_for(url, good["id"])["status"] == "succeeded"
        with sqlite3.connect(tmp_path / "jobs.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM jobs WHERE audio_url IS NOT NULL").fetchone() == (0,)
        time.sleep(3)
        for job in (bad, good):
            assert httpx.get(f"{url}/v1/jobs/{job['id']}", timeout=10).status_code == 404


# --- item 6: a crash leaves nothing behind for good -----------------------------------------

_CRASH = """
import os, signal, sys
sys.path[:0] = ["src"]
from hearback.runtime.tempdirs import job_tempdir
with job_tempdir() as folder:
    (folder / "upload").write_bytes(b"x" * 1000)
    print(folder, flush=True)  # the child tells the parent its folder, then is SIGKILLed
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_start_up_removes_what_no_job_owns(pipeline_tiny, tmp_path, files, monkeypatch):
    """A process SIGKILLed in the middle of an upload (what the OOM killer does) leaves its
    temporary folder; a crash after an upload was saved but before its job was stored leaves a
    file in the data directory. The next start removes both, keeps a live process's folder,
    and runs the queued job whose upload it owns."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    crashed = subprocess.run([sys.executable, "-c", _CRASH], cwd=REPO, env=env, capture_output=True,
                             text=True)
    assert crashed.returncode == -signal.SIGKILL
    left = Path(crashed.stdout.strip())
    assert left.is_dir()
    from hearback.runtime.tempdirs import job_tempdir

    data = tmp_path / "audio"
    data.mkdir()
    (data / "0123abcd").write_bytes(b"half an upload")
    queued = data / "feedface"
    queued.write_bytes(files["mp3"].read_bytes())
    _store_queued_job(tmp_path / "jobs.sqlite3", queued)
    with job_tempdir() as live:
        with hearback_server(pipeline_tiny, tmp_path) as url:
            assert not left.exists() and live.is_dir()
            uploads = sorted(p.name for p in uploads_in(data))
            assert uploads in (["feedface"], [])  # the half upload is gone, the queued job's stays
            job = wait_for(url, "job-resumed")
            assert job["status"] == "succeeded", job
            assert uploads_in(data) == []


def _store_queued_job(db: Path, upload: Path) -> None:
    from hearback.jobs.store import JobStore

    JobStore(db)  # the schema
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO jobs (id, status, created_at, updated_at, options, audio_path) "
                     "VALUES ('job-resumed', 'queued', 0, 0, ?, ?)",
                     (json.dumps({"diarize": False}), str(upload)))


def test_the_streamed_forms_are_still_described_in_openapi(capped):
    url, _ = capped
    paths = httpx.get(f"{url}/openapi.json", timeout=10).json()["paths"]
    for path, required in (("/v1/audio/transcriptions", ["file"]), ("/v1/jobs", [])):
        schema = paths[path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert {"file", "language", "min_speakers"} <= set(schema["properties"])
        assert schema["required"] == required
