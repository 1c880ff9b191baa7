"""The voice library over HTTP: ``/v1/speakers`` (enrol, list, delete). The library is
``hearback.speakers.library``; ``SPEAKER_LIBRARY`` names its file."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, File, Form, UploadFile

from ..decode import decode
from ..errors import ErrorCode, HearbackError
from ..fetch import job_tempdir
from ..speakers.library import open_library
from ..speakers.voiceprint import check_name, enrol
from .deps import PipelineDep, SettingsDep
from .uploads import save_upload

router = APIRouter(prefix="/v1/speakers")


@router.post("", status_code=201)
async def add_speaker(pipeline: PipelineDep, settings: SettingsDep, name: str = Form(...),
                      file: list[UploadFile] = File(...)):
    """Enrol (or replace) ``name`` from one or more recordings of them alone (``file``, repeated)."""
    library = open_library(settings)
    library.check_writable()
    if pipeline.diarizer is None:
        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, "diarization is not loaded in this process")
    name = check_name(name)
    with job_tempdir() as folder:
        audio = []
        for index, upload in enumerate(file):
            path = folder / f"reference-{index}"
            await asyncio.to_thread(save_upload, upload, path, settings.max_download_bytes)
            audio.append(await asyncio.to_thread(decode, path, max_duration=settings.max_duration))
    voice = await asyncio.to_thread(enrol, name, audio, pipeline.diarizer)
    return (await asyncio.to_thread(library.add, voice)).public_view()


@router.get("")
async def list_speakers(settings: SettingsDep):
    entries = await asyncio.to_thread(open_library(settings).entries)
    return {"object": "list", "data": [e.public_view() for e in entries]}


@router.delete("/{voice_id}")
async def delete_speaker(voice_id: str, settings: SettingsDep):
    """Delete a voice for good (row deleted, file vacuumed)."""
    entry = await asyncio.to_thread(open_library(settings).remove, voice_id)
    return {"id": entry.id, "name": entry.voice.name, "deleted": True}
