"""What a ``/v1/jobs`` job keeps about its speakers, in its kept folder
(``JobRunner.kept_folder``, removed with the job):

* from submission until the job ends, ``references/``: the known speakers' recordings sent
  with it (``known_speaker_references``, decoded from their data URLs, checked as base64) and
  ``request.json`` (their names, ``use_library``), so that a queued job survives a server
  restart with them; removed when the job ends, however it ends;
* once it succeeded, ``voices.json`` (those known speakers' voiceprints and ``use_library``)
  and the diarization's clustering inputs (``hearback.diarize.inputs``), so that
  ``rediarize`` can find the speakers again and name them as the job did.
"""

from __future__ import annotations

import json
import logging
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Iterator, Optional, Sequence

from ..audio.decode import decode
from ..errors import ErrorCode, HearbackError
from ..speakers.library import library_voices, voices_for
from ..speakers.references import check_known
from ..speakers.voiceprint import Voiceprint, enrol
from ..types import Diarization

logger = logging.getLogger(__name__)

REFERENCES = "references"
REQUEST = "request.json"
VOICES = "voices.json"


@dataclass(frozen=True)
class JobSpeakers:
    """The known voices one job asked for."""

    #: voiceprints of the known speakers sent with the job
    requested: tuple[Voiceprint, ...] = ()
    #: whether the library's voices are named too (a requested name wins)
    use_library: bool = True
    #: only these of the library's voices, by name (None: all of them)
    library_names: Optional[tuple[str, ...]] = None

    def voices(self, settings) -> tuple[Voiceprint, ...]:
        """The voices to match now: the library's as it is now (unless not wanted; only those
        chosen, when chosen) and the requested ones."""
        return voices_for(settings, self.requested, self.use_library, self.library_names)

    def choice(self) -> dict:
        """What the job chose of the library, as kept beside it."""
        return {"use_library": self.use_library,
                "library_speakers": list(self.library_names) if self.library_names is not None else None}


def _names(value: Optional[Sequence[str]]) -> Optional[tuple[str, ...]]:
    return tuple(value) if value is not None else None


def check_library_names(names: Optional[Sequence[str]], settings) -> Optional[tuple[str, ...]]:
    """Library voices chosen by name: each must be in the library now (``unknown_speaker``)."""
    if names is None:
        return None
    known = {v.name for v in library_voices(settings)}
    unknown = sorted(set(names) - known)
    if unknown:
        raise HearbackError(ErrorCode.UNKNOWN_SPEAKER, f"the voice library has no {', '.join(map(repr, unknown))}")
    return tuple(dict.fromkeys(names))


def keep_request(folder: Optional[Path], names: Sequence[str], references: Sequence[str],
                 use_library: bool, settings, library_names: Optional[Sequence[str]] = None) -> None:
    """At submission: the names checked, each reference (a data URL or base64) decoded into a
    file, ``use_library`` and the library voices chosen (``library_names``, None: all); nothing
    written when there is nothing to keep."""
    from ..audio.fetch import fetched_audio

    names = check_known(names, len(references))
    choice = JobSpeakers((), use_library, check_library_names(library_names, settings)).choice()
    if folder is None or (not names and choice == JobSpeakers().choice()):
        return
    target = folder / REFERENCES
    target.mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(references):
        with fetched_audio(settings, data_base64=data) as path:
            shutil.copyfile(path, target / f"{index}.audio")
    (target / REQUEST).write_text(json.dumps({"names": list(names), **choice}))


@contextmanager
def kept_request(folder: Optional[Path]) -> Iterator[tuple[tuple[tuple[str, Path], ...], JobSpeakers]]:
    """While a job runs: its kept references, (name, file) each, and its library choice; the
    references are removed when the block ends, whatever way it ends."""
    references = folder / REFERENCES if folder is not None else None
    try:
        if references is None or not (references / REQUEST).is_file():
            yield (), JobSpeakers()
            return
        request = json.loads((references / REQUEST).read_text())
        files = tuple((name, references / f"{index}.audio") for index, name in enumerate(request["names"]))
        yield files, JobSpeakers((), request["use_library"], _names(request.get("library_speakers")))
    finally:
        if references is not None:
            shutil.rmtree(references, ignore_errors=True)


@contextmanager
def requested_speakers(folder: Optional[Path], diarizer, max_duration: float,
                       diarize: bool = True) -> Iterator[JobSpeakers]:
    """While a job runs: its kept request, the references enrolled (only when it diarizes);
    the references are removed when the block ends, whatever way it ends."""
    with kept_request(folder) as (files, choice):
        requested = tuple(enrol(name, [decode(path, max_duration=max_duration)], diarizer)
                          for name, path in files) if diarize else ()
        yield replace(choice, requested=requested)


def keep_for_rediarize(folder: Optional[Path], diarization: Optional[Diarization],
                       speakers: JobSpeakers) -> None:
    """When a job succeeded: what ``rediarize`` needs (nothing without diarization inputs).
    A write that fails (a full disk) is logged and leaves the job succeeded: its rediarize
    then answers ``diarization_not_kept``."""
    from ..diarize.inputs import save_inputs

    if folder is None or diarization is None or diarization.inputs is None:
        return
    try:
        (folder / VOICES).parent.mkdir(parents=True, exist_ok=True)
        (folder / VOICES).write_text(json.dumps(
            {**speakers.choice(), "requested": [asdict(v) for v in speakers.requested]}))
        save_inputs(folder, diarization.inputs)  # last: its presence says everything was kept
    except OSError:
        logger.exception("could not keep what rediarize needs in %s", folder)


def kept_speakers(folder: Optional[Path]) -> JobSpeakers:
    """The known voices a finished job asked for (none kept: the library only)."""
    path = folder / VOICES if folder is not None else None
    if path is None or not path.is_file():
        return JobSpeakers()
    data = json.loads(path.read_text())
    requested = tuple(Voiceprint(v["name"], v["model"], tuple(v["vector"]), v["seconds"])
                      for v in data["requested"])
    return JobSpeakers(requested, data["use_library"], _names(data.get("library_speakers")))
