"""``hearback``: transcribe files on your own machine.

    hearback transcribe FILE... [--language fr|en|auto] [--min-speakers N] [--max-speakers N]
                        [--num-speakers N] [--format json|srt|vtt|txt|tsv|rttm|docx|all]
                        [--output-dir DIR] [--model NAME] [--no-diarize]
                        [--subtitle-style netflix|bbc] [--max-line-chars N] [--max-lines N]
                        [--min-cue-seconds S] [--max-cue-seconds S] [--max-cps N] [--min-gap-seconds S]
                        [--speaker-labels bracket|colon|none] [--highlight-words] [--speaker NAME=FILE]...
                        [--endpoint URL]
    hearback speakers add NAME FILE... | list | remove NAME
    hearback models
    hearback doctor [--allow-no-gpu] [--sample FILE]
    hearback serve [--host H] [--port P]

Same pipeline, settings and writers as the RunPod worker. One output file per input and
format (``<stem>.<ext>``); for SRT and VTT the lint report of the subtitle preset is
printed (on standard error). A file that fails is reported with its error code and the others
still run; the exit code is 0 when all succeeded, 1 when some failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Optional, Sequence, TextIO

from ..errors import ErrorCode, HearbackError, as_error
from ..subtitles.presets import OVERRIDES, PRESETS
from ..types import ProgressHook, Stage
from ..writers import DEFAULT_PRESET, FORMAT_CHOICES, SPEAKER_LABELS, SUBTITLE_FORMATS, expand_formats

logger = logging.getLogger(__name__)

_LOCAL_STAGES = [stage for stage in Stage if stage is not Stage.DOWNLOAD]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearback", description="Transcripts that say who spoke when.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("transcribe", help="transcribe audio or video files")
    run.add_argument("files", nargs="+", type=Path, metavar="FILE")
    run.add_argument("--language", default="auto", help="auto (default), or a code such as fr, en")
    run.add_argument("--min-speakers", type=int)
    run.add_argument("--max-speakers", type=int)
    run.add_argument("--num-speakers", type=int)
    run.add_argument("--format", default="json", choices=FORMAT_CHOICES)
    run.add_argument("--output-dir", type=Path, default=Path("."))
    run.add_argument("--model", help="Whisper model (default: WHISPER_MODEL, else base on CPU)")
    run.add_argument("--no-diarize", action="store_true", help="do not find speakers")
    run.add_argument("--initial-prompt", help="names or jargon to help Whisper")
    run.add_argument("--subtitle-style", default=DEFAULT_PRESET, choices=tuple(PRESETS),
                     help="subtitle preset for srt/vtt (default netflix)")
    for name, kind in OVERRIDES.items():
        run.add_argument(f"--{name.replace('_', '-')}", type=kind, help=f"override the preset's {name}")
    run.add_argument("--speaker-labels", default="bracket", choices=tuple(SPEAKER_LABELS),
                     help="SRT: [Name], Name: or no label where the speaker changes")
    run.add_argument("--highlight-words", action="store_true", help="VTT: karaoke word timestamps")
    run.add_argument("--speaker", action="append", default=[], metavar="NAME=FILE",
                     help="a known person and a recording of them alone (repeatable; "
                          "the same name again adds a reference)")

    run.add_argument("--no-library", action="store_true", help="do not name voices of SPEAKER_LIBRARY")
    run.add_argument("--endpoint", metavar="URL",
                     help="send the files to this RunPod endpoint (https://api.runpod.ai/v2/<id>; key: "
                          "RUNPOD_API_KEY) instead of loading models here")

    speakers = commands.add_parser("speakers", help="the voice library (SPEAKER_LIBRARY)")
    actions = speakers.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="enrol a person from recordings of them alone")
    add.add_argument("name")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    actions.add_parser("list", help="list the voices")
    remove = actions.add_parser("remove", help="delete a voice for good")
    remove.add_argument("name", help="its name or id")

    commands.add_parser("models", help="list the models Hearback knows and whether each is here")

    doctor = commands.add_parser("doctor", help="check this deployment offline (device, models, a sample)")
    doctor.add_argument("--allow-no-gpu", action="store_true",
                        help="image build: skip the GPU checks when there is none, run the rest on CPU")
    doctor.add_argument("--sample", type=Path, help="audio to run end to end (default: the bundled sample)")

    serve = commands.add_parser("serve", help="run the OpenAI-compatible HTTP API")
    serve.add_argument("--host", help="default 127.0.0.1, or 0.0.0.0 when HEARBACK_API_KEY is set")
    serve.add_argument("--port", type=int, help="default 8080 (HEARBACK_PORT)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
    if args.command == "models":
        return list_models(sys.stdout)
    if args.command == "doctor":
        from .doctor import main as doctor

        return doctor(sys.stdout, allow_no_gpu=args.allow_no_gpu, sample=args.sample)
    if args.command == "speakers":
        from .speakers import main as speakers

        return speakers(args, sys.stdout, sys.stderr)
    if args.command == "serve":
        from ..api import serve

        logging.getLogger().setLevel(logging.INFO)
        serve(args.host, args.port)
        return 0
    return transcribe(args, sys.stdout, sys.stderr)


def list_models(out: TextIO) -> int:
    from ..asr.models import known_models
    from ..settings import get_settings

    settings = get_settings()
    out.write(f"{'model':<16}{'available':<11}source\n")
    for info in known_models(settings.model_cache_dir):
        where = str(info.path) if info.available else "not here (downloaded from the hub when online)"
        out.write(f"{info.name:<16}{'yes' if info.available else 'no':<11}{info.source}: {where}\n")
    backend = settings.resolved_diarization_backend
    out.write(f"\ndiarization: {backend} "
              f"({'token-free, bundled weights' if backend == 'embedded' else settings.pyannote_pipeline})\n")
    return 0


def transcribe(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..schema import ExportFields, JobOptions, parse
    from ..settings import Settings

    try:
        request = parse(JobOptions, {
            "language": args.language, "min_speakers": args.min_speakers,
            "max_speakers": args.max_speakers, "num_speakers": args.num_speakers,
            "diarize": not args.no_diarize, "initial_prompt": args.initial_prompt,
        })
        export = parse(ExportFields, {
            "subtitle_style": args.subtitle_style, "speaker_labels": args.speaker_labels,
            "highlight_words": args.highlight_words, **{name: getattr(args, name) for name in OVERRIDES},
        })
    except HearbackError as exc:
        err.write(f"hearback: {exc}\n")
        return 2
    options = request.to_options()
    formats = expand_formats(args.format)
    settings = Settings(**({"whisper_model": args.model} if args.model else {}))

    try:
        run = _transcriber(args, options, settings)
    except HearbackError as exc:
        err.write(f"hearback: {exc}\n")
        return 2
    args.output_dir.mkdir(parents=True, exist_ok=True)

    failures = 0
    for path in args.files:
        try:
            _transcribe_one(run, path, formats, args.output_dir, out, err, export)
        except Exception as exc:  # report it with its code and keep going with the other files
            failures += 1
            err.write(f"{path}: error {as_error(exc, str(path))}\n")
    if failures:
        err.write(f"{failures} of {len(args.files)} files failed\n")
    return 1 if failures else 0


def _transcriber(args: argparse.Namespace, options, settings):
    """How each file is transcribed: on the RunPod endpoint ``--endpoint`` names, or by the
    models loaded here once (with the known voices of ``--speaker`` and the library)."""
    if args.endpoint:
        from .endpoint import endpoint_transcriber

        return endpoint_transcriber(args.endpoint, options, args.speaker, args.no_library, settings)
    from ..pipeline import Pipeline

    pipeline = Pipeline.load(settings, with_diarizer=options.diarize)
    pipeline.check(options)
    voices = _known_voices(pipeline, args.speaker, args.no_library)
    return lambda path, hook: pipeline.transcribe_file(path, options, hook, voices=voices)


def _known_voices(pipeline, arguments: Sequence[str], no_library: bool):
    """The library's voices (unless ``no_library``) and the ``--speaker NAME=FILE`` ones, which
    win by name (none without diarization)."""
    if pipeline.diarizer is None:
        return ()
    from ..speakers.library import voices_for
    from ..speakers.references import voices_from_files

    requested = voices_from_files(arguments, pipeline.diarizer, pipeline.settings.max_duration)
    return voices_for(pipeline.settings, requested, not no_library)


def _transcribe_one(run, path: Path, formats: Sequence[str], output_dir: Path,
                    out: TextIO, err: TextIO, export) -> None:
    """One file transcribed by ``run(path, progress)``, written in each format as
    ``<stem>.<ext>``; the lint report of each subtitle format on ``err``."""
    from ..writers import get_writer

    if not path.is_file():
        raise HearbackError(ErrorCode.INVALID_INPUT, f"no such file: {path}")
    with _progress(path.name, err) as hook:
        result = run(path, hook)
    for fmt in formats:
        writer = get_writer(fmt, export.to_export(path.stem))
        target = output_dir / f"{path.stem}.{writer.extension}"
        with target.open("wb") as fh:
            writer.write_binary(result, fh)
        out.write(f"{target}\n")
        if fmt in SUBTITLE_FORMATS:
            err.write(f"{target.name}: {writer.lint(result).summary()}\n")
    err.write(f"{path.name}: {result.duration:.1f} s, {len(result.speakers)} speakers, "
              f"language {result.language}\n")


class _progress:
    """A progress bar per file by stage on a terminal; plain lines (one per stage) otherwise."""

    def __init__(self, name: str, stream: TextIO):
        self.name, self.stream = name, stream
        self.bar = None
        self.stage: Optional[str] = None

    def __enter__(self) -> ProgressHook:
        if self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=100, desc=self.name, file=self.stream, leave=True,
                            bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}")
        return self.hook

    def hook(self, stage: str, fraction: float) -> None:
        if self.bar is not None:
            self.bar.set_description_str(f"{self.name} [{stage}]", refresh=False)
            stages = _LOCAL_STAGES  # the CLI reads local files: nothing to download
            self.bar.n = int(100 * (stages.index(stage) + fraction) / len(stages))
            self.bar.refresh()
        elif stage != self.stage:
            self.stream.write(f"{self.name}: {stage}\n")
            self.stream.flush()
        self.stage = stage

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            if exc[0] is None:
                self.bar.n = 100
                self.bar.set_description_str(f"{self.name} [done]", refresh=False)
            self.bar.close()

