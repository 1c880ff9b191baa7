"""What the four changes to a job's result share (``POST …/edits``, ``POST …/undo``,
``PATCH …/speakers``, ``POST …/rediarize``): a JSON body, sent as ``application/json`` only,
at most :data:`MAX_BODY` bytes, that names the ``revision`` of the document it was made
against (required: ``missing_revision``; the store refuses a stale one with
``stale_revision``); and one answer, the new JSON document with the ``revision`` it made at its
top level (:func:`revised`), as ``GET …/result?format=json`` gives it too, rendered where it is
called (a worker thread: :func:`answered`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Callable, TypeVar

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ErrorCode, HearbackError
from ..jobs.store import Revised
from .limits import MAX_JSON

logger = logging.getLogger(__name__)

#: bytes of a change's body, at most (``api.limits`` refuses a larger JSON body as it streams)
MAX_BODY = MAX_JSON
#: the one media type a change's body may have (a form or text/plain would be a cross-site write)
JSON = "application/json"


class Revisioned(BaseModel):
    """A change's body: strict types (``"1"`` or ``true`` is no number), no unknown fields,
    and the revision it was made against."""

    model_config = ConfigDict(extra="forbid", strict=True)

    #: the ``revision`` of the document the client's view was made from
    revision: int = Field(ge=0)


Body = TypeVar("Body", bound=Revisioned)


def is_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return kind == JSON


async def read_change(request: Request, model: type[Body], code: ErrorCode) -> Body:
    """The request's body as ``model``: ``unsupported_media_type`` unless it is JSON,
    ``missing_revision`` without a revision, ``code`` for anything else wrong with it (too
    large, not JSON, nested too deep, a field wrong)."""
    if not is_json(request):
        raise HearbackError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"send the change as {JSON}")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HearbackError(code, f"the body is over {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except RecursionError:
        raise HearbackError(code, "the body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise HearbackError(code, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise HearbackError(code, "the body must be a JSON object")
    if "revision" not in data:
        raise HearbackError(ErrorCode.MISSING_REVISION,
                            "say which revision of the transcript the change was made against (\"revision\")")
    try:
        return model.model_validate(data)
    except RecursionError:
        raise HearbackError(code, "the body is nested too deeply") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HearbackError(code, f"{where}: {first['msg']}") from None


def revised(stored: Revised) -> Response:
    """The answer to a change (and to ``GET …/result?format=json``): the JSON document, with
    the revision at its top level (the stored text, the revision added: nothing re-encoded)."""
    return Response(f'{stored.document[:-1]}, "revision": {stored.revision}}}', media_type=JSON)


async def answered(change: Callable[..., Revised], *args, **kwargs) -> Response:
    """``change(*args, **kwargs)`` and its answer made in a worker thread."""
    return await asyncio.to_thread(lambda: revised(change(*args, **kwargs)))
