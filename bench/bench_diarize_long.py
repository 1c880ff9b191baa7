"""Diarization alone on the long and crowded files, and what the long-recording step costs.

    python -m bench.bench_diarize_long [--files en-30min crowded-30min crowded-held-out]
                                       [--steps 3 5] [--min-cluster N] [--public] [--threads 2]
                                       [--out diarize-long]

Each file (evaluation/long_files.py, as bench_peers builds them) goes through 32 kbit/s Opus
and is decoded as Hearback does. Then, per ``--steps`` value, the embedded backend's
long-recording pipeline is built with that segmentation step (s) and a minimum cluster of
max(2, ceil(9 / step)) chunks (a speaker of its own is active over ~9 s of the file, as
embedded.LONG_MIN_CLUSTER_SIZE says for 3 s), or ``--min-cluster`` chunks, and run on the
file. Reported: wall, seconds in each of pyannote's steps (segmentation, speaker counting,
embeddings; clustering and reconstruction are the rest), real-time factor, embeddings
computed, speakers found, the reference people found (pyannote's optimal mapping) and DER
(collar 0, overlap scored, inside the clips' UEMs). A file no longer than
embedded.LONG_RECORDING gets one more row: the short pipeline (embedded.STEP) the product
runs on it. ``--public``: the public set (pyannote sample + 13 AMI clips, bench_diarization's)
through each pipeline too, total DER. Models are loaded, and each pipeline run once on the
pyannote sample, before any timing.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench import TESTDATA, setup_logging, temp_folder, write_results
from bench.bench_peers import build
from evaluation import long_files
from evaluation.der import Scorer, der_metric, to_annotation
from evaluation.testdata import public_set, read_rttm
from hearback.audio.decode import decode
from hearback.diarize import embedded
from hearback.diarize.runner import to_diarization
from hearback.settings import Settings

FILES = ("en-30min", "crowded-30min", "crowded-held-out")


class StepTimer:
    """A pyannote hook (called after each step, and after each batch of long ones): the
    seconds up to each call go to the step it names; embeddings counted from the batches."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.embeddings = 0
        self._since = time.perf_counter()

    def __call__(self, step_name, step_artifact=None, file=None, total=None, completed=None):
        now = time.perf_counter()
        self.seconds[step_name] = self.seconds.get(step_name, 0.0) + now - self._since
        self._since = now
        batch = np.asarray(step_artifact) if step_name == "embeddings" and step_artifact is not None else None
        if batch is not None and batch.ndim == 2:
            self.embeddings += int(np.isfinite(batch).all(axis=1).sum())


def min_cluster_for(step: float) -> int:
    return max(2, math.ceil(9.0 / step))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", nargs="+", default=list(FILES))
    parser.add_argument("--steps", nargs="+", type=float, default=[embedded.LONG_STEP])
    parser.add_argument("--min-cluster", type=int, default=None,
                        help="one minimum cluster (chunks) for every step, instead of max(2, ceil(9 / step))")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--public", action="store_true",
                        help="also the public set (pyannote sample + 13 AMI clips): total DER per pipeline")
    parser.add_argument("--out", default="diarize-long")
    args = parser.parse_args()
    setup_logging()
    torch.set_num_threads(args.threads)
    settings = Settings()
    pipelines = {}
    for step in args.steps:
        short, pipelines[step] = embedded.build_pipelines(settings.model_cache_dir, args.threads,
                                                           long_step=step, long_min_cluster_size=args.min_cluster or min_cluster_for(step))
    warm = {"waveform": torch.from_numpy(decode(TESTDATA / "diarization" / "pyannote-sample.wav").samples).unsqueeze(0),
            "sample_rate": 16000}
    for pipeline in pipelines.values():  # first calls (threads, ONNX Runtime's session) not in any timing
        pipeline(dict(warm))
    rows = ["| file | step (s) | min cluster | wall (s) | RTF | segmentation | counting | embeddings (s) | "
            "rest (s) | embeddings | speakers | people found | DER |", "|" + "---|" * 13]
    with temp_folder() as tmp:
        for item in build(args.files, 1.0):
            audio = decode(long_files.as_opus(item.audio, Path(tmp), item.name))
            waveform = {"waveform": torch.from_numpy(audio.samples).unsqueeze(0), "sample_rate": audio.sample_rate}
            runs = list(pipelines.items())
            if audio.duration <= embedded.LONG_RECORDING:  # what the product runs on it: the short pipeline
                runs.append((embedded.STEP, short))
            for step, pipeline in runs:
                timer = StepTimer()
                started = time.perf_counter()
                output = pipeline(dict(waveform), hook=timer)
                wall = time.perf_counter() - started
                turns = to_diarization(output).turns
                hypothesis = to_annotation(turns)
                der = der_metric()(item.reference, hypothesis, uem=item.scored)
                found, _ = long_files.found_people(item.reference, hypothesis, item.scored)
                seconds = timer.seconds
                known = sum(seconds.get(k, 0.0) for k in ("segmentation", "speaker_counting", "embeddings"))
                # the rest: clustering, the timeline's reconstruction, pyannote's setup
                size = pipeline.clustering.min_cluster_size
                rows.append(f"| {item.name} | {step:g} | {size} | {wall:.1f} | "
                            f"{wall / audio.duration:.4f} | {seconds.get('segmentation', 0):.1f} | "
                            f"{seconds.get('speaker_counting', 0):.1f} | {seconds.get('embeddings', 0):.1f} | "
                            f"{wall - known:.1f} | {timer.embeddings} | {len({t.speaker for t in turns})} | "
                            f"{len(found)} / {len(item.people)} | {der:.3f} |")
                sys.stderr.write(rows[-1] + "\n")
    if args.public:
        rows += ["", *public_rows([(f"step {step:g}, min cluster {p.clustering.min_cluster_size}", p)
                                   for step, p in pipelines.items()]
                                  + [(f"as shipped: step {embedded.STEP:g}, min cluster "
                                      f"{short.clustering.min_cluster_size}", short)])]
    write_results(__spec__.name, args.out, "\n".join(rows))


def public_rows(pipelines) -> list[str]:
    """The public set through each pipeline: total DER (pyannote.metrics over all files), wall,
    and the files whose speaker count comes out right."""
    items = public_set(TESTDATA)
    audios = {uri: decode(path) for uri, path, _rttm, _uem in items}
    rows = ["| public set through | wall (s) | DER (total) | files with the right speaker count |", "|---|---|---|---|"]
    for name, pipeline in pipelines:
        scorer, right, wall = Scorer(), 0, 0.0
        for uri, _path, rttm, uem in items:
            audio = audios[uri]
            started = time.perf_counter()
            output = pipeline({"waveform": torch.from_numpy(audio.samples).unsqueeze(0),
                               "sample_rate": audio.sample_rate})
            wall += time.perf_counter() - started
            turns = to_diarization(output).turns
            scorer.add(turns, rttm, uri, uem)
            reference = read_rttm(rttm, uri)
            reference = reference.crop(uem) if uem is not None else reference
            right += len({t.speaker for t in turns}) == len(reference.labels())
        rows.append(f"| {name} | {wall:.1f} | {scorer.total:.3f} | {right} / {len(items)} |")
        sys.stderr.write(rows[-1] + "\n")
    return rows


if __name__ == "__main__":
    main()
