"""Bring a job's audio to a local temporary file, and always remove it afterwards.

``audio_url`` is fetched with runpod-python's SSRF-safe client (``rp_ssrf``):
http/https only, the host must resolve to public addresses only, the connection
is pinned to the checked address, every redirect is checked again, and the body
is capped (Content-Length first, then counted while streaming). On top of that:
connect/read timeouts and a total deadline that holds to the second however slowly a
server sends (the transfer runs on its own thread; at the deadline its socket is shut).
Local paths and ``file://`` URLs are refused unless ``ALLOW_LOCAL_FILES`` is set
(development only).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional
from urllib.parse import unquote, urlparse

import requests
from runpod.serverless.utils import rp_ssrf

from ..errors import Cancelled, ErrorCode, HearbackError
from ..runtime.tempdirs import job_tempdir
from ..settings import Settings
from ..types import ProgressHook, Stage, no_progress

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16
_POLL = 0.2  # seconds between the job thread's checks of the deadline and of a cancel


def check_url(url: str) -> None:
    """``invalid_url`` for a URL no client could fetch: malformed, a port out of range, a host
    name no DNS can hold. Cheap and offline: the SSRF checks come when it is fetched."""
    if not url.strip():
        raise HearbackError(ErrorCode.INVALID_URL, "audio_url is empty")
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 - raises ValueError when out of range or not a number
        host = parsed.hostname
        if parsed.scheme in ("http", "https"):
            if not host:
                raise ValueError("no host")
            host.encode("idna")  # a label over 63 characters, an empty label, ...
            if len(host) > 253:
                raise ValueError("host name too long")
    except (ValueError, UnicodeError) as exc:
        raise HearbackError(ErrorCode.INVALID_URL, f"audio_url is not a valid URL ({exc})") from exc


def check_source(url: str, settings: Settings) -> None:
    """:func:`check_url` and the scheme rules of :func:`fetched_audio` (http or https; a local
    file only with ALLOW_LOCAL_FILES), at once: a job is refused before it is accepted."""
    check_url(url)
    _local_path(url, settings)


@contextmanager
def fetched_audio(settings: Settings, *, url: Optional[str] = None,
                  data_base64: Optional[str] = None, progress: ProgressHook = no_progress,
                  cancelled: Optional[threading.Event] = None) -> Iterator[Path]:
    """Yield a local path holding the job's audio; every temporary file goes afterwards.
    ``cancelled`` set while downloading ends it at once with :class:`Cancelled`."""
    if url is None and data_base64 is None:
        raise HearbackError(ErrorCode.MISSING_AUDIO, "give audio_url or audio_base64")
    if url is not None and data_base64 is not None:
        raise HearbackError(ErrorCode.INVALID_INPUT, "give audio_url or audio_base64, not both")
    if url is not None:
        check_url(url)
    local = _local_path(url, settings) if url is not None else None
    if local is not None:
        yield local  # a user's own file: never deleted
        return
    with job_tempdir() as tmp:
        target = tmp / "audio"
        if url is not None:
            progress(Stage.DOWNLOAD, 0.0)
            _Transfer(url, target, settings, progress).run(cancelled or threading.Event())
            progress(Stage.DOWNLOAD, 1.0)
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


class _Transfer:
    """One download on a thread of its own, so the job's thread can hold the deadline (and a
    cancel) to the second however slowly the server sends: at the deadline the socket is shut,
    which ends the transfer thread's read at once."""

    def __init__(self, url: str, target: Path, settings: Settings, progress: ProgressHook):
        self.url, self.target, self.settings, self.progress = url, target, settings, progress
        self.done = threading.Event()
        self.stopped = False  # set by the job's thread: the transfer must not go on
        self.response: Optional[requests.Response] = None
        self.error: Optional[BaseException] = None

    def run(self, cancelled: threading.Event) -> None:
        """Download, or raise: ``download_failed`` at the deadline, :class:`Cancelled` on cancel."""
        started = time.monotonic()
        deadline = started + self.settings.download_deadline
        threading.Thread(target=self._transfer, name="hearback-download", daemon=True).start()
        while not self.done.wait(min(_POLL, max(deadline - time.monotonic(), 0.0))):
            if cancelled.is_set():
                self._stop()
                raise Cancelled("the job was deleted while its audio downloaded")
            if time.monotonic() >= deadline:
                self._stop()
                raise HearbackError(ErrorCode.DOWNLOAD_FAILED,
                                    f"download took longer than {self.settings.download_deadline:.0f} s")
        if self.error is not None:
            raise self.error
        logger.info("downloaded %d bytes in %.1f s", self.target.stat().st_size,
                    time.monotonic() - started)

    def _transfer(self) -> None:
        try:
            self._fetch()
        except BaseException as exc:  # handed to the job's thread
            self.error = exc
        finally:
            if self.response is not None:
                self.response.close()
            self.done.set()

    def _fetch(self) -> None:
        timeout = (self.settings.download_connect_timeout, self.settings.download_read_timeout)
        cap = self.settings.max_download_bytes
        try:
            self.response = rp_ssrf.safe_get(self.url, stream=True, timeout=timeout, max_bytes=cap)
            if self.stopped:
                return
            if self.response.status_code >= 400:
                raise HearbackError(ErrorCode.DOWNLOAD_FAILED,
                                    f"audio_url answered HTTP {self.response.status_code}")
            self._write(self.response, cap)
        except rp_ssrf.SSRFError as exc:
            raise _ssrf_error(exc, self.url) from exc
        except (ValueError, UnicodeError) as exc:  # a malformed redirect Location
            raise HearbackError(ErrorCode.INVALID_URL, "audio_url redirects to an invalid URL") from exc
        except (requests.RequestException, OSError) as exc:
            raise HearbackError(ErrorCode.DOWNLOAD_FAILED,
                                f"could not fetch audio_url ({type(exc).__name__})") from exc

    def _write(self, response: requests.Response, cap: int) -> None:
        expected = int(response.headers.get("Content-Length") or 0)
        written = 0
        with self.target.open("wb") as out:
            for chunk in rp_ssrf.iter_content_capped(response, _CHUNK, cap):
                if self.stopped:
                    return
                out.write(chunk)
                written += len(chunk)
                if expected:
                    self.progress(Stage.DOWNLOAD, min(written / expected, 1.0))

    def _stop(self) -> None:
        """Stop the transfer thread: shut its socket so a blocked read returns now."""
        self.stopped = True
        response = self.response
        sock = getattr(getattr(getattr(response, "raw", None), "_connection", None), "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.done.wait(_POLL)


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
