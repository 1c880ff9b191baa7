"""The OpenAI-compatible surface: ``POST /v1/audio/transcriptions`` and ``GET /v1/models``."""

from __future__ import annotations

import asyncio
from typing import Optional

from fastapi import APIRouter, File, Form, UploadFile

from ..fetch import job_tempdir
from ..speakers.references import voices_from_form
from . import openai_format
from .deps import KnownSpeakersDep, OptionsFormDep, PipelineDep, SettingsDep
from .uploads import save_upload

router = APIRouter(prefix="/v1")


@router.post("/audio/transcriptions")
async def transcriptions(
    pipeline: PipelineDep,
    settings: SettingsDep,
    form: OptionsFormDep,
    known: KnownSpeakersDep,
    file: UploadFile = File(...),
    model: str = Form("whisper-1"),  # accepted; the server runs the model it loaded
    response_format: str = Form("json"),
    temperature: float = Form(0.0),  # accepted and ignored
    timestamp_granularities: list[str] = Form(default=[], alias="timestamp_granularities[]"),
    diarize: Optional[bool] = Form(None),
):
    openai_format.check_format(response_format)
    wants_speakers = response_format in openai_format.WITH_SPEAKERS
    options = form.options(diarize=wants_speakers if diarize is None else diarize)
    pipeline.check(options)
    voices = await asyncio.to_thread(voices_from_form, *known, pipeline, settings) if options.diarize else ()
    with job_tempdir() as folder:
        path = folder / "upload"
        await asyncio.to_thread(save_upload, file, path, settings.max_download_bytes)
        result = await asyncio.to_thread(pipeline.transcribe_file, path, options, voices=voices)
    return openai_format.respond(result, response_format, set(timestamp_granularities) or {"segment"})


@router.get("/models")
async def models(settings: SettingsDep):
    name = settings.resolved_whisper_model
    return {"object": "list", "data": [
        {"id": model_id, "object": "model", "created": 0, "owned_by": "hearback"}
        for model_id in dict.fromkeys([name, "whisper-1"])]}
