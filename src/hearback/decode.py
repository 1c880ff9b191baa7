"""Decode any audio or video file PyAV (FFmpeg) can read to 16 kHz mono float32.

The only module that imports PyAV. Audio is decoded once per job and shared by
every later stage.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import av
import numpy as np

from .errors import ErrorCode, HearbackError
from .types import SAMPLE_RATE, Audio

logger = logging.getLogger(__name__)

# Frames are resampled to float32 and written straight into one array, sized from the
# container's duration when it has one (grown by half when it is missing or wrong), so the
# peak is the result itself rather than a list of frames plus their concatenation.
_RESAMPLE_FORMAT = "flt"
_INITIAL_SECONDS = 600.0


def decode(path: str | Path, *, max_duration: Optional[float] = None) -> Audio:
    """Decode ``path`` to 16 kHz mono.

    Raises ``invalid_audio`` when the file is not media, has no audio track or
    holds no samples, and ``audio_too_long`` as soon as the decoded audio passes
    ``max_duration`` seconds (whatever the container header claims).
    """
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise HearbackError(
            ErrorCode.INVALID_AUDIO, f"not a readable audio or video file ({_reason(exc)})"
        ) from exc
    with container:
        if not container.streams.audio:
            raise HearbackError(ErrorCode.INVALID_AUDIO, "the file has no audio track")
        samples = _decode_stream(container, max_duration)
    if samples.size == 0:
        raise HearbackError(ErrorCode.INVALID_AUDIO, "the file holds no audio samples")
    audio = Audio(samples)
    logger.info("decoded %s: %.2f s", Path(path).name, audio.duration)
    return audio


def _decode_stream(container: av.container.InputContainer, max_duration: Optional[float]) -> np.ndarray:
    stream = container.streams.audio[0]
    stream.thread_type = "AUTO"
    resampler = av.AudioResampler(format=_RESAMPLE_FORMAT, layout="mono", rate=SAMPLE_RATE)
    max_samples = int(max_duration * SAMPLE_RATE) if max_duration else None
    buffer = _Buffer(_expected_samples(container, max_samples))
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                buffer.append(out.to_ndarray().reshape(-1))
            if max_samples is not None and buffer.size > max_samples:
                raise HearbackError(
                    ErrorCode.AUDIO_TOO_LONG,
                    f"the recording is longer than the maximum of {max_duration:.0f} s",
                )
        for out in resampler.resample(None):  # flush
            buffer.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as exc:
        if buffer.size == 0:
            raise HearbackError(
                ErrorCode.INVALID_AUDIO, f"the audio could not be decoded ({_reason(exc)})"
            ) from exc
        # A damaged tail (truncated upload): keep what decoded, and say so.
        logger.warning(
            "decoding stopped at %.2f s on a damaged stream (%s); transcribing what was decoded",
            buffer.size / SAMPLE_RATE, _reason(exc),
        )
    return buffer.result()


def _expected_samples(container: av.container.InputContainer, cap: Optional[int]) -> int:
    """Samples the header promises (+1 s), never more than ``cap`` (+1 s): headers can lie."""
    seconds = container.duration / av.time_base if container.duration else _INITIAL_SECONDS
    expected = int((seconds + 1.0) * SAMPLE_RATE)
    return min(expected, cap + SAMPLE_RATE) if cap is not None else expected


class _Buffer:
    """A float32 array filled in place, grown by half when full."""

    def __init__(self, capacity: int):
        self.data = np.empty(max(capacity, SAMPLE_RATE), dtype=np.float32)
        self.size = 0

    def append(self, samples: np.ndarray) -> None:
        end = self.size + samples.size
        if end > self.data.size:
            grown = np.empty(max(end, int(self.data.size * 1.5)), dtype=np.float32)
            grown[:self.size] = self.data[:self.size]
            self.data = grown
        self.data[self.size:end] = samples
        self.size = end

    def result(self) -> np.ndarray:
        if self.data.size - self.size > SAMPLE_RATE * 60:  # much slack: copy to the exact size
            return self.data[:self.size].copy()
        return self.data[:self.size]


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__
