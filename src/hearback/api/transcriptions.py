"""The OpenAI-compatible surface: ``POST /v1/audio/transcriptions`` and ``GET /v1/models``.

The form (``file``, ``model``, ``language``, ``prompt``, ``response_format``, ``temperature``,
``timestamp_granularities[]``, ``diarize``, speaker bounds) is read by ``api.uploads`` as it
streams in, the file straight to its one temporary copy.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..errors import ErrorCode, HearbackError
from ..runtime.tempdirs import job_tempdir
from ..speakers.references import voices_from_form
from . import openai_format
from .deps import EXPORT_FIELDS, PipelineDep, SettingsDep, form_export, form_flag, form_options, known_speakers
from .uploads import OPTION_FIELDS, UploadForm, form_schema, read_form

router = APIRouter(prefix="/v1")


@router.post("/audio/transcriptions", openapi_extra=form_schema(
    "model", "response_format", "temperature", "timestamp_granularities[]", *OPTION_FIELDS,
    *EXPORT_FIELDS, "known_speaker_names[]", "known_speaker_references[]", "use_library",
    file_required=True))
async def transcriptions(request: Request, pipeline: PipelineDep, settings: SettingsDep):
    with job_tempdir() as folder:
        form = await read_form(request, folder / "upload", settings.max_download_bytes)
        if form.file is None:
            raise HearbackError(ErrorCode.MISSING_AUDIO, "give the audio as the form's file")
        response_format = form.value("response_format") or "json"
        openai_format.check_format(response_format)
        _check_temperature(form)  # accepted and ignored; `model` too: the server runs its own
        export = form_export(form)
        diarize = form_flag(form, "diarize")
        wants_speakers = response_format in openai_format.WITH_SPEAKERS
        options = form_options(form, diarize=wants_speakers if diarize is None else diarize)
        pipeline.check(options)
        use_library = form_flag(form, "use_library") is not False
        voices = (await asyncio.to_thread(voices_from_form, *known_speakers(form), pipeline, settings,
                                          use_library) if options.diarize else ())
        result = await asyncio.to_thread(pipeline.transcribe_file, form.file, options, voices=voices)
    granularities = set(form.values("timestamp_granularities[]")) or {"segment"}
    return await asyncio.to_thread(_answer, result, response_format, granularities, export)


def _answer(result, response_format: str, granularities: set[str], export) -> Response:
    """The response, rendered (in a worker thread: never on the event loop)."""
    answer = openai_format.respond(result, response_format, granularities, export)
    return answer if isinstance(answer, Response) else JSONResponse(answer)


def _check_temperature(form: UploadForm) -> None:
    value = form.value("temperature")
    try:
        float(value) if value is not None else None
    except ValueError:
        raise HearbackError(ErrorCode.INVALID_INPUT, "temperature: must be a number") from None


@router.get("/models")
async def models(settings: SettingsDep):
    name = settings.resolved_whisper_model
    return {"object": "list", "data": [
        {"id": model_id, "object": "model", "created": 0, "owned_by": "hearback"}
        for model_id in dict.fromkeys([name, "whisper-1"])]}
