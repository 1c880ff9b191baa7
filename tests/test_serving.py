"""Issue 24, data safety 3, over real HTTP: one export of a long transcript does not freeze the
server (/health answers throughout the download), and no edit can pack text out of proportion
to the audio. The transcript is real, not transcribed for hours: the pipeline (tiny.en +
embedded diarization) on the pyannote sample, laid end to end (bench/bench_serve.py measures
the 3-hour case)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import httpx

from tests.httpserver import hearback_server


def laid_end_to_end(result, copies: int):
    segments, turns = [], []
    for k in range(copies):
        shift = k * result.duration
        segments += [replace(s, start=s.start + shift, end=s.end + shift,
                             words=tuple(replace(w, start=w.start + shift, end=w.end + shift) for w in s.words))
                     for s in result.segments]
        turns += [replace(t, start=t.start + shift, end=t.end + shift) for t in result.diarization.turns]
    return replace(result, segments=tuple(segments), duration=copies * result.duration,
                   diarization=replace(result.diarization, turns=tuple(turns), centroids={}))


def test_a_long_export_leaves_health_answering(pipeline_tiny, testdata, tmp_path):
    from hearback.jobs.store import JobStore
    from hearback.types import Options

    short = pipeline_tiny.transcribe_file(testdata / "diarization" / "pyannote-sample.wav", Options(language="en"))
    long = laid_end_to_end(short, 240)  # 2 hours
    store = JobStore(tmp_path / "jobs.sqlite3")
    job = store.add(Options(), audio_path=None, audio_url="https://example.com/long.wav")
    store.succeed(job.id, long)
    with hearback_server(pipeline_tiny, tmp_path) as url:
        latencies, done = [], threading.Event()

        def watch() -> None:
            with httpx.Client(timeout=60) as client:
                while not done.is_set():
                    start = time.perf_counter()
                    assert client.get(f"{url}/health").status_code == 200
                    latencies.append(time.perf_counter() - start)
                    time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        time.sleep(0.3)
        start = time.perf_counter()
        srt = httpx.get(f"{url}/v1/jobs/{job.id}/result", params={"format": "srt"}, timeout=600)
        took = time.perf_counter() - start
        done.set()
        watcher.join(60)
    assert srt.status_code == 200 and srt.text.count("\n\n") > 1000
    assert took > 0.5, took  # long enough that an export on the event loop would show
    # on the event loop, /health waited the whole export; off it, a small part of it at worst
    assert max(latencies) < max(0.25, took / 4), (max(latencies), took)


def test_no_edit_packs_text_out_of_proportion_to_the_audio(pipeline_tiny, testdata, tmp_path):
    from hearback.edits import MAX_CHARS_PER_SECOND, MIN_CHARS

    with hearback_server(pipeline_tiny, tmp_path) as url:
        with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
            job_id = httpx.post(f"{url}/v1/jobs", files={"file": fh}, data={"language": "en"}, timeout=60).json()["id"]
        from tests.httpserver import wait_for_job

        assert wait_for_job(url, job_id)["status"] == "succeeded"
        document = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json()
        limit = max(MIN_CHARS, document["duration"] * MAX_CHARS_PER_SECOND)
        widest = max(range(len(document["transcription"]["segments"])), key=lambda i: (
            document["transcription"]["segments"][i]["end"] - document["transcription"]["segments"][i]["start"]))
        much = " ".join(["words"] * int(limit / 6 + 10))  # more than the limit once added
        answer = httpx.post(f"{url}/v1/jobs/{job_id}/edits", timeout=60, json={
            "ops": [{"op": "edit", "segment": widest, "text": much}], "revision": document["revision"]})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_edit", answer.text
        assert "per second of audio" in answer.json()["error"]["message"]
        fine = httpx.post(f"{url}/v1/jobs/{job_id}/edits", timeout=60, json={
            "ops": [{"op": "edit", "segment": widest, "text": "a fair correction"}], "revision": document["revision"]})
        assert fine.status_code == 200, fine.text
