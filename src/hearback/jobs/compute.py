"""Where a job's transcription runs, the runner's one seam for it (``JobRunner.compute``):
:class:`LocalCompute` runs the models this process loaded (the local backend);
:class:`hearback.jobs.remote.RemoteCompute` sends the job to a RunPod endpoint. Either gives
back the :class:`~hearback.types.Result` (its diarization with the centroids and clustering
inputs the job keeps) and the known voices the job asked for (:class:`JobSpeakers`)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional, Protocol

from ..types import ProgressHook, Result
from .kept_speakers import JobSpeakers, requested_speakers
from .store import Job


class Compute(Protocol):
    def transcribe(self, job: Job, path: Path, kept: Optional[Path], progress: ProgressHook,
                   cancelled: threading.Event) -> tuple[Result, JobSpeakers]:
        """``job``'s recording at ``path`` transcribed; ``kept`` is its kept folder (the known
        speakers sent with it, removed here once used)."""
        ...


class LocalCompute:
    """The pipeline this process loaded: the job's references enrolled here, then transcribed."""

    def __init__(self, pipeline, settings):
        self.pipeline, self.settings = pipeline, settings

    def transcribe(self, job: Job, path: Path, kept: Optional[Path], progress: ProgressHook,
                   cancelled: threading.Event) -> tuple[Result, JobSpeakers]:
        with requested_speakers(kept, self.pipeline.diarizer, self.settings.max_duration,
                                job.options.diarize) as speakers:
            result = self.pipeline.transcribe_file(path, job.options, progress,
                                                   voices=speakers.voices(self.settings))
        return result, speakers
