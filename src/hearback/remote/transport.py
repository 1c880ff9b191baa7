"""How a recording reaches the worker, the first way that works, in this order:

1. ``inline``: the file itself as ``audio_base64``, when the whole ``/run`` body fits
   ``RUNPOD_MAX_PAYLOAD`` (RunPod: 10 MB). The audio travels inside the request to RunPod and
   the worker; RunPod keeps a job's input while it exists (its TTL, 24 h by default).
2. ``served``: a signed, expiring URL of this job's file on ``hearback serve`` itself
   (``HEARBACK_PUBLIC_URL``; ``hearback.remote.signed``), the original bytes: the audio goes only
   to the worker that fetches it; the URL opens nothing else and expires after ``AUDIO_URL_EXPIRY``.
3. ``bucket``: the file uploaded to the S3-compatible bucket ``S3_BUCKET`` under a random key, a
   presigned GET URL (``AUDIO_URL_EXPIRY``), the object deleted when the job ends: the audio sits
   with the bucket's provider while the job runs.
4. ``compact``: Opus in Ogg, mono 16 kHz at 24 kbit/s (about 10.8 MB per hour, ≈ 45 minutes fit
   a 10 MB request), inline: lossy, so the worker hears slightly other audio than the original
   (and a transcript may differ in places from the local backend's); where the audio goes: as
   ``inline``. Only when no URL way is configured.

Nothing fits: ``no_audio_transport``, naming the settings that would.
"""

from __future__ import annotations

import base64
import logging
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

from ..errors import ErrorCode, HearbackError
from ..runtime.tempdirs import job_tempdir

logger = logging.getLogger(__name__)

INLINE, SERVED, BUCKET, COMPACT = "inline", "served", "bucket", "compact"
#: the compact format's ffmpeg arguments (Opus speech mode, mono, Whisper's 16 kHz)
COMPACT_ARGS = ("-vn", "-ac", "1", "-ar", "16000", "-c:a", "libopus", "-b:a", "24k",
                "-application", "voip", "-f", "ogg")


@dataclass(frozen=True)
class Staged:
    """The recording on its way: the input fields that carry it, and what to remove afterwards."""

    kind: str
    #: ``{"audio_base64": …}`` or ``{"audio_url": …}``
    fields: dict = field(repr=False)
    #: bytes the worker receives
    size: int
    #: the bucket object to delete when the job ends (``bucket`` only)
    key: Optional[str] = None


def b64_size(size: int) -> int:
    return 4 * ((size + 2) // 3)


def _inline(path: Path, kind: str) -> Staged:
    data = path.read_bytes()
    return Staged(kind, {"audio_base64": base64.b64encode(data).decode("ascii")}, len(data))


@contextmanager
def staged(path: Path, room: int, *, served: Optional[Callable[[], str]] = None,
           bucket=None) -> Iterator[Staged]:
    """The recording at ``path`` staged for one ``/run`` whose body has ``room`` bytes left for
    the audio's field. ``served`` makes this server's signed URL for the job (None: not
    reachable from the internet); ``bucket`` a :class:`~hearback.remote.s3.Bucket` (None: no
    bucket). The bucket object is *not* deleted when the block ends: the job may outlive this
    process; the caller deletes ``key`` when the job ends."""
    size = path.stat().st_size
    if b64_size(size) <= room:
        yield _inline(path, INLINE)
    elif served is not None:
        yield Staged(SERVED, {"audio_url": served()}, size)
    elif bucket is not None:
        key = bucket.put(path)
        yield Staged(BUCKET, {"audio_url": bucket.url(key)}, size, key)
    else:
        with job_tempdir() as folder:
            compact = _compact(path, folder / "audio.ogg")
            if b64_size(compact.stat().st_size) > room:
                raise HearbackError(ErrorCode.NO_AUDIO_TRANSPORT,
                                    f"the recording ({size / 1e6:.1f} MB, {compact.stat().st_size / 1e6:.1f} MB "
                                    "as compact Opus) does not fit one RunPod request: set HEARBACK_PUBLIC_URL "
                                    "(served by this server) or S3_BUCKET (an S3-compatible bucket)")
            yield _inline(compact, COMPACT)


def _compact(source: Path, target: Path) -> Path:
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
               *COMPACT_ARGS, str(target)]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=3600)
    except (OSError, subprocess.SubprocessError) as exc:
        raise HearbackError(ErrorCode.INVALID_AUDIO, f"could not transcode the recording ({type(exc).__name__})") from None
    if done.returncode != 0 or not target.is_file():
        logger.warning("compact transcode failed: %s", done.stderr.decode("utf-8", "replace")[-500:])
        raise HearbackError(ErrorCode.INVALID_AUDIO, "the recording could not be transcoded: not a media file?")
    logger.info("recording transcoded to compact Opus: %d -> %d bytes", source.stat().st_size, target.stat().st_size)
    return target
