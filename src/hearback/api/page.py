"""The transcript editor page: ``GET /`` and its files under ``/web/``, served from the
package (``hearback/web``: HTML, plain ES modules, CSS; nothing from the network, no build
step). The page is static and public (:func:`is_public`); every job it shows comes through
``/v1`` with the Bearer key the page asks for, so without the key it shows nothing."""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath

from fastapi import APIRouter
from fastapi.responses import Response

from ..errors import ErrorCode, HearbackError

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: file suffix -> the Content-Type it is served with; files of other kinds are not served
MEDIA_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}

#: the page's files never hold job data, so a browser may keep them; "no-cache" still asks
#: the server each time, so an upgraded Hearback serves its new page at once
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'self'; media-src 'self' blob:; "
                                       "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"}


def is_public(path: str) -> bool:
    """Whether ``path`` is the page or one of its files: served without the API key, since
    they hold no job data (the key is asked for by the page itself)."""
    return path == "/" or path.startswith("/web/")


@lru_cache(maxsize=1)
def _files() -> dict[str, tuple[bytes, str]]:
    """The package's page files by name (read once): only these names can ever be served,
    so no request path reaches the file system."""
    folder = resources.files("hearback") / "web"
    files = {}
    for entry in folder.iterdir():
        suffix = PurePosixPath(entry.name).suffix
        if entry.is_file() and suffix in MEDIA_TYPES:
            files[entry.name] = (entry.read_bytes(), MEDIA_TYPES[suffix])
    return files


def _serve(name: str) -> Response:
    found = _files().get(name)
    if found is None:
        raise HearbackError(ErrorCode.NOT_FOUND, f"no page file {name}")
    body, media_type = found
    return Response(body, media_type=media_type, headers=_HEADERS)


@router.get("/")
async def index() -> Response:
    return _serve("index.html")


@router.get("/web/{name}")
async def page_file(name: str) -> Response:
    return _serve(name)
