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

# Frames are gathered as int16 (half the memory of float32) and converted at the end into one
# float32 array, freeing each int16 chunk as it is copied: the peak stays at 1.5× the result.
_RESAMPLE_FORMAT = "s16"


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
        chunks = _decode_stream(container, max_duration)
    if not chunks:
        raise HearbackError(ErrorCode.INVALID_AUDIO, "the file holds no audio samples")
    audio = Audio(_to_float(chunks))
    logger.info("decoded %s: %.2f s", Path(path).name, audio.duration)
    return audio


def _decode_stream(container: av.container.InputContainer, max_duration: Optional[float]) -> list[np.ndarray]:
    stream = container.streams.audio[0]
    stream.thread_type = "AUTO"
    resampler = av.AudioResampler(format=_RESAMPLE_FORMAT, layout="mono", rate=SAMPLE_RATE)
    max_samples = int(max_duration * SAMPLE_RATE) if max_duration else None
    chunks: list[np.ndarray] = []
    total = 0
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                total += _append(chunks, out)
            if max_samples is not None and total > max_samples:
                raise HearbackError(
                    ErrorCode.AUDIO_TOO_LONG,
                    f"the recording is longer than the maximum of {max_duration:.0f} s",
                )
        for out in resampler.resample(None):  # flush
            total += _append(chunks, out)
    except av.error.FFmpegError as exc:
        if total == 0:
            raise HearbackError(
                ErrorCode.INVALID_AUDIO, f"the audio could not be decoded ({_reason(exc)})"
            ) from exc
        # A damaged tail (truncated upload): keep what decoded, and say so.
        logger.warning(
            "decoding stopped at %.2f s on a damaged stream (%s); transcribing what was decoded",
            total / SAMPLE_RATE, _reason(exc),
        )
    return chunks


def _append(chunks: list[np.ndarray], frame: av.AudioFrame) -> int:
    array = frame.to_ndarray().reshape(-1)
    if array.size:
        chunks.append(array)
    return array.size


def _to_float(chunks: list[np.ndarray]) -> np.ndarray:
    """int16 chunks → one float32 array in [-1, 1); empties ``chunks`` as it goes."""
    out = np.empty(sum(c.size for c in chunks), dtype=np.float32)
    chunks.reverse()
    position = 0
    while chunks:
        chunk = chunks.pop()
        np.multiply(chunk, 1 / 32768.0, out=out[position:position + chunk.size], casting="unsafe")
        position += chunk.size
    return out


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__
