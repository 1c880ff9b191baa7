"""Speakers by name over HTTP: the voice library, ``/v1/speakers`` (enrol, list, delete; the
library is ``hearback.speakers.library``, ``SPEAKER_LIBRARY`` names its file), and fixing a
finished job's speakers: ``PATCH /v1/jobs/{id}/speakers`` (``hearback.speakers.edit``) and
``POST /v1/jobs/{id}/rediarize`` (``hearback.speakers.rediarize``)."""

from __future__ import annotations

import asyncio
from typing import Optional

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from ..audio.decode import decode
from ..diarize.inputs import load_inputs
from ..document import result_to_dict
from ..errors import ErrorCode, HearbackError
from ..jobs.kept_speakers import kept_speakers
from ..jobs import voices as job_voices
from ..jobs.store import Change, JobStatus, JobStore
from ..runtime.tempdirs import job_tempdir
from ..schema import JobOptions, parse
from ..speakers.edit import edit_speakers, speaker_mapping
from ..speakers.library import open_library
from ..speakers.rediarize import reassigned
from ..speakers.voiceprint import check_name, enrol
from ..types import Result
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
async def edit_job_speakers(job: JobDep, jobs: JobsDep, edits: SpeakerEdits):
    """Renames and merges on a finished job: the stored result, so every export, follows."""
    if job.status != JobStatus.SUCCEEDED:
        raise HearbackError(ErrorCode.JOB_NOT_DONE, f"the job is {job.status}")
    edited = await asyncio.to_thread(_edit_speakers, jobs.store, job.id, edits)
    return result_to_dict(edited)


def _edit_speakers(store: JobStore, job_id: str, edits: SpeakerEdits) -> Result:
    """One undo step, with no other change between reading and storing; kept voices follow."""

    def change(result: Result) -> Change:
        mapping = speaker_mapping(result.speakers, edits.renames, edits.merges)
        return Change(edit_speakers(result, edits.renames, edits.merges), (mapping,))

    return store.change_result(job_id, change)


class SpeakerBounds(BaseModel):
    """``POST /v1/jobs/{id}/rediarize``: how many speakers to find this time (all optional,
    checked as the job options are: ``invalid_speaker_bounds``)."""

    model_config = ConfigDict(extra="forbid")

    #: exactly this many speakers
    num_speakers: Optional[int] = None
    #: at least this many
    min_speakers: Optional[int] = None
    #: at most this many
    max_speakers: Optional[int] = None


@router.post("/jobs/{job_id}/rediarize")
async def rediarize_job(job: JobDep, jobs: JobsDep, pipeline: PipelineDep, settings: SettingsDep,
                        bounds: Optional[SpeakerBounds] = None):
    """A finished job's speakers found again with new bounds, from what its diarization kept
    (clustering only: no audio, no speech recognition), its words given to them again and
    known voices matched again; the stored result, so every export, follows."""
    if job.status != JobStatus.SUCCEEDED:
        raise HearbackError(ErrorCode.JOB_NOT_DONE, f"the job is {job.status}")
    options = parse(JobOptions, (bounds or SpeakerBounds()).model_dump()).to_options()  # the job options' checks
    folder = jobs.kept_folder(job.id)
    inputs = await asyncio.to_thread(load_inputs, folder)
    if inputs is None:
        raise HearbackError(ErrorCode.DIARIZATION_NOT_KEPT,
                            "this job kept no diarization to start from (diarize was off, it heard "
                            "no speech, or it ran before rediarize existed): submit it again")
    if pipeline.diarizer is None:
        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, "diarization is not loaded in this process")
    diarization = await asyncio.to_thread(
        pipeline.diarizer.rediarize, inputs, num_speakers=options.num_speakers,
        min_speakers=options.min_speakers, max_speakers=options.max_speakers)
    voices = await asyncio.to_thread(kept_speakers(folder).voices, settings)

    def change(stored: Result) -> Change:
        found = reassigned(stored, diarization, voices)
        return Change(found, voices=job_voices.of(found.diarization))

    result = await asyncio.to_thread(jobs.store.change_result, job.id, change)
    return result_to_dict(result)


@router.post("/speakers", status_code=201)
async def add_speaker(pipeline: PipelineDep, settings: SettingsDep, jobs: JobsDep, name: str = Form(...),
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
        voice = await asyncio.to_thread(jobs.store.voices.voice, job_id, speaker, name)
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
