"""Request-body limits, as an ASGI middleware below the routes: a request body is refused up
front when its Content-Length is over the cap, and while it streams as soon as it passes it;
a body that stalls longer than the body timeout ends the request (``request_timeout``); and
only so many uploads are read at once (``server_busy`` beyond). A JSON body (the editor's
changes) is no upload: capped at :data:`MAX_JSON` bytes (``request_too_large``) and timed, but
not counted, so many small edits at once are never turned away. uvicorn has a keep-alive
timeout but none for a body that stops half-way."""

from __future__ import annotations

import asyncio
import logging

from ..errors import ErrorCode, HearbackError
from .errors import error_response

logger = logging.getLogger(__name__)

#: room for the form's text fields and multipart framing on top of the file's byte cap
FORM_OVERHEAD = 1 << 20
#: bytes of a JSON body, at most
MAX_JSON = 1 << 20
_WITH_BODY = ("POST", "PUT", "PATCH")


class BodyGuard:
    """Bounds what request bodies can hold: bytes, time between chunks, bodies at once."""

    def __init__(self, app, *, cap: int, body_timeout: float, max_uploads: int):
        self.app, self.limit = app, cap + FORM_OVERHEAD
        self.body_timeout, self.max_uploads = body_timeout, max_uploads
        self.reading = 0  # uploads being read now

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        upload = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower() != b"application/json"
        refusal = self._refusal(headers, upload)
        if refusal is not None:
            await error_response(refusal, close=True)(scope, receive, send)
            return
        body = _Body(self, receive, self.limit if upload else MAX_JSON, counted=upload)
        self.reading += upload
        try:
            await self.app(scope, body.receive, body.closing(send))
        finally:
            body.finish()

    def _refusal(self, headers: dict[bytes, bytes], upload: bool):
        length = headers.get(b"content-length", b"").strip()
        if length.isdigit() and int(length) > (self.limit if upload else MAX_JSON):
            return _too_large(upload, self.limit if upload else MAX_JSON)
        if upload and self.reading >= self.max_uploads:
            logger.warning("refused a request: %d bodies are being read already", self.reading)
            return HearbackError(ErrorCode.SERVER_BUSY,
                                 f"{self.max_uploads} uploads are in progress; retry later")
        return None


def _too_large(upload: bool, limit: int) -> HearbackError:
    code = ErrorCode.AUDIO_TOO_LARGE if upload else ErrorCode.REQUEST_TOO_LARGE
    return HearbackError(code, f"the request body is over the cap of {limit} bytes")


class _Body:
    """One request's ``receive``: timed (and, an upload, counted) until the body is complete."""

    def __init__(self, guard: BodyGuard, receive, limit: int, *, counted: bool):
        self.guard, self.raw, self.limit, self.counted = guard, receive, limit, counted
        self.received = 0
        self.done = False  # no longer counted or timed: complete, failed or disconnected
        self.complete = False  # the whole body arrived

    async def receive(self) -> dict:
        if self.done:  # after the body: the disconnect listener waits as long as it likes
            return await self.raw()
        try:
            message = await asyncio.wait_for(self.raw(), self.guard.body_timeout)
        except asyncio.TimeoutError:
            self.finish()
            raise HearbackError(ErrorCode.REQUEST_TIMEOUT,
                                f"the request body stalled for {self.guard.body_timeout:.0f} s") from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.finish()
                raise _too_large(self.counted, self.limit)
            if not message.get("more_body", False):
                self.complete = True
                self.finish()
        else:
            self.finish()
        return message

    def finish(self) -> None:
        if not self.done:
            self.done = True
            self.guard.reading -= self.counted

    def closing(self, send):
        """``send`` that closes the connection after a response given before the body was
        read to its end (a refusal): otherwise the server reads the rest to reuse it."""
        async def send_(message: dict) -> None:
            if message["type"] == "http.response.start" and not self.complete:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        return send_
