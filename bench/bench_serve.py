"""The server stays responsive while it renders a long export: ``/health`` polled every ~20 ms
while a 3-hour transcript's SRT (and its JSON document) is downloaded.

    python -m bench.bench_serve [--hours 3] [--poll 0.02] [--repeat 3]

The transcript is real but not transcribed for 3 hours: the pipeline (Whisper tiny.en, embedded
diarization) on the pyannote sample, repeated end to end (times shifted, as bench_edits does)
to ``--hours``, stored as a succeeded job in a fresh job database. ``hearback serve`` then runs
as its own process on that database (as a user runs it), and this process downloads the export
while another thread polls ``/health``. Reported: each download's time and size, and /health's
worst, 99th-percentile and median answer time over the downloads (the target: under 100 ms
throughout). Writes bench/results/serve.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bench import REPO, TESTDATA, setup_logging, temp_folder, write_results
from bench.bench_edits import repeated

SAMPLE = TESTDATA / "diarization" / "pyannote-sample.wav"


def stored_job(db: Path, hours: float) -> tuple[str, int]:
    """A succeeded job holding the sample's transcript repeated to ``hours``; its id and words."""
    from hearback.jobs.store import JobStore
    from hearback.pipeline import Pipeline
    from hearback.settings import Settings
    from hearback.types import Options

    pipeline = Pipeline.load(Settings(whisper_model="tiny.en", diarization_backend="embedded"))
    long = repeated(pipeline.transcribe_file(SAMPLE, Options(language="en")), hours)
    store = JobStore(db)
    job = store.add(Options(), audio_path=None, audio_url="https://example.com/long.wav", filename="long.wav")
    store.succeed(job.id, long)
    return job.id, sum(len(s.words) for s in long.segments)


def serve(folder: Path, port: int) -> subprocess.Popen:
    """``hearback serve`` on the job database in ``folder``, once /health answers."""
    env = dict(os.environ, WHISPER_MODEL="tiny.en", HEARBACK_DB=str(folder / "jobs.sqlite3"),
               HEARBACK_DATA_DIR=str(folder / "audio"), HF_HUB_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "hearback.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("hearback serve did not start")


def download_while_polling(url: str, path: str, poll: float) -> tuple[float, int, list[float]]:
    """GET ``path`` (seconds, bytes) while /health is asked every ``poll`` seconds on its own
    connection; every /health answer time in seconds."""
    latencies: list[float] = []
    done = threading.Event()

    def watch() -> None:
        with httpx.Client(timeout=30) as client:
            while not done.is_set():
                start = time.perf_counter()
                assert client.get(f"{url}/health").status_code == 200
                latencies.append(time.perf_counter() - start)
                time.sleep(max(0.0, poll - latencies[-1]))

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(0.2)  # /health answers on its own first
    start = time.perf_counter()
    answer = httpx.get(f"{url}{path}", timeout=600)
    seconds = time.perf_counter() - start
    time.sleep(0.2)
    done.set()
    watcher.join()
    answer.raise_for_status()
    return seconds, len(answer.content), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=3.0)
    parser.add_argument("--poll", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_logging()
    load = os.getloadavg()
    with temp_folder() as tmp:
        folder = Path(tmp)
        job_id, words = stored_job(folder / "jobs.sqlite3", args.hours)
        with socket.socket() as probe:  # a free port on loopback
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = serve(folder, port)
        rows, worst = [], []
        try:
            for fmt in ("srt", "json"):
                for _ in range(args.repeat):
                    seconds, size, latencies = download_while_polling(
                        f"http://127.0.0.1:{port}", f"/v1/jobs/{job_id}/result?format={fmt}", args.poll)
                    latencies.sort()
                    worst.append(latencies[-1])
                    rows.append(f"| {fmt.upper()} | {seconds:.2f} s | {size / 1e6:.1f} MB | {len(latencies)} | "
                                f"{statistics.median(latencies) * 1000:.1f} ms | "
                                f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms | "
                                f"**{latencies[-1] * 1000:.0f} ms** |")
        finally:
            proc.terminate()
            proc.wait(30)
    text = "\n".join([
        f"A {args.hours:g} h transcript ({words} words: the pyannote sample's, tiny.en, repeated end to end; "
        f"not transcribed for {args.hours:g} h) stored as a succeeded job; `hearback serve` in its own process; "
        f"/health asked every {args.poll * 1000:.0f} ms during each download. Load average at the start: "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores.", "",
        "| download | time | size | /health answers | median | p99 | worst |", "|---|---|---|---|---|---|---|",
        *rows, "", f"Worst /health answer over every download: **{max(worst) * 1000:.0f} ms**."])
    write_results(__spec__.name, "serve", text)


if __name__ == "__main__":
    main()
