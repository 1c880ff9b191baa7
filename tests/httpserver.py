"""Real HTTP for the tests: an ASGI app served by uvicorn in a thread on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app, port: int = 0) -> Iterator[str]:
    """Serve ``app`` (on ``port``, else a free one) until the block ends; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def hearback_server(pipeline, folder: Path, port: int = 0, **settings) -> Iterator[str]:
    """``hearback serve`` on the tests' shared ``pipeline``, its job database and uploads in
    ``folder`` (never the user's own); ``settings`` are ServerSettings fields."""
    from hearback.api import ServerSettings, create_app

    config = ServerSettings(hearback_db=folder / "jobs.sqlite3", hearback_data_dir=folder / "audio",
                            **settings)
    with serving(create_app(config, pipeline=pipeline), port) as url:
        yield url


@contextmanager
def sample_job_server(pipeline, testdata: Path, folder: Path, **settings) -> Iterator[tuple[str, str]]:
    """:func:`hearback_server` with a voice library in ``folder`` and one finished job: the
    pyannote sample in English. Yields the base URL and the job's id."""
    with hearback_server(pipeline, folder, speaker_library=folder / "voices.sqlite", **settings) as url:
        with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
            job_id = httpx.post(f"{url}/v1/jobs", files={"file": fh}, data={"language": "en"}, timeout=60).json()["id"]
        assert wait_for_job(url, job_id)["status"] == "succeeded"
        yield url, job_id


def serve_process(port: int, env: dict, timeout: float = 180) -> subprocess.Popen:
    """``hearback serve`` as a process of its own (one a test can SIGKILL) on ``port`` with the
    environment ``env``, once its /health answers."""
    proc = subprocess.Popen([sys.executable, "-m", "hearback.cli", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise AssertionError("server did not become ready")


def wait_for_job(url: str, job_id: str, timeout: float = 300) -> dict:
    """Poll ``GET /v1/jobs/{id}`` until the job succeeded or failed; its view."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still {job['status']}")
