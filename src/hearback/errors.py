"""Errors with stable codes.

Every failure a user can cause or meet raises :class:`HearbackError` with one of
the codes below. ``str(error)`` is ``"<code>: <message>"`` so the code survives
transports that keep only the error string (runpod's local API server does).
SPECS.md lists the codes; keep the two in step.
"""

from __future__ import annotations


class ErrorCode:
    MISSING_AUDIO = "missing_audio"  # neither audio_url nor audio_base64 given
    INVALID_INPUT = "invalid_input"  # wrong type, out of range, both audio sources, ...
    UNKNOWN_FIELD = "unknown_field"  # an input field the contract does not define
    INVALID_SPEAKER_BOUNDS = "invalid_speaker_bounds"  # min > max, negative, num outside bounds
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    UNSUPPORTED_FORMAT = "unsupported_format"  # output_format not json/srt/vtt
    INVALID_URL = "invalid_url"  # not http(s), malformed, or refused host
    DOWNLOAD_FAILED = "download_failed"  # network error, HTTP status >= 400, timeout
    AUDIO_TOO_LARGE = "audio_too_large"  # byte cap exceeded
    AUDIO_TOO_LONG = "audio_too_long"  # duration over the configured maximum
    INVALID_BASE64 = "invalid_base64"
    INVALID_AUDIO = "invalid_audio"  # not decodable, empty, or no audio stream
    MODEL_UNAVAILABLE = "model_unavailable"  # weights cannot be found or downloaded
    INTERNAL_ERROR = "internal_error"  # a bug: logged with its traceback


#: HTTP status for each code, used by the HTTP API.
HTTP_STATUS = {
    ErrorCode.MISSING_AUDIO: 400,
    ErrorCode.INVALID_INPUT: 400,
    ErrorCode.UNKNOWN_FIELD: 400,
    ErrorCode.INVALID_SPEAKER_BOUNDS: 400,
    ErrorCode.UNSUPPORTED_LANGUAGE: 400,
    ErrorCode.UNSUPPORTED_FORMAT: 400,
    ErrorCode.INVALID_URL: 400,
    ErrorCode.DOWNLOAD_FAILED: 400,
    ErrorCode.AUDIO_TOO_LARGE: 413,
    ErrorCode.AUDIO_TOO_LONG: 413,
    ErrorCode.INVALID_BASE64: 400,
    ErrorCode.INVALID_AUDIO: 400,
    ErrorCode.MODEL_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}


class HearbackError(Exception):
    """A failure with a stable, documented code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"error": str(self), "error_code": self.code}
