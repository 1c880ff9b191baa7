"""A ``/v1/jobs`` job run on a RunPod endpoint (``HEARBACK_BACKEND=runpod``): the job's recording
staged and sent with its known speakers' recordings and the library's voices (as the job chose
them) as embeddings; its remote side (:class:`~hearback.remote.backend.RemoteState`: the remote
id first of all) kept in its row as it goes, so that a restart follows the same remote job
instead of sending the audio again; what comes back kept as a local job keeps it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Optional

from ..remote.backend import RemoteState, Request, RunPodBackend
from ..types import ProgressHook, Result
from .kept_speakers import JobSpeakers, kept_request
from .store import Job, JobStore

logger = logging.getLogger(__name__)


class RemoteCompute:
    def __init__(self, backend: RunPodBackend, store: JobStore, settings):
        self.backend, self.store, self.settings = backend, store, settings

    def transcribe(self, job: Job, path: Path, kept: Optional[Path], progress: ProgressHook,
                   cancelled: threading.Event) -> tuple[Result, JobSpeakers]:
        current = self.store.get(job.id)
        state = RemoteState.from_dict(current.remote if current is not None else None)
        if state.id is not None:
            logger.info("job %s: following remote job %s again (not sent twice)", job.id, state.id)
        with kept_request(kept) as (references, choice):
            voices = choice.voices(self.settings) if job.options.diarize else ()
            outcome = self.backend.transcribe(
                path, Request(job.options, references, voices), job_id=job.id, state=state,
                save=lambda s: self.store.set_remote(job.id, s.to_dict()), progress=progress,
                cancelled=cancelled)
        return outcome.result, JobSpeakers(outcome.voiceprints, choice.use_library, choice.library_names)
