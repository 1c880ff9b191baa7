"""One error shape for the whole API, OpenAI's: ``{"error": {"message", "type", "code"}}``.

Every failure becomes a :class:`~hearback.errors.HearbackError` and goes out through
:func:`error_response`, with the HTTP status its code carries (``hearback.errors``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ErrorCode, HearbackError

logger = logging.getLogger(__name__)


def error_response(error: HearbackError, *, close: bool = False) -> JSONResponse:
    """The error as the API answers it; ``close`` ends the connection after it (a request
    refused before its body was read)."""
    status = error.code.http_status
    if status == 401:
        kind = "authentication_error"
    else:
        kind = "invalid_request_error" if status < 500 else "server_error"
    message = str(error).encode("utf-8", "backslashreplace").decode("utf-8")  # a lone surrogate, said
    return JSONResponse({"error": {"message": message, "type": kind, "code": error.code.value}},
                        status_code=status, headers={"Connection": "close"} if close else None)


#: Starlette's own HTTP errors (unknown route, wrong method, ...) by status, as our codes
_BY_STATUS = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}


def install(app: FastAPI) -> None:
    """Route every error the app can raise through :func:`error_response`."""

    @app.exception_handler(HearbackError)
    async def hearback_error(_request: Request, exc: HearbackError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_response(HearbackError(ErrorCode.INVALID_INPUT, f"{field}: {first.get('msg')}"))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _BY_STATUS.get(exc.status_code,
                              ErrorCode.INVALID_INPUT if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR)
        detail = exc.detail if exc.status_code != 404 else f"no route {request.url.path}"
        return error_response(HearbackError(code, str(detail)))
