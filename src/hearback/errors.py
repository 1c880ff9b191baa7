"""Errors with stable codes: the one list, with each code's HTTP status.

Every failure a user can cause or meet raises :class:`HearbackError` with one of
the codes below. ``str(error)`` is ``"<code>: <message>"`` so the code survives
transports that keep only the error string (runpod's local API server does).
SPECS.md lists the codes; keep the two in step.
"""

from __future__ import annotations

import logging
from enum import StrEnum

logger = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """A stable error code and the HTTP status the API answers it with."""

    http_status: int

    def __new__(cls, value: str, http_status: int) -> "ErrorCode":
        member = str.__new__(cls, value)
        member._value_ = value
        member.http_status = http_status
        return member

    MISSING_AUDIO = "missing_audio", 400  # neither audio_url nor audio_base64 given
    INVALID_INPUT = "invalid_input", 400  # wrong type, out of range, both audio sources, ...
    UNKNOWN_FIELD = "unknown_field", 400  # an input field the contract does not define
    INVALID_SPEAKER_BOUNDS = "invalid_speaker_bounds", 400  # min > max, out of 1..50, num outside
    UNSUPPORTED_LANGUAGE = "unsupported_language", 400
    UNSUPPORTED_FORMAT = "unsupported_format", 400  # an output format no writer has
    INVALID_URL = "invalid_url", 400  # not http(s), malformed, or refused host
    DOWNLOAD_FAILED = "download_failed", 400  # network error, HTTP status >= 400, timeout
    AUDIO_TOO_LARGE = "audio_too_large", 413  # byte cap exceeded
    REQUEST_TOO_LARGE = "request_too_large", 413  # HTTP API: a JSON body over 1 MiB
    AUDIO_TOO_LONG = "audio_too_long", 413  # duration over the configured maximum
    INVALID_BASE64 = "invalid_base64", 400
    INVALID_AUDIO = "invalid_audio", 400  # not decodable, empty, or no audio stream
    INVALID_API_KEY = "invalid_api_key", 401  # HTTP API: missing or wrong bearer key
    INVALID_HOST = "invalid_host", 400  # HTTP API: a Host the server does not serve (HEARBACK_ALLOWED_HOSTS)
    CROSS_SITE_REQUEST = "cross_site_request", 403  # HTTP API: a change sent by another site's page
    NOT_FOUND = "not_found", 404  # HTTP API: no such job or route
    METHOD_NOT_ALLOWED = "method_not_allowed", 405  # HTTP API: a route asked with the wrong method
    REQUEST_TIMEOUT = "request_timeout", 408  # HTTP API: the request body stalled past the timeout
    SERVER_BUSY = "server_busy", 503  # HTTP API: too many uploads at once; retry later
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415  # HTTP API: a change's body not sent as application/json
    JOB_NOT_DONE = "job_not_done", 409  # HTTP API: a job's result asked for before it succeeded
    REFERENCE_TOO_SHORT = "reference_too_short", 400  # a voice reference with < 2 s of speech
    REFERENCE_NO_SPEECH = "reference_no_speech", 400  # a voice reference where VAD finds no speech
    INVALID_SPEAKER_NAME = "invalid_speaker_name", 400  # empty, too long, SPEAKER_nn
    INVALID_KNOWN_SPEAKERS = "invalid_known_speakers", 400  # a name twice, counts differ, too many
    UNKNOWN_SPEAKER = "unknown_speaker", 400  # a rename or merge names a speaker the result lacks
    INVALID_EDIT = "invalid_edit", 400  # a transcript edit that does not fit the result (index, range, op)
    NOTHING_TO_UNDO = "nothing_to_undo", 409  # an undo with no change left to undo
    MISSING_REVISION = "missing_revision", 400  # a change to a job's result without the revision it was made against
    STALE_REVISION = "stale_revision", 409  # a change made against a revision the job has moved on from
    SPEAKER_LIBRARY_UNAVAILABLE = "speaker_library_unavailable", 409  # unset, or read-only here
    VOICE_EXISTS = "voice_exists", 409  # enrolling a name the library has, without replace
    DIARIZATION_NOT_KEPT = "diarization_not_kept", 409  # rediarize: the job kept nothing to cluster again
    MODEL_UNAVAILABLE = "model_unavailable", 503  # weights cannot be found or downloaded
    # the runpod backend (hearback.remote): the endpoint, its jobs, the audio's way there
    ENDPOINT_UNAVAILABLE = "endpoint_unavailable", 503  # unreachable, or 429/5xx past the retries
    ENDPOINT_REJECTED = "endpoint_rejected", 502  # the key (401/403) or the request (4xx) refused
    ENDPOINT_INCOMPATIBLE = "endpoint_incompatible", 502  # an answer this version cannot read
    REMOTE_FAILED = "remote_failed", 502  # the remote job FAILED without a Hearback code (worker died)
    REMOTE_TIMED_OUT = "remote_timed_out", 504  # RunPod TIMED_OUT: queued or ran past its limit
    REMOTE_CANCELLED = "remote_cancelled", 502  # RunPod CANCELLED it (not this server's DELETE)
    REMOTE_RESULT_LOST = "remote_result_lost", 502  # the endpoint no longer has the job: submit again
    NO_AUDIO_TRANSPORT = "no_audio_transport", 413  # too large inline; no bucket, no public URL set
    INTERNAL_ERROR = "internal_error", 500  # a bug: logged with its traceback


class Cancelled(Exception):
    """A job deleted while it ran stops with this: not a failure, nobody is left to tell."""


class HearbackError(Exception):
    """A failure with a stable, documented code."""

    def __init__(self, code: ErrorCode, message: str):
        super().__init__(f"{code}: {message}")
        self.code = ErrorCode(code)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"error": str(self), "error_code": str(self.code)}


def as_error(exc: BaseException, what: str) -> HearbackError:
    """The one way a failed job ends: a :class:`HearbackError` is kept as it is (logged in
    one line); anything else is a bug or a device fault, logged with its traceback and
    reported as ``internal_error`` without internals. ``what`` names the job in the log."""
    if isinstance(exc, HearbackError):
        logger.warning("%s failed: %s", what, exc)
        return exc
    logger.error("%s failed with an unexpected error", what, exc_info=exc)
    return HearbackError(ErrorCode.INTERNAL_ERROR, f"unexpected {type(exc).__name__}; see the server log")
