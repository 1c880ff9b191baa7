"""ASR baseline vs Hearback's full pipeline, in one process, on the same files and model.

    python bench/bench_pipeline.py [--model base] [--threads 2] [--skip-whisperx]

Runs, on the FLEURS en/fr clips and the pyannote sample (../shared/testdata):
  1. plain faster-whisper: ``WhisperModel.transcribe`` (beam 5, no VAD, sequential; ASR only);
  2. WhisperX's batched pipeline (its pyannote VAD, same CTranslate2 model; ASR only, no align);
  3. Hearback's full pipeline: decode, batched ASR with word timestamps, diarization,
     word-to-speaker assignment and JSON, from the encoded file.
Prints real-time factors, their ratios, peak RSS after each run, WER per language and the
sample's DER and cpWER, and writes the table to bench/results/pipeline.md.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench.der import der_against_rttm  # noqa: E402
from bench.wer import cpwer, fleurs_clips, read_stm, wer  # noqa: E402
from hearback.decode import decode  # noqa: E402
from hearback.pipeline import Pipeline
from hearback.types import Options  # noqa: E402
from hearback.settings import Settings  # noqa: E402
from hearback.writers import result_to_dict  # noqa: E402

logger = logging.getLogger("bench")
TESTDATA = Path(os.environ.get("HEARBACK_TESTDATA", REPO.parent / "shared" / "testdata"))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def files() -> list[tuple[Path, str, str]]:
    """(audio, language, reference text)."""
    out = [(p, "en", ref) for p, ref in fleurs_clips(TESTDATA, "en")]
    out += [(p, "fr", ref) for p, ref in fleurs_clips(TESTDATA, "fr")]
    stm = TESTDATA / "diarization" / "pyannote-sample.stm"
    out.append((TESTDATA / "diarization" / "pyannote-sample.wav", "en",
                " ".join(r[3] for r in read_stm(stm))))
    return out


def run_plain(model, items) -> tuple[float, list[str]]:
    texts, started = [], time.perf_counter()
    for path, _lang, _ref in items:
        segments, _info = model.transcribe(str(path), beam_size=5, vad_filter=False)
        texts.append(" ".join(s.text.strip() for s in segments))
    return time.perf_counter() - started, texts


def run_whisperx(model_path: str, threads: int, items) -> tuple[float, list[str]]:
    import whisperx

    model = whisperx.load_model(model_path, "cpu", compute_type="int8", threads=threads,
                                vad_method="pyannote", asr_options={"beam_size": 5})
    texts, started = [], time.perf_counter()
    for path, _lang, _ref in items:
        audio = whisperx.load_audio(str(path))
        result = model.transcribe(audio, batch_size=8)
        texts.append(" ".join(s["text"].strip() for s in result["segments"]))
    return time.perf_counter() - started, texts


def run_hearback(pipeline: Pipeline, items):
    texts, results, started = [], [], time.perf_counter()
    for path, _lang, _ref in items:
        result = pipeline.transcribe_file(path, Options())
        result_to_dict(result)
        texts.append(result.text)
        results.append(result)
    return time.perf_counter() - started, texts, results


def wer_by_language(items, texts) -> dict[str, float]:
    out = {}
    for lang in ("en", "fr"):
        refs = [ref for (_p, l, ref) in items if l == lang]
        hyps = [t for (_p, l, _r), t in zip(items, texts) if l == lang]
        out[lang] = wer(refs, hyps, lang)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-whisperx", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    items = files()
    audio_seconds = sum(decode(p).duration for p, _l, _r in items)
    settings = Settings(whisper_model=args.model, compute_type="int8", cpu_threads=args.threads,
                        device="cpu", diarization_backend="embedded")
    load_started = time.perf_counter()
    pipeline = Pipeline.load(settings)
    load_seconds = time.perf_counter() - load_started
    rss_loaded = peak_rss_mb()

    # Warm-up on one short clip so no run pays first-call costs the others do not.
    pipeline.transcribe_file(items[0][0], Options())

    plain_s, plain_texts = run_plain(pipeline.recognizer.model, items)
    rss_plain = peak_rss_mb()
    hb_s, hb_texts, hb_results = run_hearback(pipeline, items)
    rss_hb = peak_rss_mb()
    wx = None
    if not args.skip_whisperx:
        from hearback.models import resolve_whisper_model

        gc.collect()
        wx = run_whisperx(resolve_whisper_model(args.model, settings.model_cache_dir), args.threads, items)

    sample = hb_results[-1]
    der = der_against_rttm(sample.diarization.turns, TESTDATA / "diarization" / "pyannote-sample.rttm")
    reference: dict[str, list[str]] = {}
    for speaker, _s, _e, text in read_stm(TESTDATA / "diarization" / "pyannote-sample.stm"):
        reference.setdefault(speaker, []).append(text)
    hypothesis: dict[str, list[str]] = {}
    for seg in sample.segments:
        hypothesis.setdefault(seg.speaker, []).append(seg.text)
    cp = cpwer(reference, hypothesis, "en").error_rate

    stage = {}
    for r in hb_results:
        for k, v in r.timings.items():
            stage[k] = stage.get(k, 0.0) + v

    rows = [
        ("plain faster-whisper (beam 5, no VAD, sequential; ASR only)", plain_s, plain_texts, rss_plain),
        ("Hearback full pipeline (batched ASR + words + diarization + JSON)", hb_s, hb_texts, rss_hb),
    ]
    if wx:
        rows.insert(1, ("WhisperX batched (pyannote VAD, batch 8; ASR only, no align)", wx[0], wx[1], peak_rss_mb()))
    lines = [
        f"Model {args.model} int8, {args.threads} threads, CPU; {len(items)} files, "
        f"{audio_seconds:.1f} s of audio (10 FLEURS-en, 10 FLEURS-fr, pyannote sample). "
        f"Language detected in every run. Pipeline load: {load_seconds:.1f} s.",
        "",
        "| run | seconds | RTF | ratio to plain | WER en | WER fr | peak RSS after (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, seconds, texts, rss in rows:
        w = wer_by_language(items, texts)
        lines.append(f"| {name} | {seconds:.1f} | {seconds / audio_seconds:.3f} | "
                     f"{seconds / plain_s:.2f} | {w['en']:.3f} | {w['fr']:.3f} | {rss:.0f} |")
    lines += [
        "",
        f"Peak RSS after loading models: {rss_loaded:.0f} MB.",
        "Hearback stage seconds (summed over files): "
        + ", ".join(f"{k} {v:.1f}" for k, v in stage.items()),
        f"pyannote sample: DER {der:.3f} (collar 0, overlap scored), cpWER {cp:.3f}, "
        f"speakers found {len(sample.speakers)}.",
    ]
    text = "\n".join(lines)
    out = REPO / "bench" / "results" / "pipeline.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("# bench_pipeline.py\n\n" + text + "\n")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
