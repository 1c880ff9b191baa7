"""faster-whisper's batched pipeline, telling where each decoded piece came from and, on request,
which language Whisper hears in it.

``BatchedInferencePipeline`` keeps its chunks (the ≤ 30 s pieces of speech it decodes) to
itself; :class:`ProbingPipeline` records each chunk's span, keyed by the ``seek`` every segment
carries, so a looping piece can be decoded again from the audio it came from. With ``probe``
on it also asks Whisper for each chunk's language on the encoder output the batch already
computed (one decoder step per chunk, no second encoding). :func:`detect_regions` does the same
for arbitrary speech regions, for recordings that turn out to switch language.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.audio import pad_or_trim

#: Regions whose language is asked for in one encoder batch.
DETECT_BATCH = 8


@dataclass(frozen=True)
class Chunk:
    """One piece of audio the batched pipeline decoded."""

    #: where it starts (s): in the call's time for clips, in speech-only time for VAD chunks
    #: (the speech regions end to end; ``asr.py`` maps it back)
    start: float
    #: where it ends (s), on the same time line
    end: float
    #: (language, probability), most likely first (empty when not probed)
    languages: tuple[tuple[str, float], ...] = ()


class ProbingPipeline(BatchedInferencePipeline):
    """``BatchedInferencePipeline`` that records its chunks (:attr:`chunks`, by seek)."""

    def __init__(self, model: WhisperModel):
        super().__init__(model)
        #: whether to ask for each chunk's language
        self.probe = False
        #: seek → chunk, for the current call (emptied by :meth:`begin`)
        self.chunks: dict[int, Chunk] = {}
        #: seconds spent asking for languages since :meth:`begin`
        self.probe_seconds = 0.0
        self._metadata: list[dict] = []

    def begin(self, probe: bool) -> None:
        """Forget the previous call's chunks; probe languages in the next call or not."""
        self.probe, self.chunks, self.probe_seconds = probe, {}, 0.0

    def forward(self, features, tokenizer, chunks_metadata, options):
        self._metadata = chunks_metadata
        return super().forward(features, tokenizer, chunks_metadata, options)

    def generate_segment_batched(self, features, tokenizer, options):
        encoder_output, output = super().generate_segment_batched(features, tokenizer, options)
        languages = [()] * len(self._metadata)
        if self.probe and self.model.model.is_multilingual:
            started = time.perf_counter()
            languages = [_parse(found) for found in self.model.model.detect_language(encoder_output)]
            self.probe_seconds += time.perf_counter() - started
        for meta, found in zip(self._metadata, languages):
            seek = int(meta["offset"] * self.model.frames_per_second)
            self.chunks[seek] = Chunk(meta["offset"], meta["offset"] + meta["duration"], found)
        return encoder_output, output


def detect_regions(model: WhisperModel, samples: np.ndarray, sample_rate: int,
                   regions: list[tuple[float, float]]) -> list[tuple[tuple[str, float], ...]]:
    """Whisper's language probabilities for each region (s) of ``samples``, most likely first."""
    out: list[tuple[tuple[str, float], ...]] = []
    for i in range(0, len(regions), DETECT_BATCH):
        features = np.stack([
            pad_or_trim(model.feature_extractor(samples[int(s * sample_rate):int(e * sample_rate)])[..., :-1])
            for s, e in regions[i:i + DETECT_BATCH]])
        out += [_parse(found) for found in model.model.detect_language(model.encode(features))]
    return out


def _parse(found) -> tuple[tuple[str, float], ...]:
    """CTranslate2's ``[("<|en|>", p), …]`` → ``(("en", p), …)``, the three most likely."""
    return tuple((token[2:-2], float(p)) for token, p in found[:3])
