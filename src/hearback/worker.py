"""The RunPod serverless handler: one job in, one JSON document out, never a crash.

The only module that imports runpod's worker runtime. Models load once per
process (on the first job, or at start-up from ``src/handler.py``) and are
reused by every job. A job names its ``task`` (:data:`hearback.schema.TASKS`): ``transcribe``
(the default), ``enrol`` (a voiceprint from recordings) or ``rediarize`` (speakers found again
from a transcription's diarization inputs); what the last two answer, and a transcription's
``extras``, are :mod:`hearback.remote.wire`'s shapes.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from typing import Any, Optional

from .audio.decode import decode
from .audio.fetch import fetched_audio
from .document import result_to_dict
from .errors import ErrorCode, HearbackError, as_error
from .pipeline import Pipeline
from .remote import wire
from .runtime import tempdirs
from .runtime.device import is_device_fault
from .runtime.progress import throttled
from .schema import EnrolInput, HandlerInput, RediarizeInput, parse_task
from .settings import Settings, get_settings
from .speakers.references import known_voices, voices_from_sources
from .speakers.voiceprint import enrol
from .types import ProgressHook, Result, Stage
from .writers import SUBTITLE_FORMATS, ExportOptions, get_writer

logger = logging.getLogger(__name__)

_pipeline: Optional[Pipeline] = None
_pipeline_lock = threading.Lock()


def get_pipeline(settings: Optional[Settings] = None) -> Pipeline:
    """The process-wide pipeline, loaded on first use."""
    global _pipeline
    with _pipeline_lock:
        if _pipeline is None:
            _pipeline = Pipeline.load(settings or get_settings())
        return _pipeline


def set_pipeline(pipeline: Optional[Pipeline]) -> None:
    """Use an already loaded pipeline (tests and embedders share one)."""
    global _pipeline
    with _pipeline_lock:
        _pipeline = pipeline


def handler(job: dict[str, Any]) -> dict[str, Any]:
    """Run one RunPod job. Errors come back as ``{"error": "<code>: <message>", "error_code"}``."""
    started = time.perf_counter()
    job_id = job.get("id", "-")
    try:
        request = parse_task(job.get("input"))
        return TASKS[request.task](request, job, started)
    except Exception as exc:  # a bad input, a bug or a device fault: report it, keep the worker alive
        error = as_error(exc, f"job {job_id}")
        out: dict[str, Any] = error.to_dict()
        if error is not exc and is_device_fault(exc):
            out["refresh_worker"] = True  # ask RunPod for a fresh worker
        return out


def transcribe(request: HandlerInput, job: dict[str, Any], started: float) -> dict[str, Any]:
    """Task ``transcribe``: the document (or an export), and the ``extras`` asked for."""
    pipeline = get_pipeline()
    options = request.to_options()
    pipeline.check(options)
    enrolled = voices_from_sources(request.known_speakers, pipeline) if options.diarize else ()
    voices = known_voices(request, enrolled, pipeline.settings) if options.diarize else ()
    with fetched_audio(pipeline.settings, url=request.audio_url,
                       data_base64=request.audio_base64) as path:
        result = pipeline.transcribe_file(path, options, _progress_hook(job), voices=voices)
    output = build_output(result, request.output_format, time.perf_counter() - started,
                          request.to_export())
    if request.extras:
        output["extras"] = wire.transcription_extras(result, enrolled, request.extras)
    logger.info("job %s done: %.1f s of audio in %.1f s", job.get("id", "-"), result.duration,
                output["processing_time"])
    return output


def enrol_voice(request: EnrolInput, job: dict[str, Any], started: float) -> dict[str, Any]:
    """Task ``enrol``: the person's voiceprint (``extras.voiceprints``, one), nothing stored."""
    pipeline = get_pipeline()
    if pipeline.diarizer is None:
        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, "diarization is not loaded in this process")
    audio = []
    for reference in request.references:
        with fetched_audio(pipeline.settings, url=reference.audio_url,
                           data_base64=reference.audio_base64) as path:
            audio.append(decode(path, max_duration=pipeline.settings.max_duration))
    voice = enrol(request.name, audio, pipeline.diarizer)
    return {"extras": wire.task_extras(voiceprints=[wire.voiceprint_to_dict(voice)]),
            "processing_time": round(time.perf_counter() - started, 3)}


def rediarize(request: RediarizeInput, job: dict[str, Any], started: float) -> dict[str, Any]:
    """Task ``rediarize``: the speakers found again (``extras.diarization``), labels
    ``SPEAKER_xx``; naming them and giving them the words is the caller's."""
    pipeline = get_pipeline()
    if pipeline.diarizer is None:
        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, "diarization is not loaded in this process")
    inputs = wire.inputs_from_extra(request.diarization_inputs.model_dump())
    diarization = pipeline.diarizer.rediarize(inputs, num_speakers=request.num_speakers,
                                              min_speakers=request.min_speakers,
                                              max_speakers=request.max_speakers)
    return {"extras": wire.task_extras(diarization=wire.diarization_to_dict(diarization)),
            "processing_time": round(time.perf_counter() - started, 3)}


#: each task (``hearback.schema.TASKS``) -> the function that runs it
TASKS = {"transcribe": transcribe, "enrol": enrol_voice, "rediarize": rediarize}


def build_output(result: Result, output_format: str, processing_time: float,
                 export: Optional[ExportOptions] = None) -> dict[str, Any]:
    """The job output: the JSON document, or the export plus the same metadata: text formats
    in ``subtitles`` (SRT/VTT with their ``subtitle_lint``), binary ones in ``file_base64``."""
    document = result_to_dict(result)
    if output_format == "json":
        output = document
    else:
        output = {k: v for k, v in document.items() if k != "transcription"}
        writer = get_writer(output_format, export)  # one writer: SRT/VTT and their lint share the cues
        if writer.binary:
            output["file_base64"] = base64.b64encode(writer.to_bytes(result)).decode("ascii")
        else:
            output["subtitles"] = writer.to_text(result)
        if output_format in SUBTITLE_FORMATS:
            output["subtitle_lint"] = writer.lint(result).to_dict()
    output["output_format"] = output_format
    output["processing_time"] = round(processing_time, 3)
    return output


def _progress_hook(job: dict[str, Any]) -> ProgressHook:
    """Send stage progress to RunPod (only on the platform), at most one update per 5 %."""
    on_platform = bool(os.environ.get("RUNPOD_WEBHOOK_POST_OUTPUT"))

    def report(stage: Stage, fraction: float) -> None:
        logger.debug("job %s: %s %.0f%%", job.get("id", "-"), stage, 100 * fraction)
        if on_platform:
            from runpod.serverless import progress_update

            progress_update(job, {"stage": stage.value, "progress": round(fraction, 3)})

    return throttled(report, min_step=0.05)


def start() -> None:
    """Load the models, then hand control to RunPod's worker loop."""
    import runpod

    tempdirs.sweep()
    get_pipeline()
    _use_our_errors_in_the_local_api()
    runpod.serverless.start({"handler": handler})


def _use_our_errors_in_the_local_api() -> None:
    """runpod's local API server (``--rp_serve_api``) checks ``input`` is an object itself and
    answers FastAPI's 422 ``{"detail"}``; answer as any failed job instead, with
    ``invalid_input`` (what the platform gets from :func:`handler` for the same input)."""
    import uuid

    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from runpod.serverless.modules import rp_fastapi

    async def invalid_request(_request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        error = HearbackError(ErrorCode.INVALID_INPUT, f"{where}: {first.get('msg', 'invalid request')}")
        return JSONResponse({"id": f"local-{uuid.uuid4()}", "status": "FAILED", **error.to_dict()})

    class WorkerAPI(rp_fastapi.WorkerAPI):
        def __init__(self, config: dict[str, Any]):
            super().__init__(config)
            self.rp_app.add_exception_handler(RequestValidationError, invalid_request)

    rp_fastapi.WorkerAPI = WorkerAPI
