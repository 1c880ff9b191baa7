"""What a ``hearback serve`` job is: its row in the jobs table (``JobStore`` keeps them), its
status, and what the API shows of it."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Optional

from ..types import Options

logger = logging.getLogger(__name__)


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for a worker thread
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # results stored in every format
    FAILED = "failed"  # error_code and error say why


#: Under the data directory: one folder per finished job for what it keeps (``JobRunner.kept_folder``).
KEPT = "kept"

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,            -- a JobStatus
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    options TEXT NOT NULL,           -- JSON of hearback.types.Options
    audio_path TEXT,                 -- an upload kept under the data directory
    audio_url TEXT,
    stage TEXT,
    progress REAL NOT NULL DEFAULT 0,
    error_code TEXT,
    error TEXT,
    results TEXT                     -- the result's JSON document (writers.result_to_dict)
)
"""

#: Columns added since the table was first made: added to an older database when it is opened.
ADDED = {
    "filename": "TEXT",  # the upload's file name, or the URL's last path part
    "duration": "REAL",  # seconds of audio, once the job succeeded
    "speakers": "INTEGER",  # how many speakers the result has, once the job succeeded
    "revision": "INTEGER NOT NULL DEFAULT 0",  # the result's revision: +1 at every change, undo included
    "undo_steps": "INTEGER NOT NULL DEFAULT 0",  # changes to the result that can be undone (at most 100)
    "stages": "TEXT",  # the stages the job has run so far, in order, comma-separated
    "remote": "TEXT",  # JSON: the job on a RunPod endpoint (hearback.remote.backend.RemoteState)
}

#: The columns a :class:`Job` is read from (not ``results``: read on demand, it can be large).
COLUMNS = ("id", "status", "created_at", "updated_at", "options", "audio_path", "audio_url",
            "stage", "progress", "error_code", "error", *ADDED)


@dataclass(frozen=True)
class Job:
    """One row of the job store, without its (possibly large) results."""

    id: str  # 32 hex characters
    status: JobStatus
    created_at: float  # seconds since the epoch
    updated_at: float
    options: Options  # what the job asked for
    audio_path: Optional[Path]  # an upload under the data directory, deleted when the job ends
    audio_url: Optional[str]  # or a URL fetched when the job runs
    stage: Optional[str]  # a Stage while running, "done" once succeeded
    progress: float  # 0..1 within ``stage``
    error_code: Optional[str]  # an ErrorCode when failed
    error: Optional[str]  # its message
    filename: Optional[str]  # the upload's file name, or the URL's last path part
    duration: Optional[float]  # seconds of audio, once succeeded
    speakers: Optional[int]  # how many speakers the result has, once succeeded
    revision: int  # the result's revision: 0 as the job made it, +1 at every change (undo included)
    undo_steps: int  # changes to the result (edits, speaker fixes) that can be undone, at most 100
    stages: Optional[str]  # the stages it has run so far, comma-separated (None: made before they were kept)
    remote: Optional[dict[str, Any]] = None  # its remote side, on the runpod backend (RemoteState)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Job":
        values = dict(zip(COLUMNS, row))
        values["status"] = JobStatus(values["status"])
        values["options"] = Options(**json.loads(values["options"]))
        values["audio_path"] = Path(values["audio_path"]) if values["audio_path"] else None
        values["remote"] = json.loads(values["remote"]) if values["remote"] else None
        return cls(**values)

    def public_view(self, *, audio: bool = False) -> dict[str, Any]:
        """What the API shows of a job; ``audio``: its playback audio is kept."""
        return {
            "id": self.id, "status": self.status.value, "stage": self.stage, "progress": self.progress,
            "created_at": self.created_at, "updated_at": self.updated_at,
            "error": {"code": self.error_code, "message": self.error} if self.error_code else None,
            "filename": self.filename, "duration": self.duration, "speakers": self.speakers,
            "revision": self.revision, "undo_steps": self.undo_steps, "audio": audio,
            "stages": self.stages.split(",") if self.stages else None,
            "remote": _remote_view(self.remote),
        }

    def remove_upload(self) -> None:
        if self.audio_path is not None:
            self.audio_path.unlink(missing_ok=True)


def _remote_view(remote: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """What the API shows of a job's remote side (None on the local backend): never a bucket key."""
    if remote is None:
        return None
    return {k: remote.get(k) for k in ("id", "status", "transport", "delay_time", "execution_time", "cost")}
