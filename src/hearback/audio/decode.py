"""Decode any audio or video file PyAV (FFmpeg) can read to 16 kHz mono float32.

The only module that imports PyAV. Audio is decoded once per job and shared by every later
stage. Damage does not cost the rest of the recording: the stream is demuxed packet by packet,
a packet that fails to decode is skipped, and a stretch the decoder could not give back is
filled with silence (placed from the packets' timestamps, so everything after it keeps its
true time) and reported as an ``audio_damaged`` notice. Decoding is refused up front when the
container declares more than the maximum duration, and stopped as soon as the decoded audio
passes it, whatever the header claims; memory never holds more than that maximum's samples
plus one block. Frames that follow on are resampled in runs of up to 10 s, and each frame's time
is read as a float: on a 30-minute Opus file, per-frame resampling and a ``Fraction`` per
timestamp had cost more than the codec itself (bench/RESULTS.md, issue 26).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import av
import numpy as np

from ..errors import ErrorCode, HearbackError
from ..types import SAMPLE_RATE, Audio, Notice

logger = logging.getLogger(__name__)

_RESAMPLE_FORMAT = "flt"
#: samples per block of the growing buffer (10 min, 38.4 MB): the peak is the audio plus one
#: block, and a block is over glibc's largest mmap threshold (32 MiB), so each is a mapping of
#: its own that goes back to the system when freed (no heap left fragmented between decodes)
_BLOCK = 600 * SAMPLE_RATE
#: a jump in timestamps shorter than this is jitter, not lost audio (seconds)
_GAP_TOLERANCE = 0.05
#: damaged stretches closer than this are reported as one (seconds)
_MERGE_WITHIN = 0.5
#: more than this share of the timeline lost and the file is refused as ``invalid_audio``
_MAX_DAMAGED_SHARE = 0.5
#: the first step (bytes) skipped past a stretch the demuxer cannot read
_SKIP_STEP = 4096
#: the code of the notice that reports skipped stretches (SPECS.md, "Warnings")
DAMAGED = "audio_damaged"


def decode(path: str | Path, *, max_duration: Optional[float] = None) -> Audio:
    """Decode ``path`` to 16 kHz mono.

    Raises ``invalid_audio`` when the file is not media, has no audio track, holds no samples
    or is mostly damaged, and ``audio_too_long`` when the container declares more than
    ``max_duration`` seconds or the decoded audio passes it. Messages never name the file.
    """
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        logger.info("cannot open %s: %s", path, exc)
        raise HearbackError(
            ErrorCode.INVALID_AUDIO, f"not a readable audio or video file ({_reason(exc)})"
        ) from exc
    with container:
        if not container.streams.audio:
            raise HearbackError(ErrorCode.INVALID_AUDIO, "the file has no audio track")
        _refuse_declared_length(container, max_duration)
        samples, damaged, decoded = _decode_stream(container, max_duration)
    _refuse_mostly_damaged(samples.size, decoded)
    audio = Audio(samples, notices=tuple(_notice(start, end) for start, end in damaged))
    logger.info("decoded %s: %.2f s, %d damaged stretch(es)", Path(path).name, audio.duration,
                len(damaged))
    return audio


def _refuse_declared_length(container: av.container.InputContainer,
                            max_duration: Optional[float]) -> None:
    """``audio_too_long`` before any decoding when the container declares too much."""
    stream = container.streams.audio[0]
    declared = [container.duration / av.time_base if container.duration else 0.0]
    if stream.duration and stream.time_base:
        declared.append(float(stream.duration * stream.time_base))
    if max_duration is not None and max(declared) > max_duration:
        raise HearbackError(
            ErrorCode.AUDIO_TOO_LONG,
            f"the recording declares {max(declared):.0f} s, over the maximum of {max_duration:.0f} s")


def _refuse_mostly_damaged(total: int, decoded: int) -> None:
    if decoded == 0:
        raise HearbackError(ErrorCode.INVALID_AUDIO, "the file holds no decodable audio samples")
    if decoded < total * (1 - _MAX_DAMAGED_SHARE):
        raise HearbackError(
            ErrorCode.INVALID_AUDIO,
            f"the file is mostly damaged: only {decoded / SAMPLE_RATE:.1f} s of "
            f"{total / SAMPLE_RATE:.1f} s could be decoded")


def _notice(start: float, end: float) -> Notice:
    return Notice(DAMAGED, f"damaged audio from {start:.2f} s to {end:.2f} s was skipped "
                           "(silence in its place)", round(start, 3), round(end, 3))


@dataclass(frozen=True)
class _Frame:
    """A decoded frame's place on the recording's timeline."""

    start: Optional[float]  # seconds from the stream's start; None when it has no timestamp
    samples: np.ndarray  # 16 kHz mono float32


def _decode_stream(container: av.container.InputContainer,
                   max_duration: Optional[float]) -> tuple[np.ndarray, list[tuple[float, float]], int]:
    """The samples, the damaged stretches (start, end) and how many samples really decoded."""
    max_samples = int(max_duration * SAMPLE_RATE) if max_duration else None
    buffer = _Blocks()
    gaps: list[tuple[float, float]] = []
    decoded = 0
    for frame in _frames(container):
        if frame.start is not None:
            missing = int(round(frame.start * SAMPLE_RATE)) - buffer.size
            if missing > _GAP_TOLERANCE * SAMPLE_RATE:
                _check_length(buffer.size + missing, max_samples, max_duration)
                gaps.append((buffer.size / SAMPLE_RATE, (buffer.size + missing) / SAMPLE_RATE))
                buffer.append_silence(missing)
        buffer.append(frame.samples)
        decoded += frame.samples.size
        _check_length(buffer.size, max_samples, max_duration)
    return buffer.result(), _merged(gaps), decoded


def _check_length(samples: int, max_samples: Optional[int], max_duration: Optional[float]) -> None:
    if max_samples is not None and samples > max_samples:
        raise HearbackError(ErrorCode.AUDIO_TOO_LONG,
                            f"the recording is longer than the maximum of {max_duration:.0f} s")


def _frames(container: av.container.InputContainer) -> Iterator[_Frame]:
    """Every frame that decodes, resampled, with its start time; bad packets are skipped.
    Frames that follow on without a gap are resampled together, up to :data:`_RUN_SECONDS` at
    a time (an Opus frame is 20 ms: resampling them one by one cost more than decoding them)."""
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format=_RESAMPLE_FORMAT, layout="mono", rate=SAMPLE_RATE)
    clock = _Clock(container, stream)
    run = _Run()
    errors = 0
    for packet in _packets(container, stream):
        clock.see(packet)
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            errors += 1
            clock.lost(packet)
            logger.debug("skipped a damaged packet at pts %s: %s", packet.pts, exc)
            continue
        for frame in frames:
            start = clock.start(frame)
            if not run.add(frame, start):  # a gap, another format, or the run is full
                yield from run.resampled(resampler)
                run.add(frame, start)
    yield from run.resampled(resampler)
    for out in _resample(resampler, None):  # flush
        yield _Frame(None, out)
    if errors:
        logger.warning("skipped %d damaged packet(s)", errors)


#: Longest run of decoded audio (s) resampled in one call.
_RUN_SECONDS = 10.0


class _Run:
    """Decoded frames that follow on from each other (one format, no gap in their
    timestamps), gathered to be resampled in one call."""

    def __init__(self):
        self.fifo: Optional[av.AudioFifo] = None
        self.start: Optional[float] = None  # the first frame's start (s), if it has one
        self.end: Optional[float] = None  # where the run ends (s), when known
        self.limit = 0  # samples (at the input rate) the run may hold

    def add(self, frame, start: Optional[float]) -> bool:
        """Add ``frame`` (starting at ``start``); False, adding nothing, when it does not follow
        on from the run (a gap in time, another sample format, layout or rate) or the run is full."""
        frame.pts = None  # the run keeps time itself; the fifo would insist on contiguous pts
        if self.fifo is None:
            self.fifo, self.start, self.end = av.AudioFifo(), start, start
            self.limit = int(_RUN_SECONDS * frame.sample_rate)
        elif self.fifo.samples >= self.limit or (
                start is not None and self.end is not None and abs(start - self.end) > _GAP_TOLERANCE):
            return False
        try:
            self.fifo.write(frame)
        except ValueError:  # pyav: a frame of another format, layout or rate than the fifo's
            return False
        self.end = (start if start is not None else self.end)
        if self.end is not None:
            self.end += frame.samples / frame.sample_rate
        return True

    def resampled(self, resampler: av.AudioResampler) -> Iterator[_Frame]:
        """The run resampled (its start on the first piece), and the run emptied."""
        if self.fifo is None:
            return
        fifo, start = self.fifo, self.start
        self.fifo = self.start = self.end = None
        for out in _resample(resampler, fifo.read()):
            yield _Frame(start, out)
            start = None  # the resampler's further output follows on


#: demuxers that number packets by counting them: skipped bytes leave no gap in their
#: timestamps, so bytes (at the stream's bit rate) say how much time was lost
_COUNTING_DEMUXERS = frozenset({"mp3", "mp2", "aac", "ac3", "eac3"})


class _Clock:
    """Frame start times from timestamps, plus the time counting demuxers silently skip."""

    def __init__(self, container: av.container.InputContainer, stream):
        # seconds; frames carry their stream's time base (``frame.time`` is pts × time base)
        self.origin: Optional[float] = (float(stream.start_time * stream.time_base)
                                        if stream.start_time is not None and stream.time_base else None)
        rate = stream.codec_context.bit_rate or container.bit_rate or 0
        names = set((container.format.name or "").split(","))
        self.byte_rate = rate / 8 if rate and names & _COUNTING_DEMUXERS else 0.0
        self.shift = 0.0  # seconds the timestamps miss so far
        self.next_pos: Optional[int] = None

    def see(self, packet: av.Packet) -> None:
        if self.byte_rate and packet.pos is not None and packet.pos >= 0:
            if self.next_pos is not None and packet.pos > self.next_pos:
                self.shift += (packet.pos - self.next_pos) / self.byte_rate
            self.next_pos = packet.pos + packet.size

    def lost(self, packet: av.Packet) -> None:
        """A packet that failed: with counting demuxers its bytes may hold several frames."""
        if self.byte_rate and packet.duration and packet.time_base:
            claimed = float(packet.duration * packet.time_base)
            self.shift += max(0.0, packet.size / self.byte_rate - claimed)

    def start(self, frame) -> Optional[float]:
        time = frame.time  # a float (a Fraction per frame cost more than the resampling)
        if time is None:
            return None
        if self.origin is None:
            self.origin = time
        return time - self.origin + self.shift


def _packets(container: av.container.InputContainer, stream) -> Iterator[av.Packet]:
    """The stream's packets. Where the container is too damaged to demux, skip ahead (by
    bytes, doubling the step) to where it can be read again, up to the end of the file."""
    size = container.size if getattr(container, "size", 0) else 0
    last_pos, step = 0, _SKIP_STEP
    while True:
        try:
            for packet in container.demux(stream):
                if packet.size:  # the demuxer's final empty packet flushes the decoder
                    if packet.pos is not None and packet.pos >= 0:
                        last_pos, step = packet.pos, _SKIP_STEP
                    yield packet
            return
        except av.error.FFmpegError as exc:
            logger.warning("demuxing failed on a damaged container near byte %d: %s", last_pos, exc)
        last_pos += step
        step *= 2
        if size and last_pos >= size:
            return
        try:
            container.seek(last_pos, unsupported_byte_offset=True, stream=stream)
        except av.error.FFmpegError:
            return


def _resample(resampler: av.AudioResampler, frame) -> Iterator[np.ndarray]:
    try:
        outputs = resampler.resample(frame)
    except av.error.FFmpegError as exc:  # a frame whose layout changed mid-stream
        logger.debug("could not resample a frame: %s", exc)
        return
    for out in outputs:
        yield out.to_ndarray().reshape(-1)


class _Blocks:
    """Samples in fixed blocks, joined once at the end: the peak is the audio plus one block."""

    def __init__(self):
        self.blocks: list[np.ndarray] = []
        self.size = 0

    def append(self, samples: np.ndarray) -> None:
        for at, done, take in self._spans(samples.size):
            self.blocks[-1][at:at + take] = samples[done:done + take]

    def append_silence(self, count: int) -> None:
        """``count`` zeros, written in place (a long gap allocates nothing extra)."""
        for at, _done, take in self._spans(count):
            self.blocks[-1][at:at + take] = 0.0

    def _spans(self, count: int) -> Iterator[tuple[int, int, int]]:
        """(offset in the last block, offset in the input, length) for ``count`` new samples,
        adding blocks as they fill."""
        done = 0
        while done < count:
            if not self.blocks or self.size % _BLOCK == 0:
                self.blocks.append(np.empty(_BLOCK, dtype=np.float32))
            at = self.size % _BLOCK
            take = min(_BLOCK - at, count - done)
            yield at, done, take
            self.size += take
            done += take

    def result(self) -> np.ndarray:
        out = np.empty(self.size, dtype=np.float32)
        at = 0
        while self.blocks:
            block = self.blocks.pop(0)  # freed as soon as it is copied
            take = min(_BLOCK, self.size - at)
            out[at:at + take] = block[:take]
            at += take
        return out


def _merged(ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(ranges):
        if merged and start - merged[-1][1] <= _MERGE_WITHIN:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _reason(exc: BaseException) -> str:
    """FFmpeg's reason without the file name it quotes (no server path reaches a caller)."""
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
