"""Durable async jobs: ``/v1/jobs`` (submit, list, status, result, playback audio, delete).
The store is ``hearback.jobs``, the worker pool ``hearback.jobs.runner``; edits of a result are ``api.edits``."""

from __future__ import annotations

import asyncio
import unicodedata
import uuid
from dataclasses import replace
from typing import Annotated, Any, Optional
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from ..audio.fetch import check_source
from ..errors import ErrorCode, HearbackError
from ..jobs.kept_speakers import keep_request
from ..jobs.playback import MEDIA_TYPE
from ..jobs.runner import JobRunner
from ..jobs.store import Job, JobStatus
from ..speakers.references import check_known
from ..writers import FORMATS
from .bodies import revised
from .deps import (
    ExportQueryDep,
    JobDep,
    JobsDep,
    PipelineDep,
    SettingsDep,
    SucceededJobDep,
    form_flag,
    form_list,
    form_options,
    known_speakers,
)
from .openai_format import export_response
from .uploads import OPTION_FIELDS, form_schema, read_form

router = APIRouter(prefix="/v1/jobs")

#: longest file name a job keeps (characters)
MAX_FILENAME = 200


def job_view(job: Job, jobs: JobRunner) -> dict[str, Any]:
    """A job as the API shows it, with whether its playback audio is kept."""
    return job.public_view(audio=jobs.playback_audio(job.id) is not None)


def display_name(name: Optional[str]) -> Optional[str]:
    """A file name fit to show: its last path part, without control characters, capped."""
    if not name:
        return None
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in last if unicodedata.category(c)[0] != "C").strip()
    return clean[:MAX_FILENAME] or None


@router.post("", status_code=202,
             openapi_extra=form_schema("audio_url", *OPTION_FIELDS, "known_speaker_names[]",
                                       "known_speaker_references[]", "use_library", "library_speakers[]",
                                       file_required=False))
async def create_job(request: Request, pipeline: PipelineDep, jobs: JobsDep, settings: SettingsDep):
    """Multipart ``file`` or form ``audio_url``, plus the options fields, known speakers
    (``known_speaker_names``/``known_speaker_references``, as on /v1/audio/transcriptions) and
    ``use_library``; the upload and the references are kept until the job ends."""
    settings.hearback_data_dir.mkdir(parents=True, exist_ok=True)
    upload = settings.hearback_data_dir / uuid.uuid4().hex
    try:
        form = await read_form(request, upload, settings.max_download_bytes)
        audio_url = form.value("audio_url")
        if form.file is None and audio_url is None:
            raise HearbackError(ErrorCode.MISSING_AUDIO, "give one of file or audio_url")
        if form.file is not None and audio_url is not None:
            raise HearbackError(ErrorCode.INVALID_INPUT, "give one of file or audio_url, not both")
        if audio_url is not None:
            check_source(audio_url, settings)  # ftp://, a local path: refused now, not later
        diarize = form_flag(form, "diarize")
        options = form_options(form, diarize=True if diarize is None else diarize)
        pipeline.check(options)
        names, references = known_speakers(form)
        check_known(names, len(references))
        use_library = form_flag(form, "use_library") is not False
        library_names = form_list(form, "library_speakers") or None  # none named: all of them
        filename = display_name(form.filename if form.file else unquote(urlsplit(audio_url).path))
        job = await asyncio.to_thread(jobs.store.add, options, audio_path=form.file, audio_url=audio_url,
                                      filename=filename)
    except BaseException:
        upload.unlink(missing_ok=True)
        raise
    try:  # kept until the job ends, restarts included
        await asyncio.to_thread(keep_request, jobs.kept_folder(job.id), names, references,
                                use_library, settings, library_names)
    except BaseException:
        jobs.forget(job.id)
        job.remove_upload()
        raise
    jobs.submit(job.id)
    return job_view(job, jobs)


# The routes below are plain functions: FastAPI runs them in its thread pool, so their database
# reads, file checks and rendering never hold the event loop (/health, the page's polls, audio).

@router.get("")
def list_jobs(jobs: JobsDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50):
    """The newest jobs first."""
    return {"object": "list", "data": [job_view(job, jobs) for job in jobs.store.recent(limit)]}


@router.get("/{job_id}")
def get_job(job: JobDep, jobs: JobsDep):
    return job_view(job, jobs)


@router.api_route("/{job_id}/audio", methods=["GET", "HEAD"])
def job_audio(job: JobDep, jobs: JobsDep):
    """The job's audio kept for playback (Opus in Ogg); Range requests answer 206."""
    path = jobs.playback_audio(job.id)
    if path is None:
        raise HearbackError(ErrorCode.NOT_FOUND, f"job {job.id} keeps no audio")
    return FileResponse(path, media_type=MEDIA_TYPE)


@router.get("/{job_id}/result")
def job_result(job: SucceededJobDep, jobs: JobsDep, export: ExportQueryDep, format: str = "json"):
    """The document (with its revision) or an export, read and rendered off the event loop."""
    if format not in FORMATS:
        raise HearbackError(ErrorCode.UNSUPPORTED_FORMAT, f"format must be one of {', '.join(FORMATS)}")
    stored = jobs.store.revised(job.id)
    if stored is None:  # deleted meanwhile
        raise HearbackError(ErrorCode.NOT_FOUND, f"no job {job.id}")
    if format == "json":
        return revised(stored)
    return export_response(stored.result, format, replace(export, title=f"job-{job.id}"))


@router.delete("/{job_id}")
def delete_job(job: JobDep, jobs: JobsDep):
    jobs.forget(job.id)  # its row, kept speaker embeddings and kept folder; a running job stops
    if job.status != JobStatus.RUNNING:  # a running job removes its own upload when it ends
        job.remove_upload()
    return {"id": job.id, "deleted": True}
