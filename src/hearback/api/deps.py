"""What routes get from the app, as FastAPI dependencies (set on ``app.state`` at start-up)."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import Depends, Form, Request

from ..errors import ErrorCode, HearbackError
from ..jobs import Job, JobRunner
from ..pipeline import Pipeline
from ..schema import JobOptions, parse
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


async def _known_speakers(request: Request) -> tuple[list[str], list[str]]:
    """OpenAI's ``known_speaker_names`` and ``known_speaker_references`` (data URLs) form
    fields, each with or without ``[]`` (the openai SDK sends ``name[]``)."""
    form = await request.form()

    def values(name: str) -> list[str]:
        return [str(v) for key in (name, f"{name}[]") for v in form.getlist(key)]

    return values("known_speaker_names"), values("known_speaker_references")


#: (names, references) of the request's known speakers, both possibly empty.
KnownSpeakersDep = Annotated[tuple[list[str], list[str]], Depends(_known_speakers)]
