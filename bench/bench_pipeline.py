"""ASR baselines vs Hearback's full pipeline, in one run, on the same files and model.

    python -m bench.bench_pipeline [--model base] [--threads 2] [--skip-whisperx] [--meeting-minutes 10]

Runs, on the FLEURS en/fr clips and the pyannote sample (testdata/), and on a ≥ 10-minute
meeting built from the test data's English clips (evaluation/variants.py):
  1. plain faster-whisper: ``WhisperModel.transcribe`` (beam 5, no VAD, sequential; ASR only);
  2. WhisperX's batched pipeline in this process (its pyannote VAD, same CTranslate2 model,
     beam 5, batch 8; ASR only, no align);
  3. the WhisperX CLI (``whisperx … --no_align``, same local model, same settings) in a child
     process, once for the clips and once for the meeting (its times include its start-up);
  4. Hearback's full pipeline: decode, batched ASR with word timestamps, diarization,
     word-to-speaker assignment and JSON, from the encoded file.
Also measures, in fresh processes, start-up to ready (models loaded) and the diarizer's
first-call warm-up. Prints real-time factors, ratios, WER (per language; on the meeting over
the clips that have a transcript), the sample's DER and cpWER, and writes
bench/results/pipeline.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple, Optional

import soundfile

from bench import REPO, TESTDATA, peak_rss_mb, setup_logging, temp_folder, write_results
from evaluation.der import der_against_rttm
from evaluation.testdata import fleurs_clips, sample_transcript
from evaluation.variants import english_meeting, words_by_clip
from evaluation.wer import cpwer_against_stm, wer
from hearback.audio.decode import decode
from hearback.document import result_to_dict
from hearback.pipeline import Pipeline
from hearback.settings import Settings
from hearback.types import Options


def files() -> list[tuple[Path, str, str]]:
    """(audio, language, reference text)."""
    out = [(p, "en", ref) for p, ref in fleurs_clips(TESTDATA, "en")]
    out += [(p, "fr", ref) for p, ref in fleurs_clips(TESTDATA, "fr")]
    out.append((TESTDATA / "diarization" / "pyannote-sample.wav", "en", sample_transcript(TESTDATA)))
    return out


# Each runner returns (seconds, [timed pieces per file]); a timed piece is (start, end, text).

def run_plain(model, paths) -> tuple[float, list[list]]:
    out, started = [], time.perf_counter()
    for path in paths:
        segments, _info = model.transcribe(str(path), beam_size=5, vad_filter=False)
        out.append([(s.start, s.end, s.text.strip()) for s in segments])
    return time.perf_counter() - started, out


def run_whisperx(model_path: str, threads: int, paths) -> tuple[float, list[list]]:
    import whisperx

    model = whisperx.load_model(model_path, "cpu", compute_type="int8", threads=threads,
                                vad_method="pyannote", asr_options={"beam_size": 5})
    out, started = [], time.perf_counter()
    for path in paths:
        audio = whisperx.load_audio(str(path))
        result = model.transcribe(audio, batch_size=8)
        out.append([(s["start"], s["end"], s["text"].strip()) for s in result["segments"]])
    return time.perf_counter() - started, out


def run_whisperx_cli(model_path: str, threads: int, paths, folder: Path) -> tuple[float, list[list]]:
    """One ``whisperx`` command for all ``paths``, timed from launch to exit."""
    cli = Path(sys.executable).with_name("whisperx")
    command = [str(cli), *map(str, paths), "--model", model_path, "--no_align", "--device", "cpu",
               "--compute_type", "int8", "--threads", str(threads), "--batch_size", "8",
               "--beam_size", "5", "--vad_method", "pyannote", "--output_format", "json",
               "--output_dir", str(folder), "--verbose", "False"]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    out = []
    for path in paths:
        segments = json.loads((folder / f"{Path(path).stem}.json").read_text())["segments"]
        out.append([(s["start"], s["end"], s["text"].strip()) for s in segments])
    return seconds, out


def run_hearback(pipeline: Pipeline, paths):
    out, results, started = [], [], time.perf_counter()
    for path in paths:
        result = pipeline.transcribe_file(path, Options())
        result_to_dict(result)
        out.append([(w.start, w.end, w.word) for s in result.segments for w in s.words])
        results.append(result)
    return time.perf_counter() - started, out, results


def joined(pieces) -> str:
    return " ".join(text for _s, _e, text in pieces)


# Run in a child process from the repository root (``import bench`` sets the environment and
# the path as for any benchmark); it reports to the parent on stdout, one line per milestone.
STARTUP = """
import time
import bench
from hearback.pipeline import Pipeline
from hearback.settings import Settings
from hearback.audio.decode import decode
pipeline = Pipeline.load(Settings(whisper_model={model!r}, compute_type="int8", device="cpu",
                                  cpu_threads={threads}, diarization_backend="embedded"))
print("ready", flush=True)
audio = decode({sample!r})
times = []
for _ in range(2):
    started = time.perf_counter()
    pipeline.diarizer.diarize(audio)
    times.append(time.perf_counter() - started)
print("diarize", *times, flush=True)
"""


def measure_startup(model: str, threads: int) -> tuple[float, float, float]:
    """A fresh Python process: seconds from launch to "models loaded", then the diarizer's
    first and second call on the pyannote sample. Run twice; the second (warm disk cache,
    as on a worker that restarts) is returned."""
    script = STARTUP.format(model=model, threads=threads,
                            sample=str(TESTDATA / "diarization" / "pyannote-sample.wav"))
    for _ in range(2):
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                                 stderr=subprocess.DEVNULL, cwd=REPO)
        assert child.stdout.readline().strip() == "ready"
        ready = time.perf_counter() - started
        first, second = map(float, child.stdout.readline().split()[1:])
        child.wait()
    return ready, first, second


def wer_by_language(items, texts) -> dict[str, float]:
    out = {}
    for lang in ("en", "fr"):
        refs = [ref for (_p, l, ref) in items if l == lang]
        hyps = [t for (_p, l, _r), t in zip(items, texts) if l == lang]
        out[lang] = wer(refs, hyps, lang)
    return out


class Run(NamedTuple):
    """One system's timings and output on the clips and on the meeting."""

    clips_seconds: float
    clip_pieces: list        # timed pieces per clip
    meeting_seconds: float
    meeting_pieces: list     # timed pieces of the meeting
    rss: Optional[float]     # peak RSS after the run (MB); None for a child process


NAMES = {
    "plain": "plain faster-whisper (beam 5, no VAD, sequential; ASR only)",
    "whisperx": "WhisperX batched, in process (pyannote VAD, batch 8; ASR only, no align)",
    "whisperx-cli": "WhisperX CLI `--no_align` (one command per set; includes its start-up)",
    "hearback": "**Hearback full pipeline** (batched ASR + words + diarization + JSON)",
}


def run_all(pipeline: Pipeline, settings: Settings, args, paths, meeting_path: Path, folder: Path):
    """Every system on the clips and the meeting: the runs by name, Hearback's results on the
    clips and on the meeting."""
    runs = {}
    s1, p1 = run_plain(pipeline.recognizer.model, paths)
    s2, p2 = run_plain(pipeline.recognizer.model, [meeting_path])
    runs["plain"] = Run(s1, p1, s2, p2[0], peak_rss_mb())
    s1, p1, hb_results = run_hearback(pipeline, paths)
    s2, p2, (hb_meeting,) = run_hearback(pipeline, [meeting_path])
    runs["hearback"] = Run(s1, p1, s2, p2[0], peak_rss_mb())
    if not args.skip_whisperx:
        from hearback.asr.models import resolve_whisper_model

        model_path = resolve_whisper_model(args.model, settings.model_cache_dir)
        gc.collect()
        s1, p1 = run_whisperx(model_path, args.threads, paths)
        s2, p2 = run_whisperx(model_path, args.threads, [meeting_path])
        runs["whisperx"] = Run(s1, p1, s2, p2[0], peak_rss_mb())
        (folder / "cli-clips").mkdir()
        (folder / "cli-meeting").mkdir()
        s1, p1 = run_whisperx_cli(model_path, args.threads, paths, folder / "cli-clips")
        s2, p2 = run_whisperx_cli(model_path, args.threads, [meeting_path], folder / "cli-meeting")
        runs["whisperx-cli"] = Run(s1, p1, s2, p2[0], None)
    return runs, hb_results, hb_meeting


def table(runs: dict[str, Run], items, meeting) -> list[str]:
    """One row per system: times, ratios to plain and to the WhisperX CLI, WER."""
    meeting_refs = [text for _s, _e, text in meeting.transcripts]
    plain, cli = runs["plain"], runs.get("whisperx-cli")
    lines = [
        "| run | clips s | meeting s | total s | meeting RTF | ratio to plain: clips / meeting / total "
        "| ratio to WhisperX CLI: meeting / total | WER en | WER fr | WER meeting | peak RSS after (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in ("plain", "whisperx", "whisperx-cli", "hearback"):
        if key not in runs:
            continue
        clips_s, clip_pieces, meet_s, meet_pieces, rss = runs[key]
        w = wer_by_language(items, [joined(p) for p in clip_pieces])
        w_meeting = wer(meeting_refs, words_by_clip(meeting, meet_pieces), "en")
        total = clips_s + meet_s
        vs_cli = (f"{meet_s / cli.meeting_seconds:.2f} / {total / (cli.clips_seconds + cli.meeting_seconds):.2f}"
                  if cli else "–")
        lines.append(
            f"| {NAMES[key]} | {clips_s:.1f} | {meet_s:.1f} | {total:.1f} | {meet_s / meeting.audio.duration:.3f} "
            f"| {clips_s / plain.clips_seconds:.2f} / {meet_s / plain.meeting_seconds:.2f} "
            f"/ {total / (plain.clips_seconds + plain.meeting_seconds):.2f} "
            f"| {vs_cli} | {w['en']:.3f} | {w['fr']:.3f} | {w_meeting:.3f} | {f'{rss:.0f}' if rss else '–'} |")
    return lines


def notes(model: str, startup, rss_loaded: float, hb_results, hb_meeting, meeting_seconds: float) -> list[str]:
    """Hearback's stages, start-up, memory, and the sample's DER and cpWER."""
    sample = hb_results[-1]
    der = der_against_rttm(sample.diarization.turns, TESTDATA / "diarization" / "pyannote-sample.rttm")
    cp = cpwer_against_stm(sample.segments, TESTDATA / "diarization" / "pyannote-sample.stm", "en").error_rate
    stage = {}
    for r in hb_results:
        for k, v in r.timings.items():
            stage[k] = stage.get(k, 0.0) + v
    ready, first, second = startup
    mt = hb_meeting.timings
    return [
        "Meeting, Hearback stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in mt.items())
        + f"; diarization RTF **{mt['diarize'] / meeting_seconds:.3f}**, "
        f"speakers found {len(hb_meeting.speakers)}.",
        f"Start-up, fresh process to models loaded (Whisper {model} + embedded diarizer, "
        f"warm disk cache): **{ready:.1f} s**. Diarizer on the 30 s sample in that process: "
        f"first call {first:.1f} s, second {second:.1f} s (warm-up {first - second:.1f} s).",
        f"Peak RSS after loading models: {rss_loaded:.0f} MB.",
        "Clips, Hearback stage seconds (summed over files): "
        + ", ".join(f"{k} {v:.1f}" for k, v in stage.items()),
        f"pyannote sample: DER {der:.3f} (collar 0, overlap scored), cpWER {cp:.3f}, "
        f"speakers found {len(sample.speakers)}.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-whisperx", action="store_true")
    parser.add_argument("--meeting-minutes", type=float, default=10.0)
    args = parser.parse_args()
    setup_logging()

    startup = measure_startup(args.model, args.threads)
    items = files()
    paths = [p for p, _l, _r in items]
    clips_seconds = sum(decode(p).duration for p in paths)
    meeting = english_meeting(TESTDATA, args.meeting_minutes)

    settings = Settings(whisper_model=args.model, compute_type="int8", cpu_threads=args.threads,
                        device="cpu", diarization_backend="embedded")
    load_started = time.perf_counter()
    pipeline = Pipeline.load(settings)
    load_seconds = time.perf_counter() - load_started
    rss_loaded = peak_rss_mb()

    # Warm-up on one short clip so no run pays first-call costs the others do not.
    pipeline.transcribe_file(items[0][0], Options())

    with temp_folder() as name:
        folder = Path(name)
        meeting_path = folder / "meeting.flac"
        soundfile.write(meeting_path, meeting.audio.samples, 16000)
        runs, hb_results, hb_meeting = run_all(pipeline, settings, args, paths, meeting_path, folder)

    lines = [
        f"Model {args.model} int8, {args.threads} threads, CPU. Clips: {len(items)} files, "
        f"{clips_seconds:.1f} s (10 FLEURS-en, 10 FLEURS-fr, pyannote sample). Meeting: "
        f"{meeting.audio.duration / 60:.1f} min built from the test data's English clips "
        f"(evaluation/variants.py). Language detected in every run. Pipeline load in this "
        f"process: {load_seconds:.1f} s.",
        "",
        *table(runs, items, meeting),
        "",
        *notes(args.model, startup, rss_loaded, hb_results, hb_meeting, meeting.audio.duration),
    ]
    write_results(__spec__.name, "pipeline", "\n".join(lines))


if __name__ == "__main__":
    main()
