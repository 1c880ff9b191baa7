"""Long recordings that are not one meeting repeated: do the transcript's promises hold?

    python -m bench.bench_longform [--model base] [--label NAME] [--out bench/results/longform.md]

Builds, from the shared clips (../shared/testdata), recordings in shuffled orders with uneven
pauses: a 10-minute English one (seed 1), a 30-minute English one (seed 2; the clips in three
different shuffles) and a bilingual one (seed 3: the 10 FLEURS-fr and 10 FLEURS-en sentences
alternating, about 5 minutes); plus bench_pipeline's 10-minute meeting (bench/variants.py). Each
goes through the full pipeline (Whisper base, language detected, diarization) and its JSON
document through ``hearback.invariants.check``: order faults, zero-length words and loops are
counted on every part, AMI excerpts (no transcript) included. WER is scored on each part with a
transcript (hypothesis words go to the part holding their midpoint), per language. The 21
clips of bench_pipeline (FLEURS en/fr, the pyannote sample) are then sent one by one, for the
bilingual comparison and the existing WER figures. The cost of the checks and re-decodes is read
from the recognizer's log (``check_seconds``) and given in % of the pipeline's time.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from bench import RESULTS, TESTDATA
from evaluation.testdata import english_clips, fleurs_clips, read_stm
from evaluation.variants import english_meeting
from evaluation.wer import wer
from hearback.audio.decode import decode
from hearback.document import result_to_dict
from hearback.invariants import check
from hearback.pipeline import Pipeline
from hearback.settings import Settings
from hearback.types import Audio, Options

logger = logging.getLogger("bench")


@dataclass(frozen=True)
class LongFile:
    """A recording built from clips, with where each clip landed."""

    name: str
    audio: Audio
    #: (start, end, reference text or None, language) of each clip, in the recording's time
    parts: tuple


def _pause(rng: np.random.Generator) -> float:
    """Uneven pauses: short (0.1–0.6 s), ordinary (0.6–3 s) or long (3–12 s)."""
    kind = rng.choice(3, p=[0.4, 0.45, 0.15])
    return float(rng.uniform(*[(0.1, 0.6), (0.6, 3.0), (3.0, 12.0)][kind]))


def _build(name: str, clips: list, seed: int, minutes: float, shuffle: bool = True) -> LongFile:
    """``clips`` = (audio, text or None, language), end to end with uneven pauses, reshuffled
    each round until the recording is at least ``minutes`` long (one round when 0)."""
    rng = np.random.default_rng(seed)
    pieces, parts, offset = [], [], 0.0
    while not parts or offset < minutes * 60:
        order = rng.permutation(len(clips)) if shuffle else range(len(clips))
        for i in order:
            audio, text, language = clips[i]
            parts.append((offset, offset + audio.duration, text, language))
            pause = _pause(rng)
            pieces += [audio.samples, np.zeros(int(pause * 16000), dtype=np.float32)]
            offset += audio.duration + pause
    return LongFile(name, Audio(np.concatenate(pieces)), tuple(parts))


def long_files() -> list[LongFile]:
    english = [(decode(path), text, "en") for _u, path, _r, text, _e in english_clips(TESTDATA)]
    fr = [(decode(p), ref, "fr") for p, ref in fleurs_clips(TESTDATA, "fr")]
    en = [(decode(p), ref, "en") for p, ref in fleurs_clips(TESTDATA, "en")]
    rng = np.random.default_rng(3)
    fr, en = [fr[i] for i in rng.permutation(len(fr))], [en[i] for i in rng.permutation(len(en))]
    alternating = [clip for pair in zip(fr, en) for clip in pair]
    meeting = english_meeting(TESTDATA, 10.0)
    return [
        _build("en-10min-seed1", english, 1, 10.0),
        _build("en-30min-seed2", english, 2, 30.0),
        _build("fr+en-seed3", alternating, 3, 0.0, shuffle=False),
        LongFile("bench meeting (10 min)", meeting.audio,
                 tuple((s, e, t, "en") for s, e, t in meeting.transcripts)),
    ]


class _CheckLog(logging.Handler):
    """Sums the ``check_seconds`` the recognizer logs (loop checks, language checks, re-decodes)."""

    def __init__(self):
        super().__init__()
        self.seconds = 0.0
        self.seen = False

    def emit(self, record):
        if hasattr(record, "check_seconds"):
            self.seconds += record.check_seconds
            self.seen = True


def _by_part(parts, words) -> list[str]:
    """Hypothesis text per part: each word goes to the part holding its midpoint."""
    out = [[] for _ in parts]
    starts = [p[0] for p in parts]
    for start, end, text in words:
        middle = (start + end) / 2
        i = int(np.searchsorted(starts, middle, side="right")) - 1
        if i >= 0 and middle <= parts[i][1]:
            out[i].append(text)
    return [" ".join(t) for t in out]


def _words(document) -> list[tuple[float, float, str]]:
    return [(w["start"], w["end"], w["word"]) for seg in document["transcription"]["segments"]
            for w in seg["words"]]


def run_long(pipeline: Pipeline, item: LongFile, log: _CheckLog) -> dict:
    log.seconds, log.seen = 0.0, False
    started = time.perf_counter()
    document = result_to_dict(pipeline.transcribe(item.audio, Options()))
    seconds = time.perf_counter() - started
    problems = check(document)
    for problem in problems[:20]:
        logger.info("%s: %s", item.name, problem)
    hyps = _by_part(item.parts, _words(document))
    row = {"file": item.name, "minutes": item.audio.duration / 60, "seconds": seconds,
           "counts": Counter(p.kind for p in problems),
           "words": sum(len(s["words"]) for s in document["transcription"]["segments"]),
           "check": log.seconds if log.seen else None, "languages": document.get("languages")}
    for language in ("en", "fr"):
        scored = [(p[2], h) for p, h in zip(item.parts, hyps) if p[2] is not None and p[3] == language]
        if scored:
            row[f"wer_{language}"] = wer([r for r, _ in scored], [h for _, h in scored], language)
    return row


def run_clips(pipeline: Pipeline) -> dict[str, float]:
    """bench_pipeline's 21 clips one by one (language detected): WER en, fr and the sample."""
    groups = {"en": [(p, r) for p, r in fleurs_clips(TESTDATA, "en")],
              "fr": [(p, r) for p, r in fleurs_clips(TESTDATA, "fr")]}
    stm = TESTDATA / "diarization" / "pyannote-sample.stm"
    groups["sample"] = [(TESTDATA / "diarization" / "pyannote-sample.wav",
                         " ".join(r[3] for r in read_stm(stm)))]
    out = {}
    for name, items in groups.items():
        hyps = []
        for path, _ref in items:
            document = result_to_dict(pipeline.transcribe_file(path, Options()))
            for problem in check(document):
                logger.info("%s: %s", path.name, problem)
            hyps.append(document["transcription"]["text"])
        out[name] = wer([r for _, r in items], hyps, "fr" if name == "fr" else "en")
    return out


def _fmt(value, pattern="{:.3f}") -> str:
    return "–" if value is None else pattern.format(value)


def report(label: str, model: str, rows: list[dict], clips: dict[str, float]) -> str:
    lines = [f"## {label}", "",
             f"Whisper {model} int8, full pipeline (language detected, diarization). Clips one by one: "
             f"WER FLEURS-en **{clips['en']:.3f}**, FLEURS-fr **{clips['fr']:.3f}**, "
             f"pyannote sample **{clips['sample']:.3f}**.", "",
             "| file | min | pipeline s | words | order faults | zero-length words | loops | other problems "
             "| WER en | WER fr | checks + re-decodes s (% of pipeline) | languages |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c = r["counts"]
        other = sum(v for k, v in c.items() if k not in ("order", "zero_length", "loop"))
        cost = "–" if r["check"] is None else f"{r['check']:.2f} ({100 * r['check'] / r['seconds']:.1f} %)"
        langs = ", ".join(f"{x['language']} {x['share']:.2f}" for x in r["languages"]) if r["languages"] else "–"
        lines.append(f"| {r['file']} | {r['minutes']:.1f} | {r['seconds']:.1f} | {r['words']} | {c['order']} "
                     f"| {c['zero_length']} | {c['loop']} | {other} | {_fmt(r.get('wer_en'))} "
                     f"| {_fmt(r.get('wer_fr'))} | {cost} | {langs} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--label", default="run")
    parser.add_argument("--out", default=str(RESULTS / "longform.md"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logger.setLevel(logging.INFO)
    log = _CheckLog()
    logging.getLogger("hearback").addHandler(log)
    logging.getLogger("hearback").setLevel(logging.INFO)
    pipeline = Pipeline.load(Settings(whisper_model=args.model, diarization_backend="embedded"))
    pipeline.transcribe_file(TESTDATA / "diarization" / "pyannote-sample.wav", Options())  # warm-up
    files = long_files()
    rows = []
    for item in [files[3], files[2]]:  # the bench meeting (the cost goal) and the bilingual file first
        rows.append(run_long(pipeline, item, log))
        logger.info("%s", rows[-1])
    clips = run_clips(pipeline)
    logger.info("clips one by one: %s", clips)
    for item in files[:2]:
        rows.append(run_long(pipeline, item, log))
        logger.info("%s", rows[-1])
    text = report(args.label, args.model, rows, clips)
    sys.stdout.write(text + "\n")
    with open(args.out, "a", encoding="utf-8") as out:
        out.write("\n" + text)


if __name__ == "__main__":
    main()
