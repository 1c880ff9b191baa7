"""A finished job's audio kept for playback in the transcript editor (``GET /v1/jobs/{id}/audio``).

The upload itself is deleted when its job ends; what stays is a small copy for listening:
Opus in Ogg, mono, 32 kbit/s (about 12 MB per hour of recording), made by the ``ffmpeg``
command (the one program that encodes Opus here; decoding uses PyAV), which runs beside the
transcription so the job is not held up. It lives in the job's kept folder and goes with the job, or earlier when its own retention (``HEARBACK_AUDIO_RETENTION``)
is over: audio is personal data, kept no longer than it is useful. Keeping it is best effort:
a failure is logged and the job still succeeds, without playback audio.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

logger = logging.getLogger(__name__)

#: the file in a job's kept folder
AUDIO_FILE = "audio.ogg"
#: its media type
MEDIA_TYPE = "audio/ogg"
#: Opus bit rate: speech stays clear at this rate in mono
BITRATE = "32k"
#: how long ffmpeg may still run once the transcript is done: this many seconds, plus this share
#: of the recording's length (it runs beside transcription, which takes far longer; measured
#: 17 times real time on a loaded 2-core machine, bench/RESULTS.md)
BASE_TIMEOUT, TIMEOUT_PER_SECOND = 60.0, 0.25


class Transcode:
    """ffmpeg writing ``folder``/audio.ogg from ``source`` in the background, while the job is
    transcribed. Written under a temporary name, renamed when whole: the file is whole or absent."""

    def __init__(self, source: Path, folder: Path):
        self.folder, self.target = folder, folder / AUDIO_FILE
        self.partial = folder / f"{AUDIO_FILE}.part"
        self.errors = tempfile.TemporaryFile()  # ffmpeg's messages, for the log (gone when closed)
        command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
                   "-map", "0:a:0", "-vn", "-ac", "1", "-c:a", "libopus", "-b:a", BITRATE, "-f", "ogg",
                   str(self.partial)]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.process: Optional[subprocess.Popen] = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.errors)
        except OSError as exc:
            logger.warning("playback audio not kept for %s: %s", folder.name, exc)
            self.process = None

    def finish(self, duration: float) -> bool:
        """Wait for ffmpeg (at most the time limit for ``duration`` seconds of audio) and keep
        the file; False (logged, nothing left behind) on any failure."""
        if self.process is None:  # ffmpeg could not start (logged)
            self.stop()
            return False
        try:
            code = self.process.wait(timeout=BASE_TIMEOUT + TIMEOUT_PER_SECOND * duration)
            if code != 0:
                self.errors.seek(0)
                raise RuntimeError(self.errors.read().decode("utf-8", "replace").strip()[-500:] or f"exit {code}")
            self.partial.replace(self.target)
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            logger.warning("playback audio not kept for %s: %s", self.folder.name, exc)
            self.stop()
            return False
        logger.info("playback audio kept for %s: %d bytes", self.folder.name, self.target.stat().st_size)
        self.stop()
        return True

    def stop(self) -> None:
        """End ffmpeg if it still runs and remove a partial file (done, failed or cancelled)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.partial.unlink(missing_ok=True)
        self.errors.close()
        if not self.target.exists():
            try:
                self.folder.rmdir()  # nothing kept: no empty folder left either
            except OSError:
                pass  # not empty (something else is kept there) or already gone


@contextmanager
def copying(source: Path, folder: Optional[Path]) -> Iterator[Optional[Transcode]]:
    """A :class:`Transcode` of ``source`` into ``folder`` for the block (None when ``folder``
    is None: no copy kept); whatever happens in the block, ffmpeg is not left running."""
    copy = Transcode(source, folder) if folder is not None else None
    try:
        yield copy
    finally:
        if copy is not None:
            copy.stop()


def kept_audio(folder: Path) -> Optional[Path]:
    """The job's playback audio, None when none is kept."""
    path = folder / AUDIO_FILE
    return path if path.is_file() else None


def remove_partial(kept_root: Path) -> None:
    """Delete half-written playback audio (a process that died while transcoding)."""
    for path in kept_root.glob(f"*/{AUDIO_FILE}.part") if kept_root.is_dir() else ():
        path.unlink(missing_ok=True)


def remove_expired(kept_root: Path, older_than: float) -> int:
    """Delete playback audio written before ``older_than`` (seconds since the epoch) in every
    job's kept folder under ``kept_root``; how many were deleted. The jobs themselves stay."""
    removed = 0
    for path in kept_root.glob(f"*/{AUDIO_FILE}") if kept_root.is_dir() else ():
        try:
            if path.stat().st_mtime < older_than:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # its job was deleted meanwhile
    return removed
