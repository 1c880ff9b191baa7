"""Bring a job's audio to a local temporary file, and always remove it afterwards.

``audio_url`` is fetched with runpod-python's SSRF-safe client (``rp_ssrf``):
http/https only, the host must resolve to public addresses only, the connection
is pinned to the checked address, every redirect is checked again, and the body
is capped (Content-Length first, then counted while streaming). On top of that:
connect/read timeouts and a total deadline. Local paths and ``file://`` URLs are
refused unless ``ALLOW_LOCAL_FILES`` is set (development only).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import unquote, urlparse

import requests
from runpod.serverless.utils import rp_ssrf

from .errors import ErrorCode, HearbackError
from .settings import Settings

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16
TEMP_PREFIX = "hearback-"


@contextmanager
def job_tempdir() -> Iterator[Path]:
    """A private temporary directory removed on every path out."""
    path = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def fetched_audio(settings: Settings, *, url: Optional[str] = None,
                  data_base64: Optional[str] = None) -> Iterator[Path]:
    """Yield a local path holding the job's audio; every temporary file goes afterwards."""
    if url is None and data_base64 is None:
        raise HearbackError(ErrorCode.MISSING_AUDIO, "give audio_url or audio_base64")
    if url is not None and data_base64 is not None:
        raise HearbackError(ErrorCode.INVALID_INPUT, "give audio_url or audio_base64, not both")
    if url is not None and not url.strip():
        raise HearbackError(ErrorCode.INVALID_URL, "audio_url is empty")
    local = _local_path(url, settings) if url is not None else None
    if local is not None:
        yield local  # a user's own file: never deleted
        return
    with job_tempdir() as tmp:
        target = tmp / "audio"
        if url is not None:
            _download(url, target, settings)
        else:
            _write_base64(data_base64, target, settings)
        yield target


def _local_path(url: str, settings: Settings) -> Optional[Path]:
    """The path for a local-file URL, None for a remote URL; refused unless allowed."""
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        return None
    if parsed.scheme not in ("", "file") and not (len(parsed.scheme) == 1 and os.name == "nt"):
        raise HearbackError(ErrorCode.INVALID_URL,
                            f"unsupported URL scheme {parsed.scheme!r}: use http or https")
    if not settings.allow_local_files:
        raise HearbackError(ErrorCode.INVALID_URL,
                            "audio_url must be an http or https URL (local files are a development "
                            "setting: ALLOW_LOCAL_FILES=1)")
    path = Path(unquote(parsed.path) if parsed.scheme == "file" else url).expanduser()
    if not path.is_file():
        raise HearbackError(ErrorCode.INVALID_URL, f"no such file: {path}")
    return path


def _download(url: str, target: Path, settings: Settings) -> None:
    started = time.monotonic()
    timeout = (settings.download_connect_timeout, settings.download_read_timeout)
    cap = settings.max_download_bytes
    try:
        response = rp_ssrf.safe_get(url, stream=True, timeout=timeout, max_bytes=cap)
    except rp_ssrf.SSRFError as exc:
        raise _ssrf_error(exc, url) from exc
    except requests.RequestException as exc:
        raise HearbackError(ErrorCode.DOWNLOAD_FAILED,
                            f"could not fetch audio_url ({type(exc).__name__})") from exc
    with response:
        if response.status_code >= 400:
            raise HearbackError(ErrorCode.DOWNLOAD_FAILED,
                                f"audio_url answered HTTP {response.status_code}")
        try:
            with target.open("wb") as out:
                for chunk in rp_ssrf.iter_content_capped(response, _CHUNK, cap):
                    out.write(chunk)
                    if time.monotonic() - started > settings.download_deadline:
                        raise HearbackError(
                            ErrorCode.DOWNLOAD_FAILED,
                            f"download took longer than {settings.download_deadline:.0f} s")
        except rp_ssrf.SSRFError as exc:
            raise _ssrf_error(exc, url) from exc
        except requests.RequestException as exc:
            raise HearbackError(ErrorCode.DOWNLOAD_FAILED,
                                f"download of audio_url failed ({type(exc).__name__})") from exc
    logger.info("downloaded %d bytes in %.1f s", target.stat().st_size, time.monotonic() - started)


def _ssrf_error(exc: rp_ssrf.SSRFError, url: str) -> HearbackError:
    text = str(exc)
    if "size cap" in text:
        return HearbackError(ErrorCode.AUDIO_TOO_LARGE, f"audio_url is larger than the cap ({text})")
    if text.startswith("could not resolve"):
        return HearbackError(ErrorCode.DOWNLOAD_FAILED, "could not resolve the host of audio_url")
    return HearbackError(ErrorCode.INVALID_URL, f"audio_url refused: {text}")


def _write_base64(data: str, target: Path, settings: Settings) -> None:
    if data.startswith("data:") and "," in data:  # a data URI: data:audio/wav;base64,....
        data = data.split(",", 1)[1]
    data = "".join(data.split())
    if len(data) * 3 // 4 > settings.max_download_bytes:
        raise HearbackError(ErrorCode.AUDIO_TOO_LARGE,
                            f"audio_base64 is larger than the cap of {settings.max_download_bytes} bytes")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HearbackError(ErrorCode.INVALID_BASE64, "audio_base64 is not valid base64") from exc
    if not raw:
        raise HearbackError(ErrorCode.INVALID_AUDIO, "audio_base64 decodes to an empty file")
    target.write_bytes(raw)
