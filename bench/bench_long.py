"""Long recordings: peak memory and time for 10 minutes, 30 minutes and 2 hours.

    python -m bench.bench_long [--minutes 10 30 120] [--model base] [--threads 2]

Each length is built from the test data's English clips (evaluation/variants.py ``english_meeting``,
the clips repeated with their references shifted), written as FLAC, and transcribed by the
full pipeline (decode, ASR with word timestamps, diarization, assignment, JSON) in a fresh
child process, so that each peak RSS is that job's alone. Reports peak RSS before and
after the job, the audio array's own size, seconds and RTF per stage, DER over the whole
file (one speaker mapping for all of it: a speaker relabelled between repeats counts as
confusion), and time(2 h) ÷ (4 × time(30 min)). Writes bench/results/long.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bench import REPO, TESTDATA, peak_rss_mb, setup_logging, temp_folder, write_results


def child(path: Path, model: str, threads: int, out: Path) -> None:
    """One job in a fresh process: load, warm up on the sample, transcribe ``path``."""
    from hearback.pipeline import Pipeline
    from hearback.settings import Settings
    from hearback.types import Options
    from hearback.writers import render

    settings = Settings(whisper_model=model, compute_type="int8", device="cpu", cpu_threads=threads,
                        diarization_backend="embedded", max_duration=4 * 3600)
    pipeline = Pipeline.load(settings)
    pipeline.transcribe_file(TESTDATA / "diarization" / "pyannote-sample.wav", Options(language="en"))
    rss_ready = peak_rss_mb()
    started = time.perf_counter()
    result = pipeline.transcribe_file(path, Options(language="en"))
    render(result, "json")
    seconds = time.perf_counter() - started
    out.write_text(json.dumps({
        "seconds": seconds, "rss_ready": rss_ready, "rss_peak": peak_rss_mb(),
        "duration": result.duration, "timings": result.timings, "speakers": len(result.speakers),
        "words": sum(len(s.words) for s in result.segments),
        "turns": [[t.start, t.end, t.speaker] for t in result.diarization.turns],
    }))


def run(minutes: float, model: str, threads: int, folder: Path) -> dict:
    import soundfile

    from evaluation.der import der_metric, to_annotation
    from evaluation.variants import english_meeting
    from hearback.types import Turn

    meeting = english_meeting(TESTDATA, minutes)
    audio_path, out = folder / f"meeting-{minutes:g}.flac", folder / f"result-{minutes:g}.json"
    soundfile.write(audio_path, meeting.audio.samples, 16000)
    array_mb = meeting.audio.samples.nbytes / 2**20
    subprocess.run([sys.executable, "-m", __spec__.name, "--child", str(audio_path), "--model", model,
                    "--threads", str(threads), "--out", str(out)], check=True, cwd=REPO)
    data = json.loads(out.read_text())
    audio_path.unlink()
    turns = [Turn(*t) for t in data.pop("turns")]
    data["der"] = der_metric()(meeting.reference, to_annotation(turns), uem=meeting.scored)
    data["reference_speakers"] = len(meeting.reference.labels())
    data["array_mb"] = array_mb
    data["minutes"] = minutes
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 30, 120])
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    setup_logging()
    if args.child:
        child(args.child, args.model, args.threads, args.out)
        return

    rows = []
    with temp_folder() as folder:
        for minutes in args.minutes:
            rows.append(run(minutes, args.model, args.threads, Path(folder)))
            sys.stderr.write(f"{minutes:g} min done: {rows[-1]['seconds']:.1f} s\n")
    lines = [
        f"Model {args.model} int8, {args.threads} threads, CPU, embedded diarization; one fresh "
        "process per length (load, warm-up on the pyannote sample, then the job).",
        "",
        "| length | audio array (MB) | RSS ready (MB) | peak RSS (MB) | peak − ready (MB) | seconds | RTF "
        "| transcribe s | diarize s | DER | speakers found / reference |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t = r["timings"]
        lines.append(
            f"| {r['duration'] / 60:.1f} min | {r['array_mb']:.0f} | {r['rss_ready']:.0f} | {r['rss_peak']:.0f} "
            f"| {r['rss_peak'] - r['rss_ready']:.0f} | {r['seconds']:.1f} | {r['seconds'] / r['duration']:.3f} "
            f"| {t['transcribe']:.1f} | {t['diarize']:.1f} | {r['der']:.3f} | {r['speakers']} / {r['reference_speakers']} |")
    by = {r["minutes"]: r for r in rows}
    if 30 in by and 120 in by:
        # Normalise by audio seconds: the built files are not exactly 30 and 120 minutes.
        per_30 = by[30]["seconds"] / by[30]["duration"]
        per_120 = by[120]["seconds"] / by[120]["duration"]
        lines += ["", f"time(2 h) ÷ (4 × time(30 min)), per audio second: **{per_120 / per_30:.3f}**"]
    write_results(__spec__.name, "long", "\n".join(lines))


if __name__ == "__main__":
    main()
