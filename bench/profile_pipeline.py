"""Where the time goes: pyinstrument over Hearback's full pipeline on the 10-minute meeting.

    python bench/profile_pipeline.py [--model base] [--threads 2] [--minutes 10]

Builds the meeting from the shared English clips (bench/variants.py), writes it as FLAC,
loads the pipeline, warms it up on the pyannote sample, then profiles one
``transcribe_file`` call. Writes the stage timings and the profile's top lines to
bench/results/profile.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench import TESTDATA  # noqa: E402

import soundfile  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from bench.variants import english_meeting  # noqa: E402
from hearback.pipeline import Pipeline  # noqa: E402
from hearback.settings import Settings  # noqa: E402
from hearback.types import Options  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    meeting = english_meeting(TESTDATA, args.minutes)
    pipeline = Pipeline.load(Settings(whisper_model=args.model, compute_type="int8", device="cpu",
                                      cpu_threads=args.threads, diarization_backend="embedded"))
    pipeline.transcribe_file(TESTDATA / "diarization" / "pyannote-sample.wav", Options(language="en"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "meeting.flac"
        soundfile.write(path, meeting.audio.samples, 16000)
        profiler = Profiler(interval=0.01)
        profiler.start()
        result = pipeline.transcribe_file(path, Options(language="en"))
        profiler.stop()
    duration = meeting.audio.duration
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
    tree = profiler.output_text(unicode=False, color=False, show_all=False, short_mode=False)
    lines = tree.splitlines()
    text = (f"# bench/profile_pipeline.py\n\nModel {args.model} int8, {args.threads} threads, CPU; "
            f"{duration / 60:.1f}-minute meeting (bench/variants.py english_meeting).\n\n"
            f"Stages: {stages}; RTF {sum(result.timings.values()) / duration:.3f}.\n\n"
            "pyinstrument (wall clock), top of the call tree:\n\n```\n"
            + "\n".join(lines[:120]) + "\n```\n")
    out = REPO / "bench" / "results" / "profile.md"
    out.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
