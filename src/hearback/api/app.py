"""The app factory: models load once at start-up and live on ``app.state``; routers add the
routes; one error shape (``api.errors``); an optional bearer key on every route but /health and the editor page (``api.page``);
request-body limits (``api.limits``). Start-up removes temporary folders of dead processes."""

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
from . import edits, errors, jobs, page, remote, speakers, transcriptions
from .limits import BodyGuard
from .settings import ServerSettings

logger = logging.getLogger(__name__)

ROUTERS = (transcriptions.router, jobs.router, edits.router, speakers.router, page.router, remote.router)


def create_app(settings: Optional[ServerSettings] = None, *,
               pipeline: Optional[Pipeline] = None) -> FastAPI:
    """The app. ``pipeline`` lets a caller share models it already loaded."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store, compute = JobStore(settings.hearback_db), None
        if settings.hearback_backend == "runpod":  # no model here: the endpoint does the GPU work
            app.state.remote = remote.build(settings, store)
            app.state.pipeline, compute = app.state.remote.pipeline, app.state.remote.compute
        elif app.state.pipeline is None:
            app.state.pipeline = await asyncio.to_thread(Pipeline.load, settings)
        tempdirs.sweep()
        app.state.jobs = JobRunner(store, app.state.pipeline, settings,
                                   settings.hearback_workers, data_dir=settings.hearback_data_dir,
                                   retention=settings.hearback_retention,
                                   audio_retention=settings.audio_retention, compute=compute)
        app.state.jobs.recover()
        yield
        app.state.jobs.shutdown()

    app = FastAPI(title="Hearback", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.pipeline = pipeline
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
    uvicorn.run(create_app(settings), host=host or settings.bind_host, port=port or settings.hearback_port)
