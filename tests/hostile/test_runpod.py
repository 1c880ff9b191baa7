"""Hostile input through RunPod's local API server (``python src/handler.py --rp_serve_api``,
a real process on loopback): malformed URLs, a non-object ``input``, a slow download server,
a damaged file and a decode bomb, each on ``/runsync``. Issue 16, items 1, 2, 4, 5 and 7.
Real models (tiny.en), files built with ffmpeg."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests import hostile
from tests.httpserver import free_port

REPO = Path(__file__).resolve().parents[2]
DEADLINE = 3


_CRASH = """
import os, signal, sys
sys.path[:0] = ["src"]
from hearback.runtime.tempdirs import job_tempdir
with job_tempdir() as folder:
    print(folder, flush=True)  # the child tells the parent its folder, then is SIGKILLed
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture(scope="module")
def temp_root(tmp_path_factory) -> Path:
    """The server's TMPDIR, holding the folder of a process SIGKILLed mid-job."""
    root = tmp_path_factory.mktemp("runpod-tmp")
    crashed = subprocess.run([sys.executable, "-c", _CRASH], cwd=REPO, capture_output=True, text=True,
                             env=dict(os.environ, TMPDIR=str(root)))
    assert Path(crashed.stdout.strip()).is_dir()
    return root


@pytest.fixture(scope="module")
def runsync(tmp_path_factory, temp_root):
    """POST to the local server's /runsync; the server lives for the module."""
    log_path = tmp_path_factory.mktemp("runpod") / "server.log"
    port = free_port()
    env = dict(os.environ, WHISPER_MODEL="tiny.en", RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS="1",
               HF_HUB_OFFLINE="1", PYANNOTE_METRICS_ENABLED="0", DOWNLOAD_DEADLINE=str(DEADLINE),
               TMPDIR=str(temp_root))
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "src/handler.py", "--rp_serve_api", "--rp_api_port",
                                 str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
                try:
                    requests.get(f"{url}/docs", timeout=2)
                    break
                except requests.ConnectionError:
                    time.sleep(1)

            def post(body) -> dict:
                return requests.post(f"{url}/runsync", json=body, timeout=300).json()

            yield post
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_start_up_removes_the_folders_of_dead_processes(runsync, temp_root):
    assert list(temp_root.glob("hearback-*")) == []


@pytest.mark.parametrize("bad", ["http://example.com:99999/a.mp3", "http://[::1/a.mp3",
                                 f"http://{'a' * 70}.com/a.mp3"])
def test_malformed_urls_are_invalid_url(runsync, bad):
    out = runsync({"input": {"audio_url": bad}})
    assert out["status"] == "FAILED" and out["error"].startswith("invalid_url: "), out


@pytest.mark.parametrize("value", ["a string", [1, 2], 3, None])
def test_a_non_object_input_is_invalid_input(runsync, value):
    out = runsync({"input": value})
    assert out["status"] == "FAILED" and out["error"].startswith("invalid_input: "), out


def test_a_slow_server_cannot_hold_a_job_past_the_deadline(runsync):
    with hostile.trickling_server() as slow:
        started = time.monotonic()
        out = runsync({"input": {"audio_url": slow, "diarize": False}})
    held = time.monotonic() - started
    assert out["status"] == "FAILED" and out["error"].startswith("download_failed: "), out
    assert held < DEADLINE + 1.5, held


@pytest.fixture(scope="module")
def files(tmp_path_factory, testdata) -> Path:
    return tmp_path_factory.mktemp("runpod-files")


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.mark.parametrize("container", ["mp3", "opus"])
def test_a_damaged_file_completes_with_the_damage_reported(runsync, files, testdata, container):
    encoded = hostile.encode(hostile.speech(testdata, files, clips=1), container, files)
    out = runsync({"input": {"audio_base64": b64(hostile.damaged(encoded, 0.4, 8192, files)),
                             "diarize": False}})
    assert out["status"] == "COMPLETED", out
    assert out["output"]["duration"] == pytest.approx(30.0, abs=0.15)
    damage = [w for w in out["output"]["warnings"] if w["code"] == "audio_damaged"]
    assert damage and all(w["end"] > w["start"] for w in damage), out["output"]["warnings"]


def test_a_seven_hour_bomb_is_refused_at_once(runsync, files):
    bomb = hostile.silence(files, 7 * 3600, "flac")
    started = time.monotonic()
    out = runsync({"input": {"audio_base64": b64(bomb)}})
    assert out["status"] == "FAILED" and out["error"].startswith("audio_too_long: "), out
    assert time.monotonic() - started < 10
