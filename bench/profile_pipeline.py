"""Where the time goes: pyinstrument over Hearback's full pipeline on the 10-minute meeting.

    python -m bench.profile_pipeline [--model base] [--threads 2] [--minutes 10]

Builds the meeting from the test data's English clips (evaluation/variants.py), writes it as FLAC,
loads the pipeline, warms it up on the pyannote sample, then profiles one
``transcribe_file`` call. Writes the stage timings and the profile's top lines to
bench/results/profile.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import soundfile
from pyinstrument import Profiler

from bench import TESTDATA, setup_logging, temp_folder, write_results
from evaluation.variants import english_meeting
from hearback.pipeline import Pipeline
from hearback.settings import Settings
from hearback.types import Options


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="base")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    setup_logging()

    meeting = english_meeting(TESTDATA, args.minutes)
    pipeline = Pipeline.load(Settings(whisper_model=args.model, compute_type="int8", device="cpu",
                                      cpu_threads=args.threads, diarization_backend="embedded"))
    pipeline.transcribe_file(TESTDATA / "diarization" / "pyannote-sample.wav", Options(language="en"))
    with temp_folder() as folder:
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
    text = (f"Model {args.model} int8, {args.threads} threads, CPU; "
            f"{duration / 60:.1f}-minute meeting (evaluation/variants.py english_meeting).\n\n"
            f"Stages: {stages}; RTF {sum(result.timings.values()) / duration:.3f}.\n\n"
            "pyinstrument (wall clock), top of the call tree:\n\n```\n"
            + "\n".join(lines[:120]) + "\n```")
    write_results(__spec__.name, "profile", text)


if __name__ == "__main__":
    main()
