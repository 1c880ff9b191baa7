"""Diarization: Hearback's embedded backend vs senko 0.2.2, on the public set.

    python bench/bench_diarization.py [--no-senko] [--no-variants]

DER per file (pyannote.metrics, collar 0, overlap scored, AMI scored inside its UEM), the
total over the public set (pyannote sample + 13 AMI clips), falcon (3 speakers), real-time
factors, and the embedded backend on variants: mp3 and opus transcodes, white noise at
20 dB SNR, and all clips concatenated into one meeting. Writes bench/results/diarization.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench import TESTDATA  # noqa: E402

from pyannote.metrics.diarization import DiarizationErrorRate  # noqa: E402

from bench.der import Scorer, der_against_rttm, public_set, to_annotation  # noqa: E402
from bench.variants import clip_audio, concatenated_meeting  # noqa: E402
from hearback.decode import decode  # noqa: E402
from hearback.diarize import load_diarizer  # noqa: E402
from hearback.settings import Settings  # noqa: E402
from hearback.types import Turn  # noqa: E402


class Senko:
    name = "senko 0.2.2"

    def __init__(self):
        import senko

        self.model = senko.Diarizer(device="cpu", warmup=True, quiet=True)

    def diarize(self, audio):
        result = self.model.diarize_samples(audio.samples, sample_rate=16000)
        if not result:
            return ()
        return tuple(Turn(s["start"], s["end"], str(s["speaker"])) for s in result["merged_segments"])


class Embedded:
    name = "Hearback embedded"

    def __init__(self):
        self.model = load_diarizer(Settings(diarization_backend="embedded", device="cpu"))

    def diarize(self, audio):
        return self.model.diarize(audio).turns


def run_public(system, variant, folder):
    scorer, seconds, audio_seconds, per_file = Scorer(), 0.0, 0.0, {}
    for uri, path, rttm, uem in public_set(TESTDATA):
        audio = clip_audio(path, variant, folder)
        started = time.perf_counter()
        turns = system.diarize(audio)
        seconds += time.perf_counter() - started
        audio_seconds += audio.duration
        per_file[uri] = scorer.add(turns, rttm, None if uri == "sample" else uri, uem)
    return per_file, scorer.total, seconds / audio_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-senko", action="store_true")
    parser.add_argument("--no-variants", action="store_true")
    args = parser.parse_args()

    systems = [Embedded()] + ([] if args.no_senko else [Senko()])
    warm = decode(TESTDATA / "diarization" / "pyannote-sample.wav")
    for system in systems:
        system.diarize(warm)  # warm-up, not timed

    folder = Path(tempfile.mkdtemp(prefix="hearback-bench-"))
    results = {s.name: run_public(s, None, folder) for s in systems}
    falcon = decode(TESTDATA / "diarization" / "falcon-3spk.wav")
    falcon_der = {s.name: der_against_rttm(s.diarize(falcon), TESTDATA / "diarization" / "falcon-3spk.rttm")
                  for s in systems}

    names = [s.name for s in systems]
    lines = ["| file | " + " | ".join(f"{n} DER" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for uri in results[names[0]][0]:
        lines.append(f"| {uri} | " + " | ".join(f"{results[n][0][uri]:.3f}" for n in names) + " |")
    lines.append("| **total (public set)** | " + " | ".join(f"**{results[n][1]:.3f}**" for n in names) + " |")
    lines.append("| falcon-3spk | " + " | ".join(f"{falcon_der[n]:.3f}" for n in names) + " |")
    lines.append("| real-time factor (public set) | " + " | ".join(f"{results[n][2]:.3f}" for n in names) + " |")

    if not args.no_variants:
        embedded = systems[0]
        lines += ["", "Embedded backend on variants (total DER over the public set):", "",
                  "| variant | total DER | RTF |", "|---|---|---|",
                  f"| clean | {results[embedded.name][1]:.3f} | {results[embedded.name][2]:.3f} |"]
        for variant in ("mp3", "opus", "noise20"):
            _per, total, rtf = run_public(embedded, variant, folder)
            lines.append(f"| {variant} | {total:.3f} | {rtf:.3f} |")
        audio, reference, scored = concatenated_meeting(TESTDATA)
        started = time.perf_counter()
        diarization = embedded.model.diarize(audio)
        rtf = (time.perf_counter() - started) / audio.duration
        metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
        der = metric(reference, to_annotation(diarization.turns), uem=scored)
        lines.append(f"| one {audio.duration / 60:.1f}-minute meeting (all clips concatenated) | "
                     f"{der:.3f} ({len(diarization.speakers)} speakers found, "
                     f"{len(reference.labels())} in the reference) | {rtf:.3f} |")

    text = "\n".join(lines)
    out = REPO / "bench" / "results" / "diarization.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("# bench_diarization.py\n\n2 CPU cores, collar 0, overlap scored.\n\n" + text + "\n")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
