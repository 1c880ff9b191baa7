"""Diarization: Hearback's embedded backend vs senko 0.2.2, on the public set.

    python -m bench.bench_diarization [--no-senko] [--no-variants]

DER per file (pyannote.metrics, collar 0, overlap scored, AMI scored inside its UEM), the
total over the public set (pyannote sample + 13 AMI clips), falcon (3 speakers), real-time
factors, and the embedded backend on variants: mp3 and opus transcodes, white noise at
20 dB SNR, and all clips concatenated into one meeting. Writes bench/results/diarization.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench import TESTDATA, setup_logging, temp_folder, write_results
from evaluation.der import Scorer, der_against_rttm, der_metric, to_annotation
from evaluation.testdata import public_set
from evaluation.variants import clip_audio, concatenated_meeting
from hearback.audio.decode import decode
from hearback.diarize import load_diarizer
from hearback.settings import Settings
from hearback.types import Turn


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


def variant_lines(embedded: Embedded, clean, folder: Path) -> list[str]:
    """The embedded backend on the transcodes, the noise and the concatenated meeting."""
    lines = ["", "Embedded backend on variants (total DER over the public set):", "",
             "| variant | total DER | RTF |", "|---|---|---|",
             f"| clean | {clean[1]:.3f} | {clean[2]:.3f} |"]
    for variant in ("mp3", "opus", "noise20"):
        _per, total, rtf = run_public(embedded, variant, folder)
        lines.append(f"| {variant} | {total:.3f} | {rtf:.3f} |")
    audio, reference, scored = concatenated_meeting(TESTDATA)
    started = time.perf_counter()
    diarization = embedded.model.diarize(audio)
    rtf = (time.perf_counter() - started) / audio.duration
    der = der_metric()(reference, to_annotation(diarization.turns), uem=scored)
    lines.append(f"| one {audio.duration / 60:.1f}-minute meeting (all clips concatenated) | "
                 f"{der:.3f} ({len(diarization.speakers)} speakers found, "
                 f"{len(reference.labels())} in the reference) | {rtf:.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-senko", action="store_true")
    parser.add_argument("--no-variants", action="store_true")
    args = parser.parse_args()
    setup_logging()

    systems = [Embedded()] + ([] if args.no_senko else [Senko()])
    warm = decode(TESTDATA / "diarization" / "pyannote-sample.wav")
    for system in systems:
        system.diarize(warm)  # warm-up, not timed

    with temp_folder() as name:
        folder = Path(name)
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
            lines += variant_lines(systems[0], results[systems[0].name], folder)

    write_results(__spec__.name, "diarization", "2 CPU cores, collar 0, overlap scored.\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
