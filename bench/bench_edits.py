"""The transcript editor's server side on a one-hour transcript: how long an edit and an undo
take, what an undo step costs in the database, and what the playback copy costs.

    python -m bench.bench_edits [--hours 1] [--repeat 5]

The transcript is real: the pipeline (Whisper tiny.en, embedded diarization) on the pyannote
sample, repeated end to end (times shifted) to ``--hours``. Each operation goes through the
route's own code (``api.edits.apply_ops`` on a ``JobStore`` in a temporary folder: read, apply,
check the document's invariants, store with its undo step), ``--repeat`` times; the median is
reported. An edit is timed twice: right after an undo (the stored result read afresh, every part
of its document made again: "after an undo"), and as the next edit of a series (the parts of the
document the last edit did not touch reused: "next edit"), the editor's usual case. The playback copy is ffmpeg on a 10-minute recording made of the
sample looped (``playback.Transcode``). Writes bench/results/edits.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from bench import TESTDATA, setup_logging, temp_folder, write_results

SAMPLE = TESTDATA / "diarization" / "pyannote-sample.wav"


def repeated(result, hours: float):
    """``result`` laid end to end until ``hours`` long (segments, words and turns shifted)."""
    from hearback.types import Diarization, Turn

    copies = max(1, round(hours * 3600 / result.duration))
    segments, turns = [], []
    for k in range(copies):
        shift = k * result.duration
        for s in result.segments:
            words = tuple(replace(w, start=w.start + shift, end=w.end + shift) for w in s.words)
            segments.append(replace(s, start=s.start + shift, end=s.end + shift, words=words))
        turns += [Turn(t.start + shift, t.end + shift, t.speaker) for t in result.diarization.turns]
    return replace(result, segments=tuple(segments), duration=copies * result.duration,
                   diarization=Diarization(tuple(turns), ()))


def timed(store, job_id: str, batch, then, repeat: int) -> tuple[float, float, float]:
    """Median seconds of applying ``batch`` after an undo, of applying ``then`` right after it,
    and of an undo, over ``repeat`` runs."""
    from hearback.api.edits import apply_ops

    cold, warm, undone = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        apply_ops(store, job_id, batch.ops, None)
        middle = time.perf_counter()
        apply_ops(store, job_id, then.ops, None)
        end = time.perf_counter()
        store.undo(job_id)
        undone.append(time.perf_counter() - end)
        store.undo(job_id)
        cold.append(middle - start)
        warm.append(end - middle)
    return statistics.median(cold), statistics.median(warm), statistics.median(undone)


def edit_timings(result, folder: Path, repeat: int) -> list[str]:
    """Table rows: each operation and its undo on the stored transcript, and what is stored."""
    from hearback.api.edits import EditBatch, apply_ops
    from hearback.jobs.store import JobStore
    from hearback.types import Options

    store = JobStore(folder / "jobs.sqlite3")
    job = store.add(Options(), audio_path=None, audio_url="https://example.com/a.wav")
    store.succeed(job.id, result)
    middle = len(result.segments) // 2
    index = next(i for i in range(middle, len(result.segments)) if len(result.segments[i].words) >= 4)
    other = next(i for i in range(index + 40, len(result.segments)) if len(result.segments[i].words) >= 4)
    ops = {  # each op, and one of its kind elsewhere to follow it
        "rename a speaker": ({"op": "rename", "speaker": "SPEAKER_00", "name": "Diane"},
                             {"op": "rename", "speaker": "SPEAKER_01", "name": "Sheila"}),
        "assign words 1–3 of a segment (split)": (
            {"op": "assign", "segment": index, "speaker": "Sheila", "words": [1, 3]},
            {"op": "assign", "segment": other, "speaker": "Sheila", "words": [1, 3]}),
        "edit one word": ({"op": "edit", "segment": index, "text": "Hearback", "words": [2, 3]},
                          {"op": "edit", "segment": other, "text": "Hearback", "words": [2, 3]}),
    }
    lines = []
    for name, (op, then) in ops.items():
        cold, warm, undone = timed(store, job.id, EditBatch.model_validate({"ops": [op], "revision": 0}),
                                   EditBatch.model_validate({"ops": [then], "revision": 0}), repeat)
        lines.append(f"| {name}: next edit / after an undo / an undo | **{warm * 1000:.0f} ms** / "
                     f"{cold * 1000:.0f} ms / {undone * 1000:.0f} ms |")
    document = store._run("SELECT results FROM jobs WHERE id = ?", (job.id,))[0][0]
    apply_ops(store, job.id, EditBatch.model_validate({"ops": [ops["rename a speaker"][0]], "revision": 0}).ops, None)
    step = store._run("SELECT LENGTH(state) FROM job_history WHERE job_id = ?", (job.id,))[0][0]
    lines.append(f"| stored document / one undo step (zlib JSON) | {len(document.encode()) / 1e6:.2f} MB / "
                 f"{step / 1e6:.2f} MB |")
    return lines


def playback_costs(folder: Path) -> list[str]:
    """Table rows: the playback copy of a 10-minute recording, time and size."""
    from hearback.jobs.playback import Transcode

    source = folder / "ten-minutes.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "19", "-i", str(SAMPLE), "-c", "copy",
                    str(source)], check=True)
    start = time.perf_counter()
    copy = Transcode(source, folder / "kept")
    assert copy.finish(600.0), "ffmpeg failed"
    seconds = time.perf_counter() - start
    size = (folder / "kept" / "audio.ogg").stat().st_size
    return [f"| playback copy of 10 min (Opus 32 kbit/s mono) | {seconds:.1f} s "
            f"({600 / seconds:.0f}× real time), {size / 1e6:.2f} MB = {size / 1e6 * 6:.1f} MB per hour |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    setup_logging()
    from hearback.pipeline import Pipeline
    from hearback.settings import Settings
    from hearback.types import Options

    pipeline = Pipeline.load(Settings(whisper_model="tiny.en", diarization_backend="embedded"))
    long = repeated(pipeline.transcribe_file(SAMPLE, Options(language="en")), args.hours)
    words = sum(len(s.words) for s in long.segments)
    load = os.getloadavg()
    with temp_folder() as tmp:
        rows = edit_timings(long, Path(tmp), args.repeat) + playback_costs(Path(tmp))
    text = "\n".join([
        f"Load average when the timings began: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores.", "",
        f"A {long.duration / 3600:.2f} h transcript ({len(long.segments)} segments, {words} words: the "
        f"pyannote sample's, tiny.en, repeated), each operation through the route's code on a job "
        f"store; median of {args.repeat}.", "", "| measure | value |", "|---|---|", *rows])
    write_results(__spec__.name, "edits", text)


if __name__ == "__main__":
    main()
