"""Known speakers given with one request (RunPod ``known_speakers``, HTTP
``known_speaker_names``/``known_speaker_references``, CLI ``--speaker NAME=FILE``): checked,
decoded and enrolled into voiceprints for that request only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from ..audio.decode import decode
from ..diarize import Diarizer
from ..errors import ErrorCode, HearbackError
from ..types import Audio
from .voiceprint import Voiceprint, check_name, enrol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reference:
    """One known speaker of a request, before its audio is fetched."""

    #: the person's name
    name: str
    #: where the recording is (the main audio's URL rules)
    audio_url: Optional[str] = None
    #: the recording itself, base64 or a ``data:…;base64,`` URL
    audio_base64: Optional[str] = None

#: Most known speakers one request may name (each costs an embedding pass over its reference).
MAX_KNOWN_SPEAKERS = 20


def check_known(names: Sequence[str], references: int) -> tuple[str, ...]:
    """The names, checked: as many as the references, at most :data:`MAX_KNOWN_SPEAKERS`,
    each valid and none twice."""
    if len(names) != references:
        raise HearbackError(ErrorCode.INVALID_KNOWN_SPEAKERS,
                            f"{len(names)} known speaker names for {references} references")
    if len(names) > MAX_KNOWN_SPEAKERS:
        raise HearbackError(ErrorCode.INVALID_KNOWN_SPEAKERS,
                            f"{len(names)} known speakers; at most {MAX_KNOWN_SPEAKERS} per request")
    cleaned = tuple(check_name(n) for n in names)
    twice = sorted({n for n in cleaned if cleaned.count(n) > 1})
    if twice:
        raise HearbackError(ErrorCode.INVALID_KNOWN_SPEAKERS, f"known speaker named twice: {', '.join(twice)}")
    return cleaned


def parse_speaker_argument(text: str) -> tuple[str, Path]:
    """CLI ``NAME=FILE`` -> (name, path)."""
    name, sep, path = text.partition("=")
    if not sep or not path:
        raise HearbackError(ErrorCode.INVALID_KNOWN_SPEAKERS, f"--speaker {text!r}: expected NAME=FILE")
    return check_name(name), Path(path)


def speaker_files(arguments: Sequence[str]) -> dict[str, list[Path]]:
    """CLI: the ``--speaker NAME=FILE`` arguments as each name's reference files, in order (a
    name given several times has several), every file there and at most MAX_KNOWN_SPEAKERS names."""
    files: dict[str, list[Path]] = {}
    for name, path in map(parse_speaker_argument, arguments):
        if not path.is_file():
            raise HearbackError(ErrorCode.INVALID_INPUT, f"--speaker {name}: no such file: {path}")
        files.setdefault(name, []).append(path)
    if len(files) > MAX_KNOWN_SPEAKERS:
        raise HearbackError(ErrorCode.INVALID_KNOWN_SPEAKERS, f"at most {MAX_KNOWN_SPEAKERS} known speakers")
    return files


def voices_from_files(arguments: Sequence[str], diarizer: Diarizer,
                      max_duration: float) -> tuple[Voiceprint, ...]:
    """CLI: one voiceprint per name; a name given several times has several reference files."""
    files = speaker_files(arguments)
    return tuple(enrol(name, [decode(p, max_duration=max_duration) for p in paths], diarizer)
                 for name, paths in files.items())


def known_voices(request, enrolled: Sequence[Voiceprint], settings) -> tuple[Voiceprint, ...]:
    """A RunPod job's voices: the library's (unless ``use_library`` is false), its
    ``known_speakers`` (``enrolled`` from their recordings) and its ``known_voices`` (given as
    embeddings), the job's own winning by name."""
    from .library import voices_for

    requested = tuple(enrolled) + given_voices(request.known_voices, {v.name for v in enrolled})
    return voices_for(settings, requested, request.use_library)


def given_voices(voices: Sequence, taken: set[str]) -> tuple[Voiceprint, ...]:
    """Known voices given as embeddings (``name``, ``model``, ``vector``), each name valid, once,
    and none of the ``taken`` names (``invalid_known_speakers``)."""
    names = [check_name(v.name) for v in voices]
    twice = sorted({n for n in names if names.count(n) > 1 or n in taken})
    if twice:
        raise HearbackError(ErrorCode.INVALID_KNOWN_SPEAKERS, f"known speaker named twice: {', '.join(twice)}")
    return tuple(Voiceprint(name, v.model, tuple(v.vector), 0.0) for name, v in zip(names, voices))


def voices_from_form(names: Sequence[str], references: Sequence[str], pipeline,
                     settings, use_library: bool = True) -> tuple[Voiceprint, ...]:
    """HTTP: the library's voices (``settings``: the server's; none when ``use_library`` is
    false) and ``known_speaker_names`` + ``known_speaker_references`` (data URLs, counts
    checked first), which win by name."""
    from .library import voices_for

    check_known(names, len(references))
    requested = voices_from_sources([Reference(n, audio_base64=r) for n, r in zip(names, references)], pipeline)
    return voices_for(settings, requested, use_library)


def voices_from_sources(speakers: Sequence[Reference], pipeline) -> tuple[Voiceprint, ...]:
    """RunPod ``known_speakers`` or :class:`Reference` items (``name`` + ``audio_url`` |
    ``audio_base64`` each): fetched with the main audio's rules and caps, decoded, enrolled;
    every temporary file removed."""
    from ..audio.fetch import fetched_audio

    if not speakers:
        return ()
    names = check_known([s.name for s in speakers], len(speakers))
    settings = pipeline.settings
    voices = []
    for name, speaker in zip(names, speakers):
        with fetched_audio(settings, url=speaker.audio_url, data_base64=speaker.audio_base64) as path:
            audio = decode(path, max_duration=settings.max_duration)
        voices.append(enrol(name, [audio], pipeline.diarizer))
    return tuple(voices)


def voices_from_audio(names: Sequence[str], references: Sequence[Audio],
                      diarizer: Diarizer) -> tuple[Voiceprint, ...]:
    """One voiceprint per (name, decoded reference), names checked first."""
    names = check_known(names, len(references))
    return tuple(enrol(name, [audio], diarizer) for name, audio in zip(names, references))
