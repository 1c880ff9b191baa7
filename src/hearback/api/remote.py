"""The runpod backend's side of the server (``HEARBACK_BACKEND=runpod``): what start-up builds
instead of loading models (:func:`build`: a :class:`~hearback.remote.pipeline.RemotePipeline` for
every route, a :class:`~hearback.jobs.remote.RemoteCompute` for the job runner), and the two
routes RunPod's side calls, which carry a signature (``hearback.remote.signed``) instead of the
API key (:func:`is_public`): ``GET /v1/remote/audio/{id}`` (the job's recording, for the worker,
while the job is followed) and ``POST /v1/remote/webhook/{id}`` (RunPod's webhook: the job's
status is asked at once)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from ..errors import ErrorCode, HearbackError
from ..jobs.remote import RemoteCompute
from ..jobs.store import JobStore
from ..remote.backend import RunPodBackend
from ..remote.pipeline import RemotePipeline
from ..remote.signed import AUDIO, WEBHOOK, Signer

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/remote", include_in_schema=False)

#: how long a job's webhook URL stays valid: RunPod's longest job lifetime (its TTL, 7 days at most)
WEBHOOK_TTL = 7 * 24 * 3600


@dataclass(frozen=True)
class RemoteSide:
    pipeline: RemotePipeline
    compute: RemoteCompute
    backend: RunPodBackend
    signer: Optional[Signer]


def is_public(path: str) -> bool:
    """The routes RunPod's side calls: signed per job, no API key."""
    return path.startswith(router.prefix + "/")


def public_host(settings) -> Optional[str]:
    """The host of ``HEARBACK_PUBLIC_URL`` (the server answers to it: RunPod's side calls it)."""
    return urlsplit(settings.hearback_public_url).netloc or None if settings.hearback_public_url else None


def build(settings, store: JobStore) -> RemoteSide:
    """The endpoint as the server's compute: no model loads."""
    public = settings.hearback_public_url
    signer = Signer.in_folder(settings.hearback_data_dir) if public else None
    served = webhook = None
    if signer is not None:
        def served(job_id: str) -> str:
            return signer.url(public, f"{router.prefix}/audio/{job_id}", AUDIO, job_id, settings.audio_url_expiry)

        def webhook(job_id: str) -> str:
            return signer.url(public, f"{router.prefix}/webhook/{job_id}", WEBHOOK, job_id, WEBHOOK_TTL)
    bucket = None
    if settings.s3_bucket:
        from ..remote.s3 import Bucket

        bucket = Bucket(settings)
    backend = RunPodBackend(settings, served=served, webhook=webhook, bucket=bucket)
    logger.info("backend: runpod at %s (no model loaded here); audio: inline%s%s", settings.runpod_endpoint_url,
                ", served" if served else "", ", bucket" if bucket else "")
    return RemoteSide(RemotePipeline(settings, backend), RemoteCompute(backend, store, settings), backend, signer)


def _checked(request: Request, purpose: str, job_id: str, expires: str, sig: str) -> RemoteSide:
    side: Optional[RemoteSide] = getattr(request.app.state, "remote", None)
    if side is None or side.signer is None or not side.signer.check(purpose, job_id, expires, sig):
        raise HearbackError(ErrorCode.NOT_FOUND, "no such URL, or it expired")
    return side


@router.get("/audio/{job_id}")
async def job_audio(request: Request, job_id: str, expires: str = "", sig: str = ""):
    """The job's recording, for the worker that fetches it: only with its signature, before its
    expiry, while the job is being followed."""
    path = _checked(request, AUDIO, job_id, expires, sig).backend.served_file(job_id)
    if path is None:
        raise HearbackError(ErrorCode.NOT_FOUND, f"job {job_id} serves no audio now")
    logger.info("job %s: its recording fetched through its signed URL", job_id)
    return FileResponse(path, media_type="application/octet-stream")


@router.post("/webhook/{job_id}")
async def webhook(request: Request, job_id: str, expires: str = "", sig: str = "") -> dict[str, Any]:
    """RunPod's call when the job ended: its status is asked now (the body is not trusted for the result)."""
    side = _checked(request, WEBHOOK, job_id, expires, sig)
    try:
        body = await request.json()
    except ValueError:
        body = {}
    remote_id = body.get("id") if isinstance(body, dict) else None
    job = request.app.state.jobs.store.get(job_id)
    known = job.remote.get("id") if job is not None and job.remote else None
    woken = bool(remote_id) and remote_id == known and side.backend.wake(remote_id)
    logger.info("webhook for job %s (%s): %s", job_id, body.get("status") if isinstance(body, dict) else "?",
                "its status is asked now" if woken else "nothing follows it")
    return {"received": True}
