"""Durable async jobs: a SQLite store and a bounded worker pool.

A job's row is written before the API answers, so a restart loses nothing: at start-up,
jobs that were ``running`` are queued again when their audio is still there (an upload
kept under the data directory, or a URL), else marked ``failed`` with the reason; every
``queued`` job is handed to the pool again, oldest first. The pool has a fixed number of
threads; jobs beyond it wait in the queue. Results are stored rendered in every format.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Optional

from .errors import ErrorCode, HearbackError
from .fetch import fetched_audio
from .types import Options
from .writers import FORMATS, render

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,            -- queued, running, succeeded, failed
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    options TEXT NOT NULL,           -- JSON of hearback.types.Options
    audio_path TEXT,                 -- an upload kept under the data directory
    audio_url TEXT,
    stage TEXT,
    progress REAL NOT NULL DEFAULT 0,
    error_code TEXT,
    error TEXT,
    results TEXT                     -- JSON {format: rendered text}
)
"""


class JobStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            self._db.row_factory = sqlite3.Row
            return self._db.execute(sql, args).fetchall()

    def add(self, options: Options, *, audio_path: Optional[Path], audio_url: Optional[str]) -> str:
        job_id = uuid.uuid4().hex
        now = time.time()
        self._run("INSERT INTO jobs (id, status, created_at, updated_at, options, audio_path, audio_url) "
                  "VALUES (?, 'queued', ?, ?, ?, ?, ?)",
                  (job_id, now, now, json.dumps(options.__dict__), str(audio_path) if audio_path else None,
                   audio_url))
        return job_id

    def get(self, job_id: str) -> Optional[dict[str, Any]]:
        rows = self._run("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return dict(rows[0]) if rows else None

    def update(self, job_id: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        columns = ", ".join(f"{name} = ?" for name in fields)
        self._run(f"UPDATE jobs SET {columns} WHERE id = ?", (*fields.values(), job_id))

    def delete(self, job_id: str) -> None:
        self._run("DELETE FROM jobs WHERE id = ?", (job_id,))

    def with_status(self, status: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self._run("SELECT * FROM jobs WHERE status = ? ORDER BY created_at", (status,))]


class JobRunner:
    """Runs jobs from the store on ``workers`` threads; the rest wait in the pool's queue."""

    def __init__(self, store: JobStore, pipeline, settings, workers: int = 1):
        self.store, self.pipeline, self.settings = store, pipeline, settings
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hearback-job")

    def recover(self) -> None:
        """After a restart: resume what can be resumed, fail the rest with a reason."""
        for job in self.store.with_status("running"):
            if job["audio_url"] or (job["audio_path"] and Path(job["audio_path"]).is_file()):
                logger.info("job %s was running when the server stopped: queued again", job["id"])
                self.store.update(job["id"], status="queued", stage=None, progress=0.0)
            else:
                self.store.update(job["id"], status="failed", error_code=ErrorCode.INTERNAL_ERROR,
                                  error="the server stopped while the job ran and its audio is gone")
        for job in self.store.with_status("queued"):
            self.submit(job["id"])

    def submit(self, job_id: str) -> None:
        self.pool.submit(self._run, job_id)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job_id: str) -> None:
        job = self.store.get(job_id)
        if job is None or job["status"] != "queued":
            return  # deleted meanwhile
        self.store.update(job_id, status="running", stage="decode", progress=0.0)
        options = Options(**json.loads(job["options"]))
        last = [0.0]

        def progress(stage: str, fraction: float) -> None:
            if fraction >= 1.0 or time.monotonic() - last[0] > 0.5:
                last[0] = time.monotonic()
                self.store.update(job_id, stage=stage, progress=round(fraction, 3))

        try:
            source = (nullcontext(Path(job["audio_path"])) if job["audio_path"]
                      else fetched_audio(self.settings, url=job["audio_url"]))
            with source as path:
                result = self.pipeline.transcribe_file(path, options, progress)
            results = {fmt: render(result, fmt) for fmt in FORMATS}
            self.store.update(job_id, status="succeeded", stage="done", progress=1.0,
                              results=json.dumps(results))
        except HearbackError as exc:
            self.store.update(job_id, status="failed", error_code=exc.code, error=exc.message)
        except Exception as exc:
            logger.exception("job %s failed", job_id)
            self.store.update(job_id, status="failed", error_code=ErrorCode.INTERNAL_ERROR,
                              error=f"unexpected {type(exc).__name__}")
        finally:
            remove_upload(job)


def remove_upload(job: dict[str, Any]) -> None:
    if job.get("audio_path"):
        Path(job["audio_path"]).unlink(missing_ok=True)


def public_view(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": job["id"], "status": job["status"], "stage": job["stage"], "progress": job["progress"],
        "created_at": job["created_at"], "updated_at": job["updated_at"],
        "error": ({"code": job["error_code"], "message": job["error"]} if job["error_code"] else None),
    }
