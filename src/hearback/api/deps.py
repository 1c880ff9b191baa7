"""What routes get from the app, as FastAPI dependencies (set on ``app.state`` at start-up)."""

from __future__ import annotations

import inspect
from typing import Annotated, Mapping, Optional

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from ..errors import ErrorCode, HearbackError
from ..jobs.runner import JobRunner
from ..jobs.store import Job, JobStatus
from ..pipeline import Pipeline
from ..schema import ExportFields, JobOptions, parse
from ..types import Options
from ..writers import ExportOptions
from .settings import ServerSettings
from .uploads import OPTION_FIELDS, UploadForm


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


def _succeeded_job(job: JobDep) -> Job:
    if job.status != JobStatus.SUCCEEDED:
        raise HearbackError(ErrorCode.JOB_NOT_DONE, f"the job is {job.status}")
    return job


#: The route's job once it succeeded (its result can be read, edited, undone), or 409 ``job_not_done``.
SucceededJobDep = Annotated[Job, Depends(_succeeded_job)]


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
    return _form_value(form, name, int, "an integer")


def _form_number(form: UploadForm, name: str) -> Optional[float]:
    return _form_value(form, name, float, "a number")


def _form_value(form: UploadForm, name: str, kind: type, what: str):
    """A form field read as ``kind`` (int, float); None when absent or blank."""
    value = form.value(name)
    if value is None or not value.strip():
        return None
    try:
        return kind(value)
    except ValueError:
        raise HearbackError(ErrorCode.INVALID_INPUT, f"{name}: must be {what}") from None


def _form_fields(form: UploadForm, model: type[BaseModel], names: Mapping[str, str]) -> dict:
    """The fields of ``model`` a form gives (``names``: form field -> model field), each read
    as its annotation says (a flag, an integer, a number or text); absent ones left out."""
    fields = {}
    for form_name, name in names.items():
        kind = model.model_fields[name].annotation
        if kind in (bool, Optional[bool]):
            value = form_flag(form, form_name)
        elif kind in (int, Optional[int]):
            value = _form_int(form, form_name)
        elif kind in (float, Optional[float]):
            value = _form_number(form, form_name)
        else:
            value = form.value(form_name)
        if value is not None:
            fields[name] = value
    return fields


def form_options(form: UploadForm, *, diarize: bool) -> Options:
    """The job options both transcription routes take as form fields (the same codes as
    RunPod input: ``hearback.schema``), ``diarize`` as the route decided it."""
    names = {form_name: name for form_name, name in OPTION_FIELDS.items() if name != "diarize"}
    return parse(JobOptions, {**_form_fields(form, JobOptions, names), "diarize": diarize}).to_options()


#: The export fields a transcription form may carry (``hearback.schema.ExportFields``).
EXPORT_FIELDS = tuple(ExportFields.model_fields)


def form_export(form: UploadForm, title: str = "transcript") -> ExportOptions:
    """How exports of a transcription request look, from its form fields."""
    return parse(ExportFields, _form_fields(form, ExportFields, {n: n for n in EXPORT_FIELDS})).to_export(title)


def _export_fields(param):
    """A dependency reading :class:`~hearback.schema.ExportFields` from form fields or the
    query (``param``): one parameter per field, with its type and default."""

    def read(**given) -> ExportOptions:
        return parse(ExportFields, {k: v for k, v in given.items() if v is not None}).to_export()

    read.__signature__ = inspect.Signature([
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=param(field.default),
                          annotation=field.annotation)
        for name, field in ExportFields.model_fields.items()])
    return read


#: export options sent in the query (``GET /v1/jobs/{id}/result``)
ExportQueryDep = Annotated[ExportOptions, Depends(_export_fields(Query))]


def known_speakers(form: UploadForm) -> tuple[list[str], list[str]]:
    """OpenAI's ``known_speaker_names`` and ``known_speaker_references`` (data URLs) form
    fields, each with or without ``[]`` (the openai SDK sends ``name[]``)."""

    return form_list(form, "known_speaker_names"), form_list(form, "known_speaker_references")


def form_list(form: UploadForm, name: str) -> list[str]:
    """A repeated form field, with or without ``[]`` (the openai SDK sends ``name[]``)."""
    return [v for key in (name, f"{name}[]") for v in form.values(key)]
