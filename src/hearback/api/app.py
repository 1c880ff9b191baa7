"""The app factory: models load once at start-up and live on ``app.state``; routers add the
routes; one error shape (``api.errors``); other sites kept out (``api.guard``: Host names,
cross-site changes); an optional bearer key on every route but /health and the editor page
(``api.page``); request-body limits (``api.limits``). Start-up removes temporary folders of
dead processes (torch's among them)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from contextlib import asynccontextmanager
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .. import __version__
from ..errors import ErrorCode, HearbackError
from ..jobs.runner import JobRunner
from ..jobs.store import JobStore
from ..pipeline import Pipeline
from ..runtime import tempdirs
from . import catalog, edits, errors, jobs, page, remote, speakers, transcriptions
from .exports import Renderer
from .guard import SiteGuard, allowed_hosts, is_loopback
from .limits import BodyGuard
from .settings import ServerSettings

logger = logging.getLogger(__name__)

ROUTERS = (transcriptions.router, jobs.router, edits.router, speakers.router, catalog.router, page.router,
           remote.router)


def create_app(settings: Optional[ServerSettings] = None, *,
               pipeline: Optional[Pipeline] = None) -> FastAPI:
    """The app. ``pipeline`` lets a caller share models it already loaded."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        tempdirs.sweep()
        store, compute = JobStore(settings.hearback_db), None
        if settings.hearback_backend == "runpod":  # no model here: the endpoint does the GPU work
            app.state.remote = remote.build(settings, store)
            app.state.pipeline, compute = app.state.remote.pipeline, app.state.remote.compute
        elif app.state.pipeline is None:
            await asyncio.to_thread(tempdirs.import_torch_inside)  # its temp folder swept if we are killed
            app.state.pipeline = await asyncio.to_thread(Pipeline.load, settings)
        app.state.jobs = JobRunner(store, app.state.pipeline, settings,
                                   settings.hearback_workers, data_dir=settings.hearback_data_dir,
                                   retention=settings.hearback_retention,
                                   audio_retention=settings.audio_retention, compute=compute)
        app.state.jobs.recover()
        app.state.renderer.start()
        yield
        app.state.renderer.shutdown()
        app.state.jobs.shutdown()
        app.state.jobs.store.checkpoint()  # a clean stop leaves no deleted data in the WAL

    app = FastAPI(title="Hearback", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.renderer = Renderer()
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    # Added before the key check, so it runs inside it: no body is read before the key passed.
    app.add_middleware(BodyGuard, cap=settings.max_download_bytes,
                       body_timeout=settings.hearback_body_timeout,
                       max_uploads=settings.hearback_max_uploads)

    @app.middleware("http")
    async def authenticate(request: Request, call_next):
        # A middleware, not a dependency: the key is checked before any request body is read.
        key = settings.hearback_api_key
        path = request.url.path
        if key and path != "/health" and not page.is_public(path) and not remote.is_public(path):
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, f"Bearer {key}".encode()):
                return errors.error_response(HearbackError(
                    ErrorCode.INVALID_API_KEY, "missing or wrong API key (Authorization: Bearer …)"))
        return await call_next(request)

    # Added last, so it runs first: a foreign Host or another site's change gets no further.
    # The runpod backend's public address is one of them: RunPod's side calls it.
    hosts = ",".join(filter(None, (settings.hearback_allowed_hosts, remote.public_host(settings))))
    app.add_middleware(SiteGuard, hosts=allowed_hosts(hosts))

    @app.get("/health")
    async def health(request: Request):
        if request.app.state.pipeline is None:
            return JSONResponse({"status": "loading"}, status_code=503)
        if settings.hearback_backend != "runpod":
            return {"status": "ok", "backend": settings.hearback_backend}
        endpoint = await asyncio.to_thread(request.app.state.remote.backend.health)  # RunPod's /health
        return {"status": "ok", "backend": settings.hearback_backend, "endpoint": endpoint}

    return app


def serve(host: Optional[str] = None, port: Optional[int] = None) -> None:
    import uvicorn

    settings = ServerSettings()
    host = host or settings.bind_host
    if not settings.hearback_api_key and not is_loopback(host):
        logger.warning(UNGUARDED, host)
    uvicorn.run(create_app(settings), host=host, port=port or settings.hearback_port)


#: said at start-up when the server listens beyond this machine without a key
UNGUARDED = ("WARNING: hearback serve listens on %s WITHOUT AN API KEY: anyone who can reach this port can "
             "read, change and delete every transcript and voice. Set HEARBACK_API_KEY, or bind 127.0.0.1.")
