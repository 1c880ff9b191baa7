"""Speakers by name over HTTP: the voice library, ``/v1/speakers`` (enrol, list, delete; the
library is ``hearback.speakers.library``, ``SPEAKER_LIBRARY`` names its file), and fixing a
finished job's speakers, ``PATCH /v1/jobs/{id}/speakers`` (``hearback.speakers.edit``)."""

from __future__ import annotations

import asyncio
from typing import Optional

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from ..decode import decode
from ..errors import ErrorCode, HearbackError
from ..tempdirs import job_tempdir
from ..jobs import JobStatus
from ..speakers.edit import edit_speakers, speaker_mapping
from ..speakers.job_voices import JobVoices
from ..speakers.library import open_library
from ..speakers.voiceprint import check_name, enrol
from ..writers import result_to_dict
from .deps import JobDep, JobsDep, PipelineDep, SettingsDep
from .uploads import save_upload

router = APIRouter(prefix="/v1")


class SpeakerEdits(BaseModel):
    """``PATCH /v1/jobs/{id}/speakers``: merges first, then renames."""

    model_config = ConfigDict(extra="forbid")

    #: speaker as the result shows it -> new name
    renames: dict[str, str] = Field(default_factory=dict)
    #: groups of speakers to make one (each takes the group's first)
    merges: list[list[str]] = Field(default_factory=list)


@router.patch("/jobs/{job_id}/speakers")
async def edit_job_speakers(job: JobDep, jobs: JobsDep, settings: SettingsDep, edits: SpeakerEdits):
    """Renames and merges on a finished job: the stored result, so every export, follows."""
    if job.status != JobStatus.SUCCEEDED:
        raise HearbackError(ErrorCode.JOB_NOT_DONE, f"the job is {job.status}")
    result = jobs.store.result(job.id)
    edited = edit_speakers(result, edits.renames, edits.merges)
    await asyncio.to_thread(jobs.store.update_result, job.id, edited)
    mapping = speaker_mapping(result.speakers, edits.renames, edits.merges)
    await asyncio.to_thread(JobVoices(settings.hearback_db).follow, job.id, mapping)
    return result_to_dict(edited)


@router.post("/speakers", status_code=201)
async def add_speaker(pipeline: PipelineDep, settings: SettingsDep, name: str = Form(...),
                      file: Optional[list[UploadFile]] = File(None), job_id: Optional[str] = Form(None),
                      speaker: Optional[str] = Form(None)):
    """Enrol (or replace) ``name`` from one or more recordings of them alone (``file``,
    repeated), or from a finished job's speaker (``job_id`` + ``speaker``), without audio."""
    library = open_library(settings)
    library.check_writable()
    name = check_name(name)
    if bool(file) == (job_id is not None) or (job_id is not None) != (speaker is not None):
        raise HearbackError(ErrorCode.INVALID_INPUT, "give file(s), or job_id and speaker")
    if job_id is not None:
        voice = await asyncio.to_thread(JobVoices(settings.hearback_db).voice, job_id, speaker, name)
        return (await asyncio.to_thread(library.add, voice)).public_view()
    if pipeline.diarizer is None:
        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, "diarization is not loaded in this process")
    with job_tempdir() as folder:
        audio = []
        for index, upload in enumerate(file):
            path = folder / f"reference-{index}"
            await asyncio.to_thread(save_upload, upload, path, settings.max_download_bytes)
            audio.append(await asyncio.to_thread(decode, path, max_duration=settings.max_duration))
    voice = await asyncio.to_thread(enrol, name, audio, pipeline.diarizer)
    return (await asyncio.to_thread(library.add, voice)).public_view()


@router.get("/speakers")
async def list_speakers(settings: SettingsDep):
    entries = await asyncio.to_thread(open_library(settings).entries)
    return {"object": "list", "data": [e.public_view() for e in entries]}


@router.delete("/speakers/{voice_id}")
async def delete_speaker(voice_id: str, settings: SettingsDep):
    """Delete a voice for good (row deleted, file vacuumed)."""
    entry = await asyncio.to_thread(open_library(settings).remove, voice_id)
    return {"id": entry.id, "name": entry.voice.name, "deleted": True}
