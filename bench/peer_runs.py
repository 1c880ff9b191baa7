"""One tool on one file, in a process of its own: what bench/bench_peers.py launches.

    python -m bench.peer_runs TOOL FILE OUT [--model base] [--threads 2]

TOOL is one of :data:`TOOLS`. Each loads its model (timed), runs once on FILE (a path, or for
the ``*-clips`` tools a text file listing one clip per line), and writes to OUT (JSON): its load
and run seconds, its peak RSS, and what it heard as timed pieces ``[start, end, text]`` (words
when the tool gives word times, else segments). Hearback adds its stage seconds, the speaker
turns, the speakers found, the faults ``hearback.invariants.check`` finds in its JSON document
and the recognizer's own account of its checks and re-decodes.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections import Counter
from pathlib import Path

import bench  # noqa: F401  (the environment, this checkout's src/ first)
from bench import peak_rss_mb

#: tool → what it is, as the results table names it
TOOLS = {
    "batched": "faster-whisper `BatchedInferencePipeline` (batch 8, its Silero VAD, word timestamps; ASR only)",
    "whisperx": "WhisperX `load_model(...).transcribe` (its pyannote VAD, batch 8; ASR only, no align)",
    "hearback": "**Hearback full pipeline** (decode, ASR, word times, diarization, assignment, JSON)",
    "plain-clips": "plain faster-whisper `WhisperModel.transcribe` (beam 5, no VAD, sequential; ASR only), clip by clip",
    "hearback-http-clips": "**Hearback through HTTP** (`POST /v1/audio/transcriptions`, diarized_json), clip by clip",
}


class _Recognizer(logging.Handler):
    """What the recognizer logs about its own work: checks and re-decodes, second passes."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.check_seconds = 0.0
        self.lines: list[str] = []

    def emit(self, record):
        self.check_seconds += getattr(record, "check_seconds", 0.0)
        if record.name.startswith("hearback.asr"):
            self.lines.append(record.getMessage())


def _model_path(model: str) -> str:
    from hearback.asr.models import resolve_whisper_model
    from hearback.settings import Settings

    return resolve_whisper_model(model, Settings().model_cache_dir)


def batched(path: Path, model: str, threads: int) -> tuple[float, dict]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    started = time.perf_counter()
    pipeline = BatchedInferencePipeline(WhisperModel(_model_path(model), device="cpu", compute_type="int8",
                                                     cpu_threads=threads))
    load = time.perf_counter() - started
    segments, info = pipeline.transcribe(str(path), batch_size=8, word_timestamps=True)
    words = [[w.start, w.end, w.word.strip()] for s in segments for w in s.words]
    return load, {"pieces": words, "word_times": True, "language": info.language}


def whisperx(path: Path, model: str, threads: int) -> tuple[float, dict]:
    import whisperx as wx

    started = time.perf_counter()
    pipeline = wx.load_model(_model_path(model), "cpu", compute_type="int8", threads=threads,
                             vad_method="pyannote", asr_options={"beam_size": 5})
    load = time.perf_counter() - started
    result = pipeline.transcribe(wx.load_audio(str(path)), batch_size=8)
    return load, {"pieces": [[s["start"], s["end"], s["text"].strip()] for s in result["segments"]],
                  "word_times": False, "language": result.get("language")}


def _pipeline(model: str, threads: int):
    from hearback.pipeline import Pipeline
    from hearback.settings import Settings

    return Pipeline.load(Settings(whisper_model=model, compute_type="int8", device="cpu", cpu_threads=threads,
                                  diarization_backend="embedded", max_duration=6 * 3600))


def hearback(path: Path, model: str, threads: int) -> tuple[float, dict]:
    from hearback.document import result_to_dict
    from hearback.invariants import check
    from hearback.types import Options

    log = _Recognizer()
    logging.getLogger("hearback").addHandler(log)
    logging.getLogger("hearback").setLevel(logging.INFO)
    started = time.perf_counter()
    pipeline = _pipeline(model, threads)
    load = time.perf_counter() - started
    result = pipeline.transcribe_file(path, Options())
    document = result_to_dict(result)
    return load, {
        "pieces": [[w.start, w.end, w.word] for s in result.segments for w in s.words], "word_times": True,
        "language": result.language, "timings": result.timings, "speakers": len(result.speakers),
        "turns": [[t.start, t.end, t.speaker] for t in result.diarization.turns],
        "faults": Counter(p.kind for p in check(document)), "check_seconds": log.check_seconds,
        "asr_log": log.lines,
    }


def plain_clips(listing: Path, model: str, threads: int) -> tuple[float, dict]:
    from faster_whisper import WhisperModel

    started = time.perf_counter()
    whisper = WhisperModel(_model_path(model), device="cpu", compute_type="int8", cpu_threads=threads)
    load = time.perf_counter() - started
    texts = []
    for clip in listing.read_text().splitlines():
        segments, _info = whisper.transcribe(clip, beam_size=5, vad_filter=False)
        texts.append(" ".join(s.text.strip() for s in segments))
    return load, {"texts": texts}


def hearback_http_clips(listing: Path, model: str, threads: int) -> tuple[float, dict]:
    """``hearback serve``'s app on a loopback port; each clip posted as a user would."""
    import tempfile
    import threading

    import httpx
    import uvicorn

    from hearback.api import ServerSettings, create_app

    started = time.perf_counter()
    pipeline = _pipeline(model, threads)
    folder = Path(tempfile.mkdtemp(prefix=bench.TEMP_PREFIX))
    app = create_app(ServerSettings(hearback_db=folder / "jobs.sqlite3", hearback_data_dir=folder / "audio"),
                     pipeline=pipeline)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    load = time.perf_counter() - started
    texts, run_started = [], time.perf_counter()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
        for clip in listing.read_text().splitlines():
            with open(clip, "rb") as audio:
                response = client.post("/v1/audio/transcriptions", files={"file": (Path(clip).name, audio)},
                                       data={"response_format": "diarized_json"})
            response.raise_for_status()
            texts.append(response.json()["text"])
    run = time.perf_counter() - run_started
    server.should_exit = True
    return load, {"texts": texts, "run": run}


RUNNERS = {"batched": batched, "whisperx": whisperx, "hearback": hearback, "plain-clips": plain_clips,
           "hearback-http-clips": hearback_http_clips}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=tuple(RUNNERS))
    parser.add_argument("file", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    started = time.perf_counter()
    load, out = RUNNERS[args.tool](args.file, args.model, args.threads)
    run = out.pop("run", None) or time.perf_counter() - started - load
    args.out.write_text(json.dumps({"load": load, "run": run, "rss": peak_rss_mb(), **out}))


if __name__ == "__main__":
    main()
