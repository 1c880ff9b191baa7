"""Speech recognition: faster-whisper's batched pipeline over Silero VAD chunks.

The only module that imports faster-whisper. Why faster-whisper's own
``BatchedInferencePipeline`` rather than WhisperX's: it gives word timestamps
itself (WhisperX's batched pipeline needs a wav2vec2 alignment model for them,
which cannot be had offline), it takes an in-memory array, and it measured as
fast on CPU (bench/RESULTS.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.tokenizer import _LANGUAGE_CODES

from .errors import ErrorCode, HearbackError
from .types import Audio, ProgressHook, Segment, Transcript, Word, no_progress

logger = logging.getLogger(__name__)

LANGUAGE_CODES = frozenset(_LANGUAGE_CODES)


@dataclass(frozen=True)
class AsrOptions:
    language: Optional[str] = None  # None = detect
    word_timestamps: bool = True
    initial_prompt: Optional[str] = None
    beam_size: int = 5
    batch_size: int = 8


class Recognizer:
    """A Whisper model loaded once and reused for every job."""

    def __init__(self, model_path: str, *, device: str, compute_type: str, cpu_threads: int):
        logger.info("loading Whisper from %s (%s, %s)", model_path, device, compute_type)
        self.model = WhisperModel(
            model_path, device=device, compute_type=compute_type, cpu_threads=cpu_threads
        )
        self.batched = BatchedInferencePipeline(self.model)

    @property
    def multilingual(self) -> bool:
        return self.model.model.is_multilingual

    def check_language(self, language: Optional[str]) -> None:
        """Raise ``unsupported_language`` for a code Whisper (or this model) does not know."""
        if language is None:
            return
        if language not in LANGUAGE_CODES:
            raise HearbackError(
                ErrorCode.UNSUPPORTED_LANGUAGE,
                f"unknown language {language!r}: use 'auto' or an ISO 639-1 code Whisper knows "
                "(en, fr, de, es, ...)",
            )
        if not self.multilingual and language != "en":
            raise HearbackError(
                ErrorCode.UNSUPPORTED_LANGUAGE,
                f"the loaded Whisper model is English-only; language {language!r} needs a "
                "multilingual model (e.g. WHISPER_MODEL=base)",
            )

    def transcribe(
        self, audio: Audio, options: AsrOptions, progress: ProgressHook = no_progress
    ) -> Transcript:
        self.check_language(options.language)
        language = options.language if self.multilingual else "en"
        segments, info = self.batched.transcribe(
            audio.samples,
            language=language,
            word_timestamps=options.word_timestamps,
            initial_prompt=options.initial_prompt,
            beam_size=options.beam_size,
            batch_size=options.batch_size,
            vad_filter=True,
        )
        out: list[Segment] = []
        duration = max(audio.duration, 1e-6)
        for seg in segments:  # a generator: decoding happens as we iterate
            out.append(_segment(seg, duration))
            progress("transcribe", min(seg.end / duration, 1.0))
        logger.info(
            "transcribed %d segments, language %s (p=%.2f)",
            len(out), info.language, info.language_probability,
        )
        return Transcript(tuple(out), info.language, info.language_probability)


def _segment(seg, duration: float) -> Segment:
    words = tuple(
        Word(
            word=w.word.strip(),
            start=round(min(w.start, duration), 3),
            end=round(min(max(w.end, w.start), duration), 3),
            probability=round(w.probability, 4),
        )
        for w in (seg.words or ())
        if w.word.strip()
    )
    start, end = seg.start, seg.end
    if words:  # keep every word inside its segment
        start, end = min(start, words[0].start), max(end, words[-1].end)
    return Segment(
        start=round(max(start, 0.0), 3),
        end=round(min(end, duration), 3),
        text=seg.text.strip(),
        words=words,
    )
