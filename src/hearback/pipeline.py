"""The Hearback pipeline: decode → transcribe → align → diarize → assign.

Models load once in :meth:`Pipeline.load` and are reused by every job. Each
stage takes and returns plain dataclasses (``types.py``); ``transcribe`` reads
as the list of stages it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator, Optional, Sequence

from .asr.align import Aligner
from .asr.models import resolve_whisper_model
from .asr.recognizer import AsrOptions, Recognizer
from .assign import attribute
from .audio.decode import decode
from .diarize import Diarizer, load_diarizer
from .errors import ErrorCode, HearbackError
from .runtime.memory import trim
from .settings import Settings
from .speakers.voiceprint import Voiceprint
from .types import Audio, Diarization, Options, ProgressHook, Result, SpeakerIdentity, Stage, no_progress

logger = logging.getLogger(__name__)


class Pipeline:
    def __init__(self, settings: Settings, recognizer: Recognizer, aligner: Aligner,
                 diarizer: Optional[Diarizer]):
        self.settings = settings
        self.recognizer = recognizer
        self.aligner = aligner
        self.diarizer = diarizer
        # One job at a time per loaded model: CTranslate2 and torch already use every core.
        self._lock = threading.Lock()
        # Decoding runs outside that lock (the HTTP route decodes in threads): bounded here.
        self._decode_slots = threading.BoundedSemaphore(settings.max_concurrent_decodes)

    @classmethod
    def load(cls, settings: Settings, *, diarizer: Optional[Diarizer] = None,
             with_diarizer: bool = True) -> "Pipeline":
        """Load every model once. ``diarizer`` lets callers share one already loaded."""
        started = time.perf_counter()
        device = settings.resolved_device
        model_path = resolve_whisper_model(settings.resolved_whisper_model, settings.model_cache_dir)
        recognizer = Recognizer(
            model_path, device=device, compute_type=settings.resolved_compute_type,
            cpu_threads=settings.resolved_cpu_threads,
        )
        if diarizer is None and with_diarizer:
            diarizer = load_diarizer(settings)
        aligner = Aligner(settings.alignment_model_dir, device)
        logger.info("pipeline ready in %.1f s", time.perf_counter() - started)
        return cls(settings, recognizer, aligner, diarizer)

    def check(self, options: Options) -> None:
        """Fail fast, before any download, on options this pipeline cannot honour."""
        self.recognizer.check_language(options.language)
        if options.diarize and self.diarizer is None:
            raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, "diarization is not loaded in this process")

    def transcribe_file(self, path: str | Path, options: Options,
                        progress: ProgressHook = no_progress,
                        voices: Sequence[Voiceprint] = ()) -> Result:
        self.check(options)
        started = time.perf_counter()
        progress(Stage.DECODE, 0.0)
        with self._decode_slots:
            audio = decode(path, max_duration=self.settings.max_duration)
        trim()
        progress(Stage.DECODE, 1.0)
        return self.transcribe(audio, options, progress, decode_seconds=time.perf_counter() - started,
                               voices=voices)

    def transcribe(self, audio: Audio, options: Options, progress: ProgressHook = no_progress,
                   *, decode_seconds: float = 0.0, voices: Sequence[Voiceprint] = ()) -> Result:
        """``voices``: known people; found speakers that match one are named (hearback.speakers)."""
        self.check(options)
        if audio.duration > self.settings.max_duration:
            raise HearbackError(ErrorCode.AUDIO_TOO_LONG,
                                f"the recording is longer than the maximum of {self.settings.max_duration:.0f} s")
        timings = {Stage.DECODE.value: round(decode_seconds, 3)}
        with self._lock:
            with _timed(timings, Stage.TRANSCRIBE):
                transcript = self.recognizer.transcribe(audio, self._asr_options(options), progress)
            trim()

            with _timed(timings, Stage.ALIGN):
                if options.word_timestamps:
                    transcript = self.aligner.align(transcript, audio, progress)

            diarization: Optional[Diarization] = None
            identities: tuple[SpeakerIdentity, ...] = ()
            speakers: tuple[str, ...] = ()
            segments = transcript.segments
            if options.diarize:
                with _timed(timings, Stage.DIARIZE):
                    diarization = self.diarizer.diarize(
                        audio, num_speakers=options.num_speakers, min_speakers=options.min_speakers,
                        max_speakers=options.max_speakers, progress=progress,
                    )
                with _timed(timings, Stage.ASSIGN):
                    segments, diarization, identities, speakers = attribute(transcript, diarization, voices)
                    progress(Stage.ASSIGN, 1.0)

        if not options.word_timestamps:
            segments = tuple(replace(s, words=()) for s in segments)
        return Result(
            segments=segments,
            language=transcript.language,
            language_probability=transcript.language_probability,
            duration=round(audio.duration, 3),
            speakers=speakers,
            diarization=diarization,
            timings=timings,
            warnings=audio.notices + transcript.notices,
            identities=identities,
        )

    def _asr_options(self, options: Options) -> AsrOptions:
        # Word timestamps are needed to give words their speakers even when the
        # caller does not want them in the output.
        return AsrOptions(
            language=options.language,
            word_timestamps=options.word_timestamps or options.diarize,
            initial_prompt=options.initial_prompt,
            beam_size=self.settings.beam_size,
            batch_size=self.settings.batch_size,
        )


@contextmanager
def _timed(timings: dict[str, float], stage: Stage) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[stage.value] = round(time.perf_counter() - started, 3)

