"""Eight requests at once over real HTTP: every one answered with its own file's transcript,
none lost; with a pool of two, the other jobs queue rather than fail. Real models (tiny.en),
real audio, real sockets."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.httpserver import hearback_server

# Four different recordings, each twice: a mixed-up answer would show the wrong words.
CLIPS = {
    "asr/misc/jfk-en.flac": "country",
    "asr/misc/librispeech-en.wav": "quilter",
    "diarization/pyannote-sample.wav": "chicago",
    "asr/fleurs/en-001.ogg": "capital",
}


@pytest.fixture(scope="module")
def server(pipeline_tiny, tmp_path_factory):
    folder = tmp_path_factory.mktemp("concurrency")
    with hearback_server(pipeline_tiny, folder, hearback_workers=2) as url:
        yield url, folder


def requests(testdata):
    return [(testdata / name, word) for name, word in CLIPS.items()] * 2


def upload(url: str, route: str, path, data: dict) -> httpx.Response:
    with path.open("rb") as fh:
        return httpx.post(f"{url}{route}", files={"file": (path.name, fh)}, data=data, timeout=600)


def check(text: str, word: str) -> None:
    """The answer holds its own clip's word and none of the others'."""
    text = text.lower()
    assert word in text, text
    assert not any(other in text for other in CLIPS.values() if other != word), text


def test_eight_concurrent_transcriptions_all_answered(server, testdata):
    url, _ = server

    def post(item):
        path, word = item
        return upload(url, "/v1/audio/transcriptions", path, {"model": "whisper-1"}), word

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, requests(testdata)))
    assert len(answers) == 8
    for answer, word in answers:
        assert answer.status_code == 200, answer.text
        check(answer.json()["text"], word)


def test_eight_jobs_on_a_pool_of_two_queue_and_all_finish(server, testdata):
    url, folder = server

    def submit(item):
        answer = upload(url, "/v1/jobs", item[0], {"diarize": "false"})
        assert answer.status_code == 202, answer.text
        return answer.json()

    with ThreadPoolExecutor(8) as pool:
        jobs = list(pool.map(submit, requests(testdata)))
    assert len({job["id"] for job in jobs}) == 8
    seen_queued = False
    deadline = time.monotonic() + 600
    pending = {job["id"] for job in jobs}
    while pending:
        assert time.monotonic() < deadline, f"jobs still pending: {pending}"
        with sqlite3.connect(folder / "jobs.sqlite3") as db:  # one consistent snapshot
            (running,) = db.execute("SELECT count(*) FROM jobs WHERE status = 'running'").fetchone()
        assert running <= 2, "more jobs ran at once than the pool allows"
        states = {job_id: httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json() for job_id in pending}
        seen_queued |= any(s["status"] == "queued" for s in states.values())
        for job_id, state in states.items():
            assert state["status"] != "failed", state
            if state["status"] == "succeeded":
                pending.discard(job_id)
        time.sleep(0.2)
    assert seen_queued, "no job ever waited: the pool did not bound the work"
    for job, (_path, word) in zip(jobs, requests(testdata)):
        result = httpx.get(f"{url}/v1/jobs/{job['id']}/result", timeout=10).json()
        check(result["transcription"]["text"], word)
    assert [p for p in (folder / "audio").iterdir() if p.is_file()] == [], "uploads left behind"
