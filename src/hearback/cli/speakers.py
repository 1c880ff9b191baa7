"""``hearback speakers add NAME FILE... | list | remove NAME``: the voice library from the
command line (the library file is ``SPEAKER_LIBRARY``)."""

from __future__ import annotations

import argparse
import logging
from typing import TextIO

from ..errors import HearbackError

logger = logging.getLogger(__name__)


def main(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Exit code 0 on success, 2 on a usage error (reported with its code)."""
    from ..settings import Settings
    from ..speakers.library import open_library

    settings = Settings()
    try:
        library = open_library(settings)
        if args.action == "add":
            entry = library.add(_enrol(args, settings), replace=True)  # the CLI enrols or replaces (SPECS)
            out.write(f"{entry.id}\t{entry.voice.name}\t{entry.voice.seconds:.1f} s of speech\n")
        elif args.action == "list":
            for entry in library.entries():
                out.write(f"{entry.id}\t{entry.voice.name}\t{entry.voice.seconds:.1f} s\t{entry.voice.model}\n")
        else:
            entry = library.remove(args.name)
            out.write(f"{entry.id}\t{entry.voice.name}\tdeleted\n")
    except HearbackError as exc:
        err.write(f"hearback: {exc}\n")
        return 2
    return 0


def _enrol(args: argparse.Namespace, settings):
    from ..audio.decode import decode
    from ..diarize import load_diarizer
    from ..speakers.voiceprint import check_name, enrol

    name = check_name(args.name)
    audio = [decode(path, max_duration=settings.max_duration) for path in args.files]
    return enrol(name, audio, load_diarizer(settings))
