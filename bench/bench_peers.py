"""Long recordings against the tools a user who cares about speed runs, side by side in one run.

    python -m bench.bench_peers [--files NAME ...] [--tools batched whisperx hearback] [--scale 1]
                                [--no-clips] [--model base] [--threads 2] [--out bench/results/peers.md]

Files (evaluation/long_files.py): the clips in shuffled rounds with 0.3-3 s pauses, ``en-30min``,
``en-60min``, ``fr+en-30min`` (both languages) and ``crowded-30min`` (only the recordings with
speaker turns), the held-out crowded meeting (13 people of 4 AMI meetings, each clip once), and
the 10-minute meeting of bench_pipeline (every English clip once, 2 s apart) for continuity.
Each is sent as 32 kbit/s Opus. Per file, each tool runs in a process of its own
(bench/peer_runs.py), one after the other: faster-whisper's ``BatchedInferencePipeline``,
WhisperX (ASR only) and Hearback's full pipeline. Reported: wall from launch to exit (model
load included), Hearback's stages, peak RSS, WER per file and language (jiwer, Whisper's
normalisers on both sides; a word goes to the clip holding its midpoint, a segment without
word times is spread evenly over its span), the speakers found, the reference people found
(pyannote's optimal mapping) and DER (collar 0, overlap scored, inside the clips' UEMs), and
the faults ``hearback.invariants.check`` finds. Then the 21 short clips of bench_pipeline
through HTTP against plain sequential faster-whisper. ``uptime`` is recorded with every file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import REPO, RESULTS, TESTDATA, setup_logging, temp_folder
from evaluation import long_files
from evaluation.der import der_metric, to_annotation
from evaluation.long_files import LongFile, Part
from evaluation.testdata import fleurs_clips, sample_transcript
from evaluation.variants import english_meeting
from evaluation.wer import wer
from hearback.types import Turn

FILES = ("meeting-10min", "en-30min", "en-60min", "fr+en-30min", "crowded-30min", "crowded-held-out")
TOOLS = ("batched", "whisperx", "hearback")


def load() -> str:
    """The machine's load average (1, 5, 15 min), as ``uptime`` gives it."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def meeting_file() -> LongFile:
    meeting = english_meeting(TESTDATA, 10.0)
    parts = tuple(Part(s, e, "clip", "en", text) for s, e, text in meeting.transcripts)
    return LongFile("meeting-10min", meeting.audio, parts, meeting.reference, meeting.scored)


def build(names, scale: float) -> list[LongFile]:
    out = []
    for name in names:
        if name == "meeting-10min":
            out.append(meeting_file())
        elif name in long_files.CROWDED:
            out.append(long_files.crowded(TESTDATA, name))
        else:
            out.append(next(f for f in long_files.peer_files(TESTDATA, scale) if f.name == name))
    return out


def launch(tool: str, path: Path, out: Path, args) -> dict:
    """One tool in a fresh process; its report plus the wall time from launch to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.peer_runs", tool, str(path), str(out), "--model", args.model,
                    "--threads", str(args.threads)], check=True, cwd=REPO)
    report = json.loads(out.read_text())
    report["wall"] = time.perf_counter() - started
    return report


def score(item: LongFile, report: dict) -> dict:
    pieces = report["pieces"] if report["word_times"] else long_files.spread(report["pieces"])
    scores = long_files.wer_by_language(item.parts, long_files.text_by_part(item.parts, pieces))
    out = {"wer": {lang: value for lang, (value, _words) in scores.items()}}
    if "turns" in report and item.scored:
        hypothesis = to_annotation(Turn(*t) for t in report["turns"])
        out["der"] = der_metric()(item.reference, hypothesis, uem=item.scored)
        found, _mapping = long_files.found_people(item.reference, hypothesis, item.scored)
        out["found"] = f"{len(found)} / {len(item.people)}"
    return out


def file_rows(item: LongFile, reports: dict) -> list[str]:
    base = reports.get("batched")
    rows = []
    for tool, r in reports.items():
        s = score(item, r)
        stages = "–"
        if "timings" in r:
            t = r["timings"]
            stages = (f"load {r['load']:.1f}, decode {t.get('decode', 0):.1f}, transcribe {t.get('transcribe', 0):.1f} "
                      f"(checks {r['check_seconds']:.1f}), diarize {t.get('diarize', 0):.1f} "
                      f"(RTF {t.get('diarize', 0) / item.audio.duration:.4f}), assign {t.get('assign', 0):.1f}")
        ratio = f"{r['wall'] / base['wall']:.2f}" if base else "–"
        der = f"{s['der']:.3f}" if "der" in s else "–"
        faults = sum(r["faults"].values()) if "faults" in r else "–"
        wer_text = ", ".join(f"{lang} {v:.3f}" for lang, v in s["wer"].items())
        rows.append(f"| {item.name} | {tool} | {r['wall']:.1f} | {ratio} | {stages} | {r['rss']:.0f} | {wer_text} "
                    f"| {r.get('speakers', '–')} | {s.get('found', '–')} | {der} | {faults} |")
    return rows


def clips_rows(args, folder: Path) -> list[str]:
    """The 21 short clips: Hearback through HTTP against plain sequential faster-whisper."""
    items = [(p, "en", r) for p, r in fleurs_clips(TESTDATA, "en")] + [(p, "fr", r) for p, r in fleurs_clips(TESTDATA, "fr")]
    items.append((TESTDATA / "diarization" / "pyannote-sample.wav", "en", sample_transcript(TESTDATA)))
    listing = folder / "clips.txt"
    listing.write_text("\n".join(str(p) for p, _l, _r in items))
    reports = {tool: launch(tool, listing, folder / f"{tool}.json", args) for tool in ("plain-clips", "hearback-http-clips")}
    plain = reports["plain-clips"]["run"]
    lines = ["", f"Short clips ({len(items)}: 10 FLEURS-en, 10 FLEURS-fr, the pyannote sample), one request or "
             f"call per clip, models loaded before the clock starts (load average {load()}):", "",
             "| run | seconds | ÷ plain | WER en | WER fr |", "|---|---|---|---|---|"]
    for tool, r in reports.items():
        by = {lang: wer([ref for _p, l, ref in items if l == lang],
                        [t for (_p, l, _r), t in zip(items, r["texts"]) if l == lang], lang) for lang in ("en", "fr")}
        lines.append(f"| {tool} | {r['run']:.1f} | {r['run'] / plain:.2f} | {by['en']:.3f} | {by['fr']:.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="+", default=list(FILES), choices=FILES)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--scale", type=float, default=1.0, help="× the long files' lengths (development)")
    parser.add_argument("--no-clips", action="store_true")
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--label", default="run")
    parser.add_argument("--out", type=Path, default=RESULTS / "peers.md")
    args = parser.parse_args()
    setup_logging()
    lines = [f"## {args.label}", "",
             f"Whisper {args.model} int8, {args.threads} threads, CPU; every file sent as 32 kbit/s Opus; "
             "each tool a process of its own, wall from launch to exit (model load included).", "",
             "| file | tool | wall s | ÷ batched | Hearback stages s | peak RSS MB | WER | speakers found "
             "| people found | DER | faults |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    with temp_folder() as name:
        folder = Path(name)
        for item in build(args.files, args.scale):
            before = load()
            path = long_files.as_opus(item.audio, folder, item.name)
            reports = {tool: launch(tool, path, folder / f"{item.name}-{tool}.json", args) for tool in args.tools}
            lines += file_rows(item, reports)
            notes.append(f"- {item.name}: {item.audio.duration / 60:.1f} min, {len(item.parts)} clips, "
                         f"{len(item.people)} reference people; load average before / after: {before} / {load()}")
            if "hearback" in reports:
                notes.append("  - recognizer: " + "; ".join(reports["hearback"]["asr_log"][-12:]))
            sys.stderr.write(lines[-1] + "\n")
        if not args.no_clips:
            lines += clips_rows(args, folder)
    text = "\n".join(lines + ["", *notes]) + "\n"
    sys.stdout.write(text)
    with open(args.out, "a", encoding="utf-8") as out:
        out.write(("" if args.out.exists() and args.out.stat().st_size else "# python -m bench.bench_peers\n")
                  + "\n" + text)


if __name__ == "__main__":
    main()
