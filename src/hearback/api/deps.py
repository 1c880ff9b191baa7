"""What routes get from the app, as FastAPI dependencies (set on ``app.state`` at start-up)."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import Depends, Form, Query, Request

from ..errors import ErrorCode, HearbackError
from ..jobs import Job, JobRunner
from ..pipeline import Pipeline
from ..presets import DEFAULT_PRESET
from ..schema import ExportFields, JobOptions, parse
from ..writers import ExportOptions
from ..types import Options
from .settings import ServerSettings


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


class _OptionsForm:
    """The job options both transcription routes take as form fields (the same codes as
    RunPod input: ``hearback.schema``)."""

    def __init__(self, language: Optional[str] = Form(None), prompt: Optional[str] = Form(None),
                 min_speakers: Optional[int] = Form(None), max_speakers: Optional[int] = Form(None),
                 num_speakers: Optional[int] = Form(None)):
        self.fields = {"language": language or "auto", "initial_prompt": prompt,
                       "min_speakers": min_speakers, "max_speakers": max_speakers,
                       "num_speakers": num_speakers}

    def options(self, *, diarize: bool) -> Options:
        return parse(JobOptions, {**self.fields, "diarize": diarize}).to_options()


OptionsFormDep = Annotated[_OptionsForm, Depends()]


def _export_fields(param):
    """A dependency reading :class:`~hearback.schema.ExportFields` from form fields or the query."""

    def read(subtitle_style: str = param(DEFAULT_PRESET), max_line_chars: Optional[int] = param(None),
             max_lines: Optional[int] = param(None), min_cue_seconds: Optional[float] = param(None),
             max_cue_seconds: Optional[float] = param(None), max_cps: Optional[float] = param(None),
             min_gap_seconds: Optional[float] = param(None), speaker_labels: str = param("bracket"),
             highlight_words: bool = param(False)) -> ExportOptions:
        given = dict(locals())
        fields = {k: v for k, v in given.items() if v is not None}
        return parse(ExportFields, fields).to_export()

    return read


#: export options sent as form fields (``POST /v1/audio/transcriptions``)
ExportFormDep = Annotated[ExportOptions, Depends(_export_fields(Form))]
#: export options sent in the query (``GET /v1/jobs/{id}/result``)
ExportQueryDep = Annotated[ExportOptions, Depends(_export_fields(Query))]
