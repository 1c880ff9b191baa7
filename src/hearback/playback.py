"""A finished job's audio kept for playback in the transcript editor (``GET /v1/jobs/{id}/audio``).

The upload itself is deleted when its job ends; what stays is a small copy for listening:
Opus in Ogg, mono, 32 kbit/s (about 14 MB per hour of recording), made by the ``ffmpeg``
command (the one program that encodes Opus here; decoding uses PyAV). It lives in the job's kept
folder and goes with the job, or earlier when its own retention (``HEARBACK_AUDIO_RETENTION``)
is over: audio is personal data, kept no longer than it is useful. Keeping it is best effort:
a failure is logged and the job still succeeds, without playback audio.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

logger = logging.getLogger(__name__)

#: the file in a job's kept folder
AUDIO_FILE = "audio.ogg"
#: its media type
MEDIA_TYPE = "audio/ogg"
#: Opus bit rate: speech stays clear at this rate in mono
BITRATE = "32k"
#: ffmpeg's time limit: this many seconds, plus this share of the recording's length (ffmpeg
#: encodes speech to Opus at well over 100 times real time on one core)
BASE_TIMEOUT, TIMEOUT_PER_SECOND = 60.0, 0.25


def keep_audio(source: Path, folder: Path, duration: float) -> bool:
    """Transcode ``source`` into ``folder``/audio.ogg; False (logged, nothing left behind) on
    any failure. Written under a temporary name first, so the file is whole or absent."""
    target = folder / AUDIO_FILE
    partial = folder / (AUDIO_FILE + ".part")
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
               "-map", "0:a:0", "-vn", "-ac", "1", "-c:a", "libopus", "-b:a", BITRATE, "-f", "ogg",
               str(partial)]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(command, capture_output=True, timeout=BASE_TIMEOUT + TIMEOUT_PER_SECOND * duration,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode("utf-8", "replace").strip()[-500:] or f"exit {done.returncode}")
        partial.replace(target)
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        logger.warning("playback audio not kept for %s: %s", folder.name, exc)
        partial.unlink(missing_ok=True)
        return False
    logger.info("playback audio kept for %s: %d bytes", folder.name, target.stat().st_size)
    return True


def kept_audio(folder: Path) -> Path | None:
    """The job's playback audio, None when none is kept."""
    path = folder / AUDIO_FILE
    return path if path.is_file() else None


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
