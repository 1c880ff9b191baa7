"""What a ``hearback serve`` job is and keeps, and the workers that run it.

:mod:`~hearback.jobs.job` is what a job is (its row, its status, what the API shows of it);
:mod:`~hearback.jobs.store` the SQLite store that keeps them, with their results, changed as
one transaction with their undo steps and kept voices;
:mod:`~hearback.jobs.runner` the bounded worker pool that runs queued jobs, resumes them after a
restart and sweeps expired ones; :mod:`~hearback.jobs.undo` the undo steps beside the jobs
table; :mod:`~hearback.jobs.playback` the Opus copy the editor plays;
:mod:`~hearback.jobs.voices` each finished job's speaker embeddings and
:mod:`~hearback.jobs.kept_speakers` what a job keeps to name and rediarize its speakers;
:mod:`~hearback.jobs.compute` where a job's transcription runs (the loaded pipeline, or a RunPod
endpoint: :mod:`~hearback.jobs.remote`). May import the floor, the pipeline's stages,
:mod:`hearback.speakers` and :mod:`hearback.remote`; only :mod:`hearback.api` imports it. ``Job``, ``JobStatus`` and ``JobStore`` are named here lazily: importing the package
loads none of its modules.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {"Job": "job", "JobStatus": "job", "JobStore": "store", "JobRunner": "runner"}

__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
