"""Speakers by name over HTTP: the voice library, ``/v1/speakers`` (enrol, list, delete; the
library is ``hearback.speakers.library``, ``SPEAKER_LIBRARY`` names its file), and finding a
finished job's speakers again: ``POST /v1/jobs/{id}/rediarize`` (``JobRunner.rediarize``).
Renames and merges (``PATCH /v1/jobs/{id}/speakers``) are edits: ``api.edits``."""

from __future__ import annotations

import asyncio
from typing import Optional

from fastapi import APIRouter, File, Form, Request, UploadFile

from ..audio.decode import decode
from ..errors import ErrorCode, HearbackError
from ..runtime.tempdirs import job_tempdir
from ..schema import JobOptions, parse
from ..speakers.library import open_library
from ..speakers.voiceprint import check_name, enrol
from ..types import Options
from .bodies import Revisioned, answered, read_change
from .deps import JobsDep, PipelineDep, SettingsDep, SucceededJobDep
from .uploads import save_upload

router = APIRouter(prefix="/v1")


class SpeakerBounds(Revisioned):
    """``POST /v1/jobs/{id}/rediarize``: how many speakers to find this time (all optional,
    checked as the job options are: ``invalid_speaker_bounds``), and the revision."""

    #: exactly this many speakers
    num_speakers: Optional[int] = None
    #: at least this many
    min_speakers: Optional[int] = None
    #: at most this many
    max_speakers: Optional[int] = None


@router.post("/jobs/{job_id}/rediarize")
async def rediarize_job(job: SucceededJobDep, jobs: JobsDep, request: Request):
    """A finished job's speakers found again with new bounds (``JobRunner.rediarize``); the
    stored result, so every export, follows."""
    bounds = await read_change(request, SpeakerBounds, ErrorCode.INVALID_INPUT)
    options = parse(JobOptions, bounds.model_dump(exclude={"revision"})).to_options()  # the job options' checks
    return await answered(jobs.rediarize, job.id, options, bounds.revision)


@router.post("/speakers", status_code=201)
async def add_speaker(pipeline: PipelineDep, settings: SettingsDep, jobs: JobsDep, name: str = Form(...),
                      file: Optional[list[UploadFile]] = File(None), job_id: Optional[str] = Form(None),
                      speaker: Optional[str] = Form(None), replace: bool = Form(False)):
    """Enrol ``name`` from one or more recordings of them alone (``file``, repeated), or from a
    finished job's speaker (``job_id`` + ``speaker``), without audio. A name the library has
    already is ``voice_exists`` unless ``replace`` is true (then the old voice goes for good)."""
    library = open_library(settings)
    library.check_writable()
    name = check_name(name)
    if bool(file) == (job_id is not None) or (job_id is not None) != (speaker is not None):
        raise HearbackError(ErrorCode.INVALID_INPUT, "give file(s), or job_id and speaker")
    if not replace and name in {e.voice.name for e in await asyncio.to_thread(library.entries)}:
        raise HearbackError(ErrorCode.VOICE_EXISTS, f"the library has a voice named {name!r} already: "
                                                    "send replace=true to replace it, or choose another name")
    if job_id is not None:
        voice = await asyncio.to_thread(jobs.store.voices.voice, job_id, speaker, name)
        return (await asyncio.to_thread(library.add, voice, replace=replace)).public_view()
    pipeline.check(Options(diarize=True))  # model_unavailable without a diarizer here
    with job_tempdir() as folder:
        audio = []
        for index, upload in enumerate(file):
            path = folder / f"reference-{index}"
            await asyncio.to_thread(save_upload, upload, path, settings.max_download_bytes)
            audio.append(await asyncio.to_thread(decode, path, max_duration=settings.max_duration))
    voice = await asyncio.to_thread(enrol, name, audio, pipeline.diarizer)
    return (await asyncio.to_thread(library.add, voice, replace=replace)).public_view()


@router.get("/speakers")
async def list_speakers(settings: SettingsDep):
    entries = await asyncio.to_thread(open_library(settings).entries)
    return {"object": "list", "data": [e.public_view() for e in entries]}


@router.delete("/speakers/{key:path}")
async def delete_speaker(key: str, settings: SettingsDep, jobs: JobsDep):
    """Delete a voice for good, by id (else by name: ``a/b`` too): its row deleted and the
    file vacuumed, and every job's kept copy of it (``JobStore.forget_voice``)."""
    entry = await asyncio.to_thread(open_library(settings).remove, key)
    await asyncio.to_thread(jobs.store.forget_voice, entry.voice.name, entry.voice.vector)
    return {"id": entry.id, "name": entry.voice.name, "deleted": True}
