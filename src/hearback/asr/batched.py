"""faster-whisper's batched pipeline, telling where each decoded piece came from and, on request,
which language Whisper hears in it.

``BatchedInferencePipeline`` keeps its chunks (the ≤ 30 s pieces of speech it decodes) to
itself; :class:`ProbingPipeline` records each chunk's span, keyed by the ``seek`` every segment
carries, so a looping piece can be decoded again from the audio it came from. With ``probe``
on it also asks Whisper for each chunk's language on the encoder output the batch already
computed (one decoder step per chunk, no second encoding). :func:`detect_regions` does the same
for arbitrary speech regions, for recordings that turn out to switch language.

:func:`speech_regions` finds the speech regions the pipeline's own VAD finds (the chunks' time
line); :func:`with_onsets` adds the starts of speech that VAD misses. Silero VAD carries its
state through the whole recording, and right after one voice stops (a pause of 0.3-0.5 s) it
can stay deaf to the next one for a second or more: in the bilingual benchmark file it heard
"many people don't think about them" only from "them" on, and dropped "however" before
"due to the slow…", both heard from their first word when the sentence is alone or has just
1 s of the recording before it (bench/RESULTS.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.vad import VadOptions, get_speech_timestamps

#: Regions whose language is asked for in one encoder batch.
DETECT_BATCH = 8
#: Whisper's input length (s): no VAD region is longer.
CLIP_SECONDS = 30.0
#: faster-whisper's batched VAD settings (``BatchedInferencePipeline.transcribe``).
VAD = VadOptions(max_speech_duration_s=CLIP_SECONDS, min_silence_duration_ms=160)
#: Pauses (s) at least this long are listened to again with fresh VAD state.
ONSET_GAP_SECONDS = 0.3
#: Audio (s) before such a pause the fresh VAD is given (a second of context, as a clip alone has).
ONSET_LEAD_SECONDS = 1.0
#: Speech found this much (s) before a region's start counts as a missed onset.
MIN_ONSET_SECONDS = 0.2


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


def speech_regions(samples: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """Speech regions (s), exactly those faster-whisper's batched pipeline finds (:data:`VAD`);
    its chunks are these regions end to end."""
    return [(s["start"] / sample_rate, s["end"] / sample_rate)
            for s in get_speech_timestamps(samples, VAD, sampling_rate=sample_rate)]


def vad_stamps(samples: np.ndarray, sample_rate: int) -> list[dict[str, int]]:
    """Silero VAD's speech stamps (sample offsets) with faster-whisper's default options: the
    speech of a voice reference (:func:`hearback.speakers.voiceprint.speech_only`)."""
    return get_speech_timestamps(samples, sampling_rate=sample_rate)


def with_onsets(samples: np.ndarray, sample_rate: int,
                regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``regions`` plus, before each region that follows a pause of ONSET_GAP_SECONDS or more,
    the speech fresh VAD state finds in that pause (VAD run again from ONSET_LEAD_SECONDS
    before the pause to the region's end), as a region of its own. Costs about one more VAD
    pass over the speech."""
    out: list[tuple[float, float]] = []
    previous = 0.0
    for index, (start, end) in enumerate(regions):
        if index and start - previous >= ONSET_GAP_SECONDS:
            onset = _onset(samples, sample_rate, previous, start, end)
            if onset is not None:
                out.append((onset, start))
        out.append((start, end))
        previous = end
    return out


def _onset(samples: np.ndarray, sample_rate: int, pause: float, start: float, end: float):
    """Where fresh VAD hears speech begin in the pause ``pause``-``start`` (s) before the region
    ``start``-``end``, if at least MIN_ONSET_SECONDS before ``start``; else None."""
    lead = max(pause - ONSET_LEAD_SECONDS, 0.0)
    found = speech_regions(samples[int(lead * sample_rate):int(end * sample_rate)], sample_rate)
    # speech found running through the pause is the previous voice going on, speech that ends
    # before the region is not its onset
    starts = [a + lead for a, b in found
              if pause - 0.05 <= a + lead < start - MIN_ONSET_SECONDS and b + lead >= start - ONSET_GAP_SECONDS]
    return max(min(starts), pause) if starts else None
