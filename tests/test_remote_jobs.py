"""``hearback serve`` on the runpod backend where runpod's local server cannot show it (see
tests/runpod_standin.py): a stand-in queue written from RunPod's documented API, with the
project's real handler (``hearback.worker.handler``, Whisper tiny.en, the embedded diarizer)
as its worker, running jobs while nobody asks for them, as the platform does.

* SIGKILL of ``hearback serve`` (a real process) while its remote jobs run: after a restart
  every job completes and none is sent twice; the server never holds a model (its peak RSS);
* the ``served`` way (a signed single-job URL of the server itself, fetched by the worker) and
  RunPod's webhook, with an API key on the server that neither needs;
* a remote job that fails, and a running one deleted (``/cancel`` sent).

runpod-python's ``progress_update`` posts to RunPod's job API, which cannot exist here; it is
routed to the stand-in's job instead (what the platform does with it: the running job's
``output``), so the real handler's progress reaches the server as on the platform."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.httpserver import free_port, hearback_server, serve_process, wait_for_job
from tests.runpod_standin import stand_in

pytestmark = pytest.mark.slow

KEY = "rp-stand-in-key-8c1e"


@pytest.fixture(scope="module")
def platform(pipeline_tiny):
    """The stand-in queue (one worker: later jobs wait IN_QUEUE) running the real handler."""
    import runpod.serverless

    from hearback import worker

    worker.set_pipeline(pipeline_tiny)
    patch = pytest.MonkeyPatch()
    patch.setenv("RUNPOD_WEBHOOK_POST_OUTPUT", "stand-in")  # the handler reports progress, as on the platform
    patch.setenv("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "1")  # this server's signed URLs are on loopback
    with stand_in(worker.handler, api_key=KEY, workers=1) as (url, queue):
        patch.setattr(runpod.serverless, "progress_update", lambda job, update: queue.progress(job["id"], update))
        yield url, queue
    patch.undo()
    worker.set_pipeline(None)




def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_sigkill_while_remote_jobs_run_then_every_job_completes_and_none_is_sent_twice(platform, testdata, tmp_path):
    url, queue = platform
    before = len(queue.inputs)
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "RUNPOD_WEBHOOK_POST_OUTPUT"}
    env.update(HEARBACK_BACKEND="runpod", RUNPOD_ENDPOINT_URL=url, RUNPOD_API_KEY=KEY, HEARBACK_WORKERS="3",
               HEARBACK_DB=str(tmp_path / "jobs.sqlite3"), HEARBACK_DATA_DIR=str(tmp_path / "data"),
               RUNPOD_POLL_INTERVAL="0.3", RUNPOD_POLL_MAX="1", RUNPOD_PRICE_PER_SECOND="0.00031",
               WHISPER_MODEL="large-v3")  # no model loads: the name alone costs nothing
    started = time.monotonic()
    first = serve_process(port, env)
    ready = time.monotonic() - started
    ids, stages = [], set()
    try:
        for _ in range(3):
            with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
                ids.append(httpx.post(f"{server}/v1/jobs", files={"file": fh}, timeout=60).json()["id"])
        deadline = time.monotonic() + 300
        while True:  # every job sent, the first one running on the worker, its progress shown here
            views = [httpx.get(f"{server}/v1/jobs/{i}", timeout=10).json() for i in ids]
            stages |= {(v["remote"] or {}).get("status") for v in views} | {v["stage"] for v in views}
            if all(v["remote"] and v["remote"]["id"] for v in views) and stages & {"transcribe", "diarize"}:
                break
            assert time.monotonic() < deadline, views
            time.sleep(0.2)
        remote_ids = [v["remote"]["id"] for v in views]
        assert {v["remote"]["status"] for v in views} >= {"IN_QUEUE"}  # one worker: the others wait
        first_rss = _peak_rss_mb(first.pid)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    second = serve_process(port, env)
    try:
        jobs = [wait_for_job(server, i, timeout=900) for i in ids]
        second_rss = _peak_rss_mb(second.pid)
    finally:
        second.terminate()
        second.wait(30)
    assert [j["status"] for j in jobs] == ["succeeded"] * 3, jobs
    assert [j["remote"]["id"] for j in jobs] == remote_ids  # the same remote jobs, followed again
    assert len(queue.inputs) - before == 3  # none sent twice
    assert all(j["remote"]["execution_time"] > 0 and j["remote"]["cost"] is not None for j in jobs)
    assert all(j["audio"] for j in jobs)  # playback copies made here
    # no model in the server: a process that loads Whisper and the diarizer peaks well above 1 GB
    print(f"\nrunpod backend: ready in {ready:.1f} s; peak RSS {first_rss:.0f} MB, after restart {second_rss:.0f} MB")
    assert ready < 30 and first_rss < 400 and second_rss < 400, (ready, first_rss, second_rss)


def test_served_audio_and_the_webhook_need_no_api_key(platform, testdata, tmp_path, caplog):
    caplog.set_level("INFO", logger="hearback.api.remote")
    url, queue = platform
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    with hearback_server(None, tmp_path, port=port, hearback_backend="runpod", runpod_endpoint_url=url,
                         runpod_api_key=KEY, hearback_public_url=public, hearback_api_key="server-key",
                         runpod_max_payload=100_000, runpod_poll_interval=30, runpod_poll_max=30) as server:
        key = {"Authorization": "Bearer server-key"}
        with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
            job_id = httpx.post(f"{server}/v1/jobs", files={"file": fh}, headers=key, timeout=60).json()["id"]
        started = time.monotonic()
        deadline = time.monotonic() + 600
        while (job := httpx.get(f"{server}/v1/jobs/{job_id}", headers=key, timeout=10).json())["status"] not in (
                "succeeded", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        took = time.monotonic() - started
        assert job["status"] == "succeeded", job
        assert job["remote"]["transport"] == "served"
        sent = queue.inputs[-1]
        assert sent["audio_url"].startswith(f"{public}/v1/remote/audio/{job_id}?expires=") and "server-key" not in str(sent)
        # the URL served its job's audio only while it ran; a forged one opens nothing
        assert httpx.get(sent["audio_url"], timeout=10).status_code == 404
        forged = sent["audio_url"].replace(job_id, "0" * 32)
        assert httpx.get(forged, timeout=10).status_code == 404
        remote = queue.jobs[job["remote"]["id"]]
        assert remote.webhook.startswith(f"{public}/v1/remote/webhook/{job_id}?expires=")
        assert (remote.id, 200) in queue.hooks  # RunPod's call came, and woke the follower:
        assert f"webhook for job {job_id} (COMPLETED): its status is asked now" in caplog.text
        assert job["updated_at"] - remote.ended < 10, took  # not the 30 s poll
        assert httpx.post(remote.webhook.split("?")[0], json={"id": remote.id}, timeout=10).status_code == 404


def test_a_failed_remote_job_and_a_deleted_one(tmp_path, testdata):
    def dies(job):
        if job["input"].get("language") == "fr":
            time.sleep(30)  # the job deleted below
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    with stand_in(dies, api_key=KEY) as (url, queue), hearback_server(
            None, tmp_path, hearback_backend="runpod", runpod_endpoint_url=url, runpod_api_key=KEY,
            runpod_poll_interval=0.2, runpod_poll_max=0.5) as server:
        with (testdata / "asr" / "misc" / "jfk-en.flac").open("rb") as fh:
            failed = httpx.post(f"{server}/v1/jobs", files={"file": fh}, timeout=60).json()
        job = wait_for_job(server, failed["id"], timeout=120)
        assert job["status"] == "failed" and job["error"]["code"] == "remote_failed", job
        assert "illegal memory access" in job["error"]["message"]
        with (testdata / "asr" / "misc" / "jfk-en.flac").open("rb") as fh:
            running = httpx.post(f"{server}/v1/jobs", files={"file": fh}, data={"language": "fr"}, timeout=60).json()
        deadline = time.monotonic() + 60
        while not (httpx.get(f"{server}/v1/jobs/{running['id']}", timeout=10).json()["remote"] or {}).get("id"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert httpx.delete(f"{server}/v1/jobs/{running['id']}", timeout=10).json()["deleted"] is True
        deadline = time.monotonic() + 30
        while not any(call.startswith("POST /cancel/") for call in queue.calls):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert [j.status for j in queue.jobs.values()].count("CANCELLED") == 1
