"""HTTP API: an OpenAI-compatible transcription endpoint on your own machine.

    hearback serve [--host H] [--port P]     (or: uvicorn --factory hearback.api:create_app)

``create_app(settings)`` builds the FastAPI app; models load once at start-up and are shared.
Routes: ``POST /v1/audio/transcriptions`` (OpenAI's shapes; extensions ``min_speakers``,
``max_speakers``, ``num_speakers``, ``diarize``), ``GET /v1/models``, ``GET /health``, and
durable async jobs (``/v1/jobs``, see jobs.py).
Errors use OpenAI's shape ``{"error": {"message", "type", "code"}}``. With ``HEARBACK_API_KEY``
set, every route but /health needs ``Authorization: Bearer <key>`` (compared in constant time).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import uuid
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Optional

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import Field

from .errors import HTTP_STATUS, ErrorCode, HearbackError
from .fetch import job_tempdir
from .schema import JobOptions, parse
from .settings import Settings
from .jobs import JobRunner, JobStore, public_view, remove_upload
from .types import Result
from .writers import render

logger = logging.getLogger(__name__)

RESPONSE_FORMATS = ("json", "text", "srt", "vtt", "verbose_json", "diarized_json")


def _default_cache() -> Path:
    return Settings().model_cache_dir


class ServerSettings(Settings):
    """Settings of the HTTP server, on top of the pipeline's (environment variables)."""

    hearback_api_key: Optional[str] = Field(None, description="Bearer token; unset = no auth")
    hearback_host: Optional[str] = Field(
        None, description="Bind address; default 127.0.0.1 without an API key, 0.0.0.0 with one")
    hearback_port: int = 8080
    hearback_workers: int = Field(1, ge=1, description="jobs run at once; the rest queue")
    hearback_db: Path = Field(default_factory=lambda: _default_cache() / "jobs.sqlite3")
    hearback_data_dir: Path = Field(default_factory=lambda: _default_cache() / "job-audio")

    @property
    def bind_host(self) -> str:
        if self.hearback_host:
            return self.hearback_host
        return "0.0.0.0" if self.hearback_api_key else "127.0.0.1"


def create_app(settings: Optional[ServerSettings] = None, *, pipeline=None) -> FastAPI:
    """The app. ``pipeline`` lets a caller share models it already loaded."""
    settings = settings or ServerSettings()
    state: dict[str, Any] = {"pipeline": pipeline}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if state["pipeline"] is None:
            from .pipeline import Pipeline

            state["pipeline"] = await asyncio.to_thread(Pipeline.load, settings)
        store = JobStore(settings.hearback_db)
        state["jobs"] = JobRunner(store, state["pipeline"], settings, settings.hearback_workers)
        state["jobs"].recover()
        yield
        state["jobs"].shutdown()

    app = FastAPI(title="Hearback", version="0.1.0", lifespan=lifespan)

    @app.middleware("http")
    async def authenticate(request: Request, call_next):
        key = settings.hearback_api_key
        if key and request.url.path != "/health":
            given = request.headers.get("authorization", "")
            expected = f"Bearer {key}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return _error(401, "invalid_api_key", "missing or wrong API key (Authorization: Bearer …)",
                              "authentication_error")
        return await call_next(request)

    @app.exception_handler(HearbackError)
    async def hearback_error(_request: Request, exc: HearbackError):
        return _error(HTTP_STATUS.get(exc.code, 500), exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(400, ErrorCode.INVALID_INPUT, f"{field}: {first.get('msg')}")

    @app.get("/health")
    async def health():
        if state["pipeline"] is None:
            return JSONResponse({"status": "loading"}, status_code=503)
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models():
        name = settings.resolved_whisper_model
        return {"object": "list", "data": [
            {"id": model_id, "object": "model", "created": 0, "owned_by": "hearback"}
            for model_id in dict.fromkeys([name, "whisper-1"])]}

    @app.post("/v1/audio/transcriptions")
    async def transcriptions(
        file: UploadFile = File(...),
        model: str = Form("whisper-1"),
        language: Optional[str] = Form(None),
        prompt: Optional[str] = Form(None),
        response_format: str = Form("json"),
        temperature: float = Form(0.0),
        timestamp_granularities: list[str] = Form(default=[], alias="timestamp_granularities[]"),
        min_speakers: Optional[int] = Form(None),
        max_speakers: Optional[int] = Form(None),
        num_speakers: Optional[int] = Form(None),
        diarize: Optional[bool] = Form(None),
    ):
        if response_format not in RESPONSE_FORMATS:
            raise HearbackError(ErrorCode.UNSUPPORTED_FORMAT,
                                f"response_format must be one of {', '.join(RESPONSE_FORMATS)}")
        wants_speakers = response_format in ("diarized_json", "srt", "vtt", "verbose_json")
        request = parse(JobOptions, {
            "language": language or "auto", "initial_prompt": prompt,
            "min_speakers": min_speakers, "max_speakers": max_speakers, "num_speakers": num_speakers,
            "diarize": wants_speakers if diarize is None else diarize,
        })
        options = request.to_options()
        pipeline = state["pipeline"]
        pipeline.check(options)
        with job_tempdir() as folder:
            path = folder / "upload"
            await asyncio.to_thread(_save_upload, file, path, settings.max_download_bytes)
            result = await asyncio.to_thread(pipeline.transcribe_file, path, options)
        return _openai_response(result, response_format, set(timestamp_granularities) or {"segment"})

    @app.post("/v1/jobs", status_code=202)
    async def create_job(
        file: Optional[UploadFile] = File(None),
        audio_url: Optional[str] = Form(None),
        language: Optional[str] = Form(None),
        prompt: Optional[str] = Form(None),
        min_speakers: Optional[int] = Form(None),
        max_speakers: Optional[int] = Form(None),
        num_speakers: Optional[int] = Form(None),
        diarize: bool = Form(True),
    ):
        if (file is None) == (audio_url is None):
            raise HearbackError(ErrorCode.MISSING_AUDIO if file is None else ErrorCode.INVALID_INPUT,
                                "give one of file or audio_url")
        options = parse(JobOptions, {
            "language": language or "auto", "initial_prompt": prompt, "diarize": diarize,
            "min_speakers": min_speakers, "max_speakers": max_speakers, "num_speakers": num_speakers,
        }).to_options()
        state["pipeline"].check(options)
        upload = None
        if file is not None:
            settings.hearback_data_dir.mkdir(parents=True, exist_ok=True)
            upload = settings.hearback_data_dir / uuid.uuid4().hex
            try:
                await asyncio.to_thread(_save_upload, file, upload, settings.max_download_bytes)
            except BaseException:
                upload.unlink(missing_ok=True)
                raise
        runner: JobRunner = state["jobs"]
        job_id = runner.store.add(options, audio_path=upload, audio_url=audio_url)
        runner.submit(job_id)
        return public_view(runner.store.get(job_id))

    @app.get("/v1/jobs/{job_id}")
    async def get_job(job_id: str):
        return public_view(_job(job_id))

    @app.get("/v1/jobs/{job_id}/result")
    async def job_result(job_id: str, format: str = "json"):
        job = _job(job_id)
        if job["status"] != "succeeded":
            return _error(409, "job_not_done", f"the job is {job['status']}")
        results = json.loads(job["results"])
        if format not in results:
            raise HearbackError(ErrorCode.UNSUPPORTED_FORMAT, f"format must be one of {', '.join(results)}")
        if format == "json":
            return JSONResponse(json.loads(results["json"]))
        return PlainTextResponse(results[format])

    @app.delete("/v1/jobs/{job_id}")
    async def delete_job(job_id: str):
        job = _job(job_id)
        state["jobs"].store.delete(job_id)
        if job["status"] != "running":  # a running job removes its own upload when it ends
            remove_upload(job)
        return {"id": job_id, "deleted": True}

    def _job(job_id: str) -> dict[str, Any]:
        job = state["jobs"].store.get(job_id)
        if job is None:
            raise _NotFound(job_id)
        return job

    @app.exception_handler(_NotFound)
    async def not_found(_request: Request, exc: "_NotFound"):
        return _error(404, "not_found", f"no job {exc.args[0]}")

    return app


class _NotFound(Exception):
    pass


def _save_upload(upload: UploadFile, target: Path, cap: int) -> None:
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > cap:
                raise HearbackError(ErrorCode.AUDIO_TOO_LARGE, f"the upload is larger than {cap} bytes")
            out.write(chunk)
    if written == 0:
        raise HearbackError(ErrorCode.INVALID_AUDIO, "the uploaded file is empty")


def _openai_response(result: Result, response_format: str, granularities: set[str]):
    if response_format == "text":
        return PlainTextResponse(result.text + "\n")
    if response_format in ("srt", "vtt"):
        return PlainTextResponse(render(result, response_format))
    if response_format == "json":
        return {"text": result.text}
    if response_format == "diarized_json":
        return {
            "task": "transcribe", "duration": result.duration, "text": result.text,
            "segments": [
                {"type": "transcript.text.segment", "id": f"seg_{i}", "start": s.start, "end": s.end,
                 "text": s.text, "speaker": s.speaker or "SPEAKER_00"}
                for i, s in enumerate(result.segments)],
            "usage": {"type": "duration", "seconds": result.duration},
        }
    verbose: dict[str, Any] = {
        "task": "transcribe", "language": _language_name(result.language),
        "duration": result.duration, "text": result.text,
    }
    if "segment" in granularities:
        verbose["segments"] = [
            {"id": i, "seek": 0, "start": s.start, "end": s.end, "text": s.text, "tokens": [],
             "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0, "no_speech_prob": 0.0,
             "speaker": s.speaker}
            for i, s in enumerate(result.segments)]
    if "word" in granularities:
        verbose["words"] = [{"word": w.word, "start": w.start, "end": w.end, "speaker": w.speaker}
                            for s in result.segments for w in s.words]
    return verbose


def _language_name(code: str) -> str:
    """OpenAI's verbose_json names the language ("english"), as Whisper does."""
    names = {"en": "english", "fr": "french", "de": "german", "es": "spanish", "it": "italian",
             "pt": "portuguese", "nl": "dutch", "ja": "japanese", "zh": "chinese", "ru": "russian"}
    return names.get(code, code)


def _error(status: int, code: str, message: str, kind: Optional[str] = None) -> JSONResponse:
    kind = kind or ("invalid_request_error" if status < 500 else "server_error")
    return JSONResponse({"error": {"message": f"{code}: {message}", "type": kind, "code": code}},
                        status_code=status)


def serve(host: Optional[str] = None, port: Optional[int] = None) -> None:
    import uvicorn

    settings = ServerSettings()
    uvicorn.run(create_app(settings), host=host or settings.bind_host, port=port or settings.hearback_port)

