"""What ``hearback serve`` holds instead of models on the runpod backend: a pipeline whose work
is done on the endpoint (the same calls the server makes of a loaded :class:`~hearback.pipeline.Pipeline`:
``check``, ``transcribe_file``, ``diarizer.rediarize``), so every route and the job runner use it
unchanged. Its diarizer embeds nothing here: a voice is enrolled by the worker (task ``enrol``,
the reference sent as 16-bit WAV), speakers are found again by it (task ``rediarize``); matching
voices and giving words to speakers stay here (no model needed)."""

from __future__ import annotations

import logging
import wave
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..errors import ErrorCode, HearbackError
from ..runtime.tempdirs import job_tempdir
from ..speakers.voiceprint import Voiceprint
from ..types import Audio, Diarization, Options, ProgressHook, Result, no_progress
from .backend import Request, RunPodBackend

logger = logging.getLogger(__name__)


def write_wav(audio: Audio, path: Path) -> Path:
    """``audio`` as a 16-bit mono WAV (half of float32): audio decoded from 16-bit samples
    (``x / 32768``) comes back bit for bit, so a voiceprint made from it is the same."""
    samples = np.clip(np.round(audio.samples.astype(np.float64) * 32768), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.sample_rate)
        out.writeframes(samples.tobytes())
    return path


class RemoteDiarizer:
    """The endpoint's diarizer, seen from here."""

    name = "runpod"

    def __init__(self, backend: RunPodBackend):
        self.backend = backend
        #: the endpoint's embedding model (each result says it; voices are compared there)
        self.embedding_model: Optional[str] = None

    def diarize(self, audio, **bounds) -> Diarization:
        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, "this server holds no model: its jobs go to the endpoint")

    def rediarize(self, inputs, *, num_speakers: Optional[int] = None, min_speakers: Optional[int] = None,
                  max_speakers: Optional[int] = None) -> Diarization:
        return self.backend.rediarize(inputs, num_speakers=num_speakers, min_speakers=min_speakers,
                                      max_speakers=max_speakers)

    def embed(self, waveforms):
        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, "this server holds no model: voices are enrolled on the endpoint")

    def enrol(self, name: str, references: Sequence[Audio]) -> Voiceprint:
        """``name``'s voiceprint, made on the endpoint from ``references`` (decoded here)."""
        with job_tempdir() as folder:
            paths = [write_wav(audio, folder / f"reference-{i}.wav") for i, audio in enumerate(references)]
            voice = self.backend.enrol(name, paths)
        self.embedding_model = voice.model
        return voice


class RemotePipeline:
    """A :class:`~hearback.pipeline.Pipeline` look-alike whose models are the endpoint's."""

    def __init__(self, settings, backend: RunPodBackend):
        self.settings, self.backend = settings, backend
        self.diarizer = RemoteDiarizer(backend)

    def check(self, options: Options) -> None:
        """Nothing to check here: the language and the model are the endpoint's (its worker
        refuses what it cannot do, with the same codes)."""

    def transcribe_file(self, path, options: Options, progress: ProgressHook = no_progress,
                        voices: Sequence[Voiceprint] = ()) -> Result:
        return self.backend.transcribe(Path(path), Request(options, voices=tuple(voices)), progress=progress).result
