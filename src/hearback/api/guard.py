"""What keeps other web sites out, as an ASGI middleware in front of everything else.

* The ``Host`` a request names must be one the server serves (``HEARBACK_ALLOWED_HOSTS``;
  loopback names by default), else 400 ``invalid_host``: a page of another site whose DNS name
  was pointed at this machine (DNS rebinding) can then read nothing. ``/health`` answers any.
* A request that can change something (POST, PUT, PATCH, DELETE) from a browser must come from
  the server's own origin: a ``Sec-Fetch-Site`` other than ``same-origin`` or ``none``, or an
  ``Origin`` that is not the request's own host, is 403 ``cross_site_request`` before any body
  is read (a ``no-cors`` fetch, a plain ``<form>``, a multipart POST of a foreign page all
  carry them). A request with neither header is no browser's: curl, the openai SDK.

Both hold with and without an API key.
"""

from __future__ import annotations

import logging
from ipaddress import ip_address
from typing import Iterable, Optional
from urllib.parse import urlsplit

from ..errors import ErrorCode, HearbackError
from .errors import error_response

logger = logging.getLogger(__name__)

#: the names a loopback server answers to unless told more (``HEARBACK_ALLOWED_HOSTS``)
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
#: routes any Host may ask (an orchestrator's health check names the pod's address)
_ANY_HOST = ("/health",)
_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
_SAME_SITE = ("same-origin", "none")  # ``none``: typed in the address bar, a bookmark
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` (an address, or ``localhost``) listens on this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:  # a name: whatever it resolves to may be reachable from elsewhere
        return False


def allowed_hosts(setting: Optional[str]) -> Optional[frozenset[str]]:
    """``HEARBACK_ALLOWED_HOSTS`` (names, comma-separated, ``*`` for any) as a set of host
    names, the loopback ones always included; None: any host."""
    names = [n.strip().lower() for n in (setting or "").split(",") if n.strip()]
    if "*" in names:
        return None
    return frozenset((*LOOPBACK_HOSTS, *(_host_only(n) for n in names)))


def _host_only(netloc: str) -> str:
    """``netloc`` without its port, IPv6 brackets removed, lower case."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[1:].split("]", 1)[0]
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def _netloc(host: str, scheme: str) -> str:
    """A Host header or an origin's netloc with a default port dropped."""
    host = host.strip().lower()
    port = _DEFAULT_PORTS.get(scheme)
    return host[: -len(port) - 1] if port and host.endswith(f":{port}") else host


class SiteGuard:
    """Refuses requests for hosts the server does not serve and changes from other sites."""

    def __init__(self, app, *, hosts: Optional[Iterable[str]]):
        self.app = app
        self.hosts = frozenset(hosts) if hosts is not None else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                logger.warning("refused %s %s: %s", scope["method"], scope["path"], refusal.message)
                await error_response(refusal, close=True)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope) -> Optional[HearbackError]:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None and scope["path"] not in _ANY_HOST and _host_only(host) not in self.hosts:
            return HearbackError(ErrorCode.INVALID_HOST, f"this server does not answer to the host {host!r} "
                                                         "(HEARBACK_ALLOWED_HOSTS names the ones it does)")
        if scope["method"] not in _CHANGING:
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site.strip().lower() not in _SAME_SITE:
            return HearbackError(ErrorCode.CROSS_SITE_REQUEST, f"a change sent from another site ({site}) is refused")
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, host, scope.get("scheme", "http")):
            return HearbackError(ErrorCode.CROSS_SITE_REQUEST, f"a change sent from {origin!r} is refused: "
                                                               "only this server's own page may send one")
        return None


def _same_origin(origin: str, host: str, scheme: str) -> bool:
    """Whether ``origin`` is the request's own (its host and port; a TLS proxy in front may
    change the scheme)."""
    parts = urlsplit(origin.strip())
    if not parts.scheme or not parts.netloc:  # "null": a sandboxed frame, a file, a data URL
        return False
    return _netloc(parts.netloc, parts.scheme) == _netloc(host, parts.scheme) or \
        _netloc(parts.netloc, parts.scheme) == _netloc(host, scheme)
