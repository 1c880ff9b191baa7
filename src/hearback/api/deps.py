"""What routes get from the app, as FastAPI dependencies (set on ``app.state`` at start-up)."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import Depends, Request

from ..errors import ErrorCode, HearbackError
from ..jobs import Job, JobRunner
from ..pipeline import Pipeline
from ..schema import JobOptions, parse
from ..types import Options
from .settings import ServerSettings
from .uploads import UploadForm


def _pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def _jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


def _settings(request: Request) -> ServerSettings:
    return request.app.state.settings


PipelineDep = Annotated[Pipeline, Depends(_pipeline)]
JobsDep = Annotated[JobRunner, Depends(_jobs)]
SettingsDep = Annotated[ServerSettings, Depends(_settings)]


def _job(job_id: str, jobs: JobsDep) -> Job:
    job = jobs.store.get(job_id)
    if job is None:
        raise HearbackError(ErrorCode.NOT_FOUND, f"no job {job_id}")
    return job


#: The job named by the route's ``{job_id}``, or 404 ``not_found``.
JobDep = Annotated[Job, Depends(_job)]


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def form_flag(form: UploadForm, name: str) -> Optional[bool]:
    """A boolean form field (true/false, 1/0, yes/no, on/off); None when absent."""
    value = form.value(name)
    if value is None:
        return None
    if value.strip().lower() not in _TRUE + _FALSE:
        raise HearbackError(ErrorCode.INVALID_INPUT, f"{name}: must be true or false")
    return value.strip().lower() in _TRUE


def _form_int(form: UploadForm, name: str) -> Optional[int]:
    value = form.value(name)
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise HearbackError(ErrorCode.INVALID_INPUT, f"{name}: must be an integer") from None


def form_options(form: UploadForm, *, diarize: bool) -> Options:
    """The job options both transcription routes take as form fields (the same codes as
    RunPod input: ``hearback.schema``): language, prompt, min/max/num_speakers."""
    return parse(JobOptions, {
        "language": form.value("language") or "auto", "initial_prompt": form.value("prompt"),
        **{name: _form_int(form, name) for name in ("min_speakers", "max_speakers", "num_speakers")},
        "diarize": diarize,
    }).to_options()
