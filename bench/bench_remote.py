"""``hearback serve`` on the runpod backend: the closing check (a 30-minute recording page →
server → endpoint → page, edited, named from the library, rediarized, exported, the server
holding no model; the same document as the local backend) and the server's own overhead per job.

    python -m bench.bench_remote [--model base] [--minutes 30] [--jobs 20] [--skip-closing]

Closing check: bench_longform's 30-minute English recording (seed 2; the pyannote sample is in it
three times) as a 16 kHz WAV (57.6 MB: too large for one RunPod request, so it goes through the
bucket, original bytes). This project's worker runs under runpod's local API server (``--model``,
real models), moto's S3 server holds the bucket, ``hearback serve`` (HEARBACK_BACKEND=runpod) is a
process of its own, its peak RSS (VmHWM) and CPU time read from /proc. "Diane" (the sample's
speaker90, her turns of its first 15 s) is enrolled first, through the page's route (task enrol on
the endpoint). Headless Chromium opens the page, picks the file, starts the job and waits for the
transcript. The stored document is compared with the local pipeline's on the same WAV (same model,
in this process); then a rename, a rediarization (one speaker fewer), an undo and the exports.

Overhead: ``--jobs`` jobs of the pyannote sample through ``hearback serve`` to the stand-in queue of
tests/runpod_standin.py, whose worker answers at once with the real output of one real run
(recorded first): per job, the server's CPU time and its wall time beyond RunPod's own delayTime +
executionTime. Writes bench/results/remote.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

from bench import REPO, TESTDATA, setup_logging, write_results

PORT_WAIT = 120


def _proc_figures(pid: int) -> tuple[float, float]:
    """(peak RSS MB, CPU seconds) of a live process, its finished children (ffmpeg) included."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime, stime, cutime, cstime
    return peak, cpu


def _serve(port: int, folder: Path, **env: str) -> subprocess.Popen:
    environment = dict(os.environ, HEARBACK_BACKEND="runpod", HEARBACK_DB=str(folder / "jobs.sqlite3"),
                       HEARBACK_DATA_DIR=str(folder / "data"), SPEAKER_LIBRARY=str(folder / "voices.sqlite3"),
                       PYTHONPATH=str(REPO / "src"), **env)
    log = (folder / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "hearback.cli", "serve", "--port", str(port)], env=environment,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + PORT_WAIT
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, (folder / "serve.log").read_text()[-2000:]
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return proc
        except requests.ConnectionError:
            time.sleep(0.2)


def _wait_job(url: str, job_id: str, timeout: float = 7200) -> dict:
    deadline = time.monotonic() + timeout
    while (job := requests.get(f"{url}/v1/jobs/{job_id}", timeout=30).json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(1)
    return job


def _diane(folder: Path) -> Path:
    from evaluation.testdata import read_rttm
    from hearback.audio.decode import decode
    from hearback.remote.pipeline import write_wav
    from hearback.types import Audio

    audio = decode(TESTDATA / "diarization" / "pyannote-sample.wav")
    reference = read_rttm(TESTDATA / "diarization" / "pyannote-sample.rttm")
    spans = [(s.start, min(s.end, 15.0)) for s in reference.label_timeline("speaker90") if s.start < 15.0]
    samples = np.concatenate([audio.samples[int(a * 16000):int(b * 16000)] for a, b in spans])
    return write_wav(Audio(samples), folder / "diane.wav")


def closing(args, folder: Path) -> list[str]:
    from bench.bench_longform import long_files
    from hearback.audio.decode import decode
    from hearback.document import result_to_dict
    from hearback.pipeline import Pipeline
    from hearback.remote.pipeline import write_wav
    from hearback.settings import Settings
    from hearback.speakers.library import Library
    from hearback.speakers.voiceprint import enrol
    from hearback.types import Options
    from tests.httpserver import free_port
    from tests.pagedriver import chromium, watch_job
    from tests.remote_servers import bucket_objects, moto_s3, runpod_local_server
    from selenium.webdriver.common.by import By

    recording = next(f for f in long_files() if f.name == "en-30min-seed2")
    wav = write_wav(recording.audio, folder / "meeting-30min.wav")
    lines = [f"## Closing check: {recording.audio.duration / 60:.1f}-minute recording, Whisper {args.model}", ""]
    with runpod_local_server(folder / "worker.log", WHISPER_MODEL=args.model) as endpoint, \
            moto_s3(folder / "moto.log") as bucket:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        server = _serve(port, folder, RUNPOD_ENDPOINT_URL=endpoint, **bucket)
        ready = time.monotonic() - started
        try:
            with _diane(folder).open("rb") as fh:
                enrolled = requests.post(f"{url}/v1/speakers", data={"name": "Diane"}, files={"file": fh}, timeout=600)
            assert enrolled.status_code == 201, enrolled.text
            browser = chromium(Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver"), folder)
            try:
                browser.get(url + "/")
                browser.find_element(By.ID, "file-input").send_keys(str(wav))
                submitted = time.monotonic()
                browser.find_element(By.ID, "start").click()
                watched = watch_job(browser, timeout=7200)
                wall = time.monotonic() - submitted
                words = len(browser.find_elements(By.CSS_SELECTOR, "#transcript .w"))
                status_text = browser.find_element(By.ID, "stage-text").text
            finally:
                browser.quit()
            job_id = watched["id"]
            job = requests.get(f"{url}/v1/jobs/{job_id}", timeout=30).json()
            remote_doc = requests.get(f"{url}/v1/jobs/{job_id}/result", timeout=60).json()
            revision = remote_doc.pop("revision", None)
            peak_after_job, cpu_after_job = _proc_figures(server.pid)
            worker_seconds = [float(line.rsplit(" in ", 1)[1].split()[0]) for line in
                              (folder / "worker.log").read_text().splitlines() if " done: " in line]
            named = "Diane" in remote_doc["speakers"]
            others = [s for s in remote_doc["speakers"] if s != "Diane"]
            edited = requests.post(f"{url}/v1/jobs/{job_id}/edits", timeout=60, json={
                "ops": [{"op": "rename", "speaker": others[0], "name": "Sheila"}], "revision": revision}).json()
            rediarize_started = time.monotonic()
            fewer = requests.post(f"{url}/v1/jobs/{job_id}/rediarize", timeout=900, json={
                "num_speakers": max(1, len(remote_doc["speakers"]) - 1), "revision": edited["revision"]})
            rediarize_wall = time.monotonic() - rediarize_started
            undone = requests.post(f"{url}/v1/jobs/{job_id}/undo", timeout=60,
                                   json={"revision": fewer.json()["revision"]}).json()
            exports = {fmt: requests.get(f"{url}/v1/jobs/{job_id}/result", params={"format": fmt}, timeout=120)
                       for fmt in ("srt", "vtt", "txt", "docx", "rttm")}
            peak, cpu = _proc_figures(server.pid)
            left_in_bucket = bucket_objects(bucket)
        finally:
            server.terminate()
            server.wait(30)
    local_started = time.monotonic()  # the local backend, naming from a library of its own
    pipeline = Pipeline.load(Settings(whisper_model=args.model, diarization_backend="embedded"))
    library = Library(folder / "local-voices.sqlite3")
    library.add(enrol("Diane", [decode(folder / "diane.wav")], pipeline.diarizer))
    local_doc = result_to_dict(pipeline.transcribe_file(wav, Options(), voices=library.voices()))
    local_seconds = time.monotonic() - local_started
    same = local_doc == remote_doc
    differing = [k for k in local_doc if local_doc.get(k) != remote_doc.get(k)]
    worker = worker_seconds[-1] if worker_seconds else float("nan")
    lines += [
        "| measure | value |", "|---|---|",
        f"| `hearback serve` ready (no model) | {ready:.1f} s |",
        f"| its peak RSS, whole run (enrol, the 30-minute job, edit, rediarize, undo, 5 exports) | {peak:.0f} MB |",
        f"| its CPU time, whole run | {cpu:.1f} s (after the job: {cpu_after_job:.1f} s) |",
        f"| job: the page's click to the transcript shown | {wall:.1f} s |",
        f"| of which the worker's own processing (its log) | {worker:.1f} s |",
        f"| the rest: staging (bucket upload), polling, storing, the page | {wall - worker:.1f} s |",
        f"| audio transport | {job['remote']['transport']} (bucket left with {len(left_in_bucket)} objects) |",
        f"| the page showed | stages {', '.join(s for s in watched['stages'] if s)}; {words} words; \"{status_text}\" |",
        f"| named from the library | {'Diane' if named else 'not named'} ({', '.join(remote_doc['speakers'])}) |",
        f"| edit, rediarize (one fewer: {len(fewer.json().get('speakers', []))} speakers, {rediarize_wall:.1f} s on the endpoint), undo | "
        f"{set(edited['speakers']) >= {'Sheila'}}, {fewer.status_code}, {set(undone['speakers']) == set(edited['speakers'])} |",
        f"| exports | {', '.join(f'{k} {v.status_code} ({len(v.content)} B)' for k, v in exports.items())} |",
        f"| local backend, same WAV and model (this process) | {local_seconds:.1f} s |",
        f"| documents equal (runpod vs local) | {'yes, identical' if same else 'no: ' + ', '.join(differing)} |",
        "",
    ]
    (folder / "remote.json").write_text(json.dumps(remote_doc))
    return lines


def overhead(args, folder: Path) -> list[str]:
    from hearback import worker
    from hearback.pipeline import Pipeline
    from hearback.settings import Settings
    from tests.httpserver import free_port
    from tests.runpod_standin import stand_in

    worker.set_pipeline(Pipeline.load(Settings(whisper_model="tiny.en", diarization_backend="embedded")))
    sample = TESTDATA / "diarization" / "pyannote-sample.wav"
    import base64

    recorded = worker.handler({"id": "record", "input": {
        "audio_base64": base64.b64encode(sample.read_bytes()).decode(), "use_library": False,
        "extras": ["speaker_embeddings", "diarization_inputs", "voiceprints"]}})
    assert "error" not in recorded, recorded
    key = "bench-key"
    with stand_in(lambda job: dict(recorded), api_key=key, workers=4) as (endpoint, queue):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        (folder / "overhead").mkdir()
        server = _serve(port, folder / "overhead", RUNPOD_ENDPOINT_URL=endpoint, RUNPOD_API_KEY=key)
        try:
            _, cpu_before = _proc_figures(server.pid)
            walls, remote = [], []
            for _ in range(args.jobs):
                started = time.monotonic()
                with sample.open("rb") as fh:
                    job_id = requests.post(f"{url}/v1/jobs", files={"file": fh}, timeout=60).json()["id"]
                job = _wait_job(url, job_id, 600)
                walls.append(time.monotonic() - started)
                remote.append((job["remote"]["delay_time"] or 0) + (job["remote"]["execution_time"] or 0))
            peak, cpu_after = _proc_figures(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    beyond = [w - r for w, r in zip(walls, remote)]
    return [
        f"## Overhead per job: {args.jobs} jobs of the 30 s pyannote sample, one after another", "",
        "The stand-in queue answers each at once with the real output of one real run (document and every "
        "extra); default polling (2 s first).", "",
        "| measure | value |", "|---|---|",
        f"| server CPU per job (submit, its ffmpeg playback copy, /run, /status, store the result and extras) | "
        f"{(cpu_after - cpu_before) / args.jobs * 1000:.0f} ms |",
        f"| wall time per job beyond RunPod's delayTime + executionTime, median (max) | "
        f"{np.median(beyond):.2f} s ({max(beyond):.2f} s) |",
        f"| server peak RSS | {peak:.0f} MB |",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="base")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--skip-closing", action="store_true")
    args = parser.parse_args()
    setup_logging()
    os.environ.setdefault("RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS", "1")
    load = os.getloadavg()
    lines = [f"Machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start.", ""]
    with tempfile.TemporaryDirectory(prefix="bench-hearback-remote-") as tmp:
        folder = Path(tmp)
        lines += overhead(args, folder)
        if not args.skip_closing:
            lines += closing(args, folder)
    load = os.getloadavg()
    lines.append(f"Load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}.")
    write_results(__spec__.name, "remote", "\n".join(lines))


if __name__ == "__main__":
    main()
