"""Durable async jobs: ``/v1/jobs`` (submit, status, result, delete). The store and the
worker pool are ``hearback.jobs``."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Optional

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse

from ..errors import ErrorCode, HearbackError
from ..jobs import JobStatus
from ..speakers.job_voices import JobVoices
from ..writers import FORMATS, render
from .deps import JobDep, JobsDep, OptionsFormDep, PipelineDep, SettingsDep
from .uploads import save_upload

router = APIRouter(prefix="/v1/jobs")


@router.post("", status_code=202)
async def create_job(
    pipeline: PipelineDep,
    jobs: JobsDep,
    settings: SettingsDep,
    form: OptionsFormDep,
    file: Optional[UploadFile] = File(None),
    audio_url: Optional[str] = Form(None),
    diarize: bool = Form(True),
):
    if (file is None) == (audio_url is None):
        raise HearbackError(ErrorCode.MISSING_AUDIO if file is None else ErrorCode.INVALID_INPUT,
                            "give one of file or audio_url")
    options = form.options(diarize=diarize)
    pipeline.check(options)
    upload = None
    if file is not None:
        settings.hearback_data_dir.mkdir(parents=True, exist_ok=True)
        upload = settings.hearback_data_dir / uuid.uuid4().hex
        try:
            await asyncio.to_thread(save_upload, file, upload, settings.max_download_bytes)
        except BaseException:
            upload.unlink(missing_ok=True)
            raise
    job = jobs.store.add(options, audio_path=upload, audio_url=audio_url)
    jobs.submit(job.id)
    return job.public_view()


@router.get("/{job_id}")
async def get_job(job: JobDep):
    return job.public_view()


@router.get("/{job_id}/result")
async def job_result(job: JobDep, jobs: JobsDep, format: str = "json"):
    if job.status != JobStatus.SUCCEEDED:
        raise HearbackError(ErrorCode.JOB_NOT_DONE, f"the job is {job.status}")
    if format not in FORMATS:
        raise HearbackError(ErrorCode.UNSUPPORTED_FORMAT, f"format must be one of {', '.join(FORMATS)}")
    text = render(jobs.store.result(job.id), format)
    if format == "json":
        return JSONResponse(json.loads(text))
    return PlainTextResponse(text)


@router.delete("/{job_id}")
async def delete_job(job: JobDep, jobs: JobsDep, settings: SettingsDep):
    jobs.store.delete(job.id)
    JobVoices(settings.hearback_db).delete(job.id)  # its kept speaker embeddings too
    if job.status != JobStatus.RUNNING:  # a running job removes its own upload when it ends
        job.remove_upload()
    return {"id": job.id, "deleted": True}
