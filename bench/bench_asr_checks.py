"""What each of the recogniser's extra passes costs and buys on long files: WER with and without.

    python -m bench.bench_asr_checks [--files NAME ...] [--configs NAME ...] [--model base] [--threads 2]

The recogniser (``hearback.asr.recognizer``) levels what Whisper hears (``asr/loudness.py``),
runs faster-whisper's batched pipeline and then, per window, up to three extra kinds of work:
the language check (chunks Whisper hears another language in get their regions checked one by
one and decoded again run by run), loop re-decodes (``asr/mend.py``: a looping chunk decoded
again the sequential way), and the second pass over the speech regions the first pass left
without a word (packed into shared clips, then one clip each for those still without a word).
Each configuration below turns some of them off (in this process only, by replacing the
recogniser's step with what it does when it finds nothing to do) and transcribes the files of
bench_peers (sent as 32 kbit/s Opus, decoded once) with one loaded model, configurations in
turn. Reported per file and configuration: ASR seconds, WER per language (as bench_peers
scores it), words, and the long-form faults ``hearback.invariants.check`` finds on the
transcript. ASR only: diarization does not depend on these passes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

from bench import RESULTS, setup_logging, temp_folder
from bench.bench_peers import FILES, build
from evaluation import long_files
from hearback.asr import recognizer as asr
from hearback.asr.mend import collapse
from hearback.audio.decode import decode

logger = logging.getLogger(__name__)


def _no_second_pass(self, samples, sample_rate, missed, regions, language, options):
    return []


def _no_loop_redecode(model, samples, sample_rate, pieces, chunks, decode_options):
    return [collapse(seg) for seg, _seek in pieces]  # a loop is still cut to one occurrence


#: name → the steps it turns off
CONFIGS = {
    "full": (),
    "no-language-check": ("language",),
    "no-loop-redecode": ("loops",),
    "no-second-pass": ("second",),
    "second-pass-packed-only": ("singles",),
    "first-pass-only": ("language", "loops", "second"),
    "no-levelling": ("levelling",),
}


@contextmanager
def without(steps):
    with ExitStack() as stack:
        if "language" in steps:
            stack.enter_context(mock.patch.object(asr, "suspect", lambda found, language: False))
        if "loops" in steps:
            stack.enter_context(mock.patch.object(asr, "mend", _no_loop_redecode))
        if "second" in steps:
            stack.enter_context(mock.patch.object(asr.Recognizer, "_second_pass_by_language", _no_second_pass))
        if "singles" in steps:  # a region still empty once packed is not decoded alone
            stack.enter_context(mock.patch.object(asr._Packed, "alone", lambda self, region: True))
        if "levelling" in steps:
            stack.enter_context(mock.patch.object(asr, "levelled", lambda samples, sample_rate: samples))
        yield


def run(recognizer, item, audio, steps) -> dict:
    from hearback.asr.recognizer import AsrOptions
    from hearback.document import result_to_dict
    from hearback.invariants import check
    from hearback.types import Result

    with without(steps):
        started = time.perf_counter()
        transcript = recognizer.transcribe(audio, AsrOptions())
        seconds = time.perf_counter() - started
    pieces = [(w.start, w.end, w.word) for s in transcript.segments for w in s.words]
    scores = long_files.wer_by_language(item.parts, long_files.text_by_part(item.parts, pieces))
    result = Result(segments=transcript.segments, language=transcript.language,
                    language_probability=transcript.language_probability, duration=round(audio.duration, 3),
                    speakers=(), diarization=None, timings={}, warnings=transcript.notices, identities=())
    faults = check(result_to_dict(result))
    return {"seconds": seconds, "wer": {lang: v for lang, (v, _n) in scores.items()}, "words": len(pieces),
            "faults": len(faults)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="+", default=["en-30min", "fr+en-30min", "crowded-30min"], choices=FILES)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0, help="× the long files' lengths (development)")
    parser.add_argument("--label", default="run")
    parser.add_argument("--out", type=Path, default=RESULTS / "asr_checks.md")
    args = parser.parse_args()
    setup_logging()
    from bench.peer_runs import _model_path

    recognizer = asr.Recognizer(_model_path(args.model), device="cpu", compute_type="int8",
                                cpu_threads=args.threads)
    lines = [f"## {args.label}", "", f"Whisper {args.model} int8, {args.threads} threads, CPU, ASR only; "
             "files sent as 32 kbit/s Opus; one loaded model, configurations in turn.", "",
             "| file | configuration | ASR s | WER | words | faults |", "|---|---|---|---|---|---|"]
    with temp_folder() as name:
        for item in build(args.files, args.scale):
            audio = decode(long_files.as_opus(item.audio, Path(name), item.name))
            for config in args.configs:
                r = run(recognizer, item, audio, CONFIGS[config])
                wer_text = ", ".join(f"{lang} {v:.3f}" for lang, v in r["wer"].items())
                lines.append(f"| {item.name} | {config} | {r['seconds']:.1f} | {wer_text} | {r['words']} "
                             f"| {r['faults']} |")
                sys.stderr.write(lines[-1] + f"  (load {os.getloadavg()[0]:.2f})\n")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(args.out, "a", encoding="utf-8") as out:
        out.write(("" if args.out.exists() and args.out.stat().st_size else "# python -m bench.bench_asr_checks\n")
                  + "\n" + text)


if __name__ == "__main__":
    main()
