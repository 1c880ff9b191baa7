"""Many jobs in one worker: 100 sequential jobs through the RunPod handler.

    python -m bench.bench_jobs [--jobs 100] [--model tiny.en] [--warmup 10]

One process loads the pipeline once (via the handler's own ``get_pipeline``) and runs
``--jobs`` jobs on the test data's clips in turn (every fifth job a bad input, which must fail with
its code and leave the worker ready). The clips are served over HTTP from 127.0.0.1, the way
a worker fetches ``audio_url``, so download, temp files and cleanup are exercised too (runpod-python's
private-address switch is set for this bench only). Reports RSS after warm-up and at the end
(drift), that the models were loaded once, and that the temp folder is empty.
Writes bench/results/jobs.md.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench import TEMP_PREFIX, TESTDATA, setup_logging, write_results

CLIPS = ["diarization/pyannote-sample.wav", "asr/misc/jfk-en.flac", "diarization/ami/dev00.flac",
         "asr/fleurs/en-001.ogg"]


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def serve_testdata() -> tuple[http.server.ThreadingHTTPServer, str]:
    """The test data over HTTP on 127.0.0.1, in a thread: the server and its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # no access log on stderr
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(TESTDATA)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def report(args, seconds: float, rss: list[float], loads: int, failures: int, wrong: int, left: int) -> list[str]:
    """The run's table: memory after warm-up and at the end, loads, failures, leftovers."""
    warm = rss[args.warmup - 1]
    drift = (rss[-1] - warm) / warm
    return [
        f"{args.jobs} jobs through `worker.handler` in one process (Whisper {args.model}, embedded "
        "diarization, CPU); clips fetched over HTTP from 127.0.0.1; every fifth job a text file "
        f"(must fail with `invalid_audio`). {seconds:.0f} s in all.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| RSS after job {args.warmup} (warm-up) | {warm:.0f} MB |",
        f"| RSS after job {args.jobs} | {rss[-1]:.0f} MB |",
        f"| drift after warm-up | **{drift * 100:+.2f} %** |",
        f"| highest RSS after warm-up | {max(rss[args.warmup - 1:]):.0f} MB |",
        f"| pipeline loads | {loads} |",
        f"| good jobs that failed | {failures} |",
        f"| bad inputs without `invalid_audio` | {wrong} |",
        f"| files or folders left in the temp folder by jobs 2–{args.jobs} | {left} |",
        "",
        "RSS after each job (MB): " + ", ".join(f"{r:.0f}" for r in rss),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args()
    setup_logging()

    temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    tempfile.tempdir = str(temp)  # every job's temp files land here, to be checked at the end
    os.environ.update(WHISPER_MODEL=args.model, DIARIZATION_BACKEND="embedded", DEVICE="cpu")

    # Loopback is refused to real callers; this bench serves its clips from 127.0.0.1, so it
    # sets runpod-python's own switch for private download URLs (never set it in production).
    os.environ["RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS"] = "1"

    from hearback import pipeline as pipeline_module, worker
    loads = []
    original_load = pipeline_module.Pipeline.load.__func__

    def counting_load(cls, *a, **kw):
        loads.append(time.time())
        return original_load(cls, *a, **kw)

    pipeline_module.Pipeline.load = classmethod(counting_load)

    httpd, base = serve_testdata()

    rss, failures, wrong, before = [], 0, 0, set()
    started = time.perf_counter()
    for i in range(args.jobs):
        if i % 5 == 4:  # a bad input: must fail with its code, worker stays up
            out = worker.handler({"id": f"bad-{i}", "input": {"audio_url": f"{base}/README.md"}})
            wrong += not str(out.get("error", "")).startswith("invalid_audio:")
        else:
            clip = CLIPS[i % len(CLIPS)]
            out = worker.handler({"id": f"job-{i}", "input": {"audio_url": f"{base}/{clip}",
                                                              "language": "en"}})
            failures += "error" in out
        rss.append(rss_mb())
        if i == 0:
            # torch makes one TemporaryDirectory of its own when imported (on the first job,
            # with the models), removed at exit: not a job's. Count what jobs leave.
            before = set(temp.iterdir())
    seconds = time.perf_counter() - started
    httpd.shutdown()
    left = sorted(set(temp.iterdir()) - before)
    lines = report(args, seconds, rss, len(loads), failures, wrong, len(left))
    write_results(__spec__.name, "jobs", "\n".join(lines))
    shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
