"""Durable async jobs: the SQLite store that keeps them (what a job is: ``hearback.jobs.job``;
the worker pool that runs them: ``hearback.jobs.runner``).

A job's row is written before the API answers, so a restart loses nothing: at start-up,
jobs that were ``running`` are queued again when their audio is still there (an upload
kept under the data directory, or a URL), else marked ``failed`` with the reason; every
``queued`` job is handed to the pool again, oldest first. The pool has a fixed number of
threads; jobs beyond it wait in the queue. A result is stored once, as the JSON document, and
every export is rendered from it when asked for (``writers.result_from_dict``).
A job's audio source (upload path, URL) is forgotten when the job ends; ended jobs are deleted
after the retention time; uploads no job owns (a crash mid-upload) are removed at start-up.
A succeeded job may keep a small copy of its audio for playback (``playback``, its own
retention) and the undo steps of edits to its result (``history``); both go with the job.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

from ..document import result_from_dict, result_to_dict
from ..errors import ErrorCode, HearbackError
from ..types import DONE, Options, Result, Stage
from . import undo, voices
from .job import ADDED, COLUMNS, KEPT, SCHEMA, Job, JobStatus
from .voices import JobVoices, Voices

__all__ = ["KEPT", "Change", "Job", "JobStatus", "JobStore", "Revised"]

logger = logging.getLogger(__name__)

#: jobs whose latest result is kept in memory (those being edited)
_RECENT = 4


class Revised:
    """A finished job's result as stored: its JSON document as text (answered as it is), its
    revision (0 as the job made it; every change, undo included, makes a new one, never given
    twice) and the changes that can be undone now; the :class:`Result` is read from the
    document when first asked for."""

    def __init__(self, document: str, revision: int, undo_steps: int, result: Optional[Result] = None):
        self.document, self.revision, self.undo_steps = document, revision, undo_steps
        self._result = result

    @property
    def result(self) -> Result:
        if self._result is None:
            self._result = result_from_dict(json.loads(self.document))
        return self._result


@dataclass(frozen=True)
class Change:
    """A new result for a job, and what its kept speaker embeddings do with it."""

    result: Result
    #: speaker moves (old -> new: renames, merges) the kept embeddings follow, in order
    moves: tuple[Mapping[str, str], ...] = ()
    #: embeddings that replace the kept ones (a rediarization's centroids); None: kept ones stay
    voices: Optional[Voices] = None
    #: ``result``'s JSON document as text when the change made it already (to check it); None: made here
    text: Optional[str] = None


def _current(document: dict[str, Any]) -> dict[str, Any]:
    """A stored document as this version writes it."""
    if "transcription" not in document:  # stored before 0.2: every format rendered
        return json.loads(document["json"])
    return document


def _check_revision(given: Optional[int], now: int) -> None:
    if given is not None and given != now:
        raise HearbackError(ErrorCode.STALE_REVISION,
                            f"the transcript changed since revision {given} (it is at {now}): reload it, then try again")


class JobStore:
    """The jobs table, its undo steps and its kept speaker embeddings (``voices``). Every
    method is one statement or one transaction, safe from any thread: a change to a result
    writes the result, its undo step and the embeddings that follow it in one transaction."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(SCHEMA)
        have = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for name, kind in ADDED.items():
            if name not in have:
                try:
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
                except sqlite3.OperationalError as exc:  # another process opening it added it first
                    if "duplicate column" not in str(exc):
                        raise
        self._db.execute("PRAGMA secure_delete = ON")
        self._db.execute(undo.SCHEMA)
        if "undo_steps" not in have:  # before it, ``revision`` counted the undo steps
            self._db.execute("UPDATE jobs SET undo_steps = (SELECT COUNT(*) FROM job_history h WHERE h.job_id = jobs.id)")
        self._db.execute(voices.SCHEMA)
        self._lock = threading.Lock()
        #: each finished job's speaker embeddings (enrol from a job: "this voice is …")
        self.voices = JobVoices(self._transaction)
        #: held while a result is read, changed and stored: one change to a job's result at a time
        self.editing = threading.RLock()
        self._recent: OrderedDict[str, Revised] = OrderedDict()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _run(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _set(self, job_id: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        columns = ", ".join(f"{name} = ?" for name in fields)
        self._run(f"UPDATE jobs SET {columns} WHERE id = ?", (*fields.values(), job_id))

    def add(self, options: Options, *, audio_path: Optional[Path], audio_url: Optional[str],
            filename: Optional[str] = None) -> Job:
        job_id = uuid.uuid4().hex
        now = time.time()
        self._run("INSERT INTO jobs (id, status, created_at, updated_at, options, audio_path, audio_url, "
                  "filename) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (job_id, JobStatus.QUEUED.value, now, now, json.dumps(asdict(options)),
                   str(audio_path) if audio_path else None, audio_url, filename))
        return self.get(job_id)

    def get(self, job_id: str) -> Optional[Job]:
        rows = self._run(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE id = ?", (job_id,))
        return Job.from_row(rows[0]) if rows else None

    def with_status(self, status: JobStatus) -> list[Job]:
        rows = self._run(f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE status = ? ORDER BY created_at",
                         (status.value,))
        return [Job.from_row(r) for r in rows]

    def recent(self, limit: int) -> list[Job]:
        """The ``limit`` newest jobs, newest first."""
        rows = self._run(f"SELECT {', '.join(COLUMNS)} FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))
        return [Job.from_row(r) for r in rows]

    def result(self, job_id: str) -> Optional[Result]:
        """The result of a job that succeeded."""
        revised = self.revised(job_id)
        return revised.result if revised is not None else None

    def revised(self, job_id: str) -> Optional[Revised]:
        """The result of a job that succeeded, with its revision (one read; the last one
        changed is kept in memory, so reading it again parses nothing)."""
        rows = self._run("SELECT revision, undo_steps, results IS NOT NULL FROM jobs WHERE id = ?", (job_id,))
        if not rows or not rows[0][2]:
            return None
        recent = self._recent.get(job_id)
        if recent is not None and recent.revision == rows[0][0]:
            return Revised(recent.document, recent.revision, rows[0][1], recent.result)
        rows = self._run("SELECT results, revision, undo_steps FROM jobs WHERE id = ?", (job_id,))
        if not rows or not rows[0][0]:
            return None
        document = rows[0][0]
        if not document.startswith('{"transcription"'):  # stored by an older version
            document = json.dumps(_current(json.loads(document)), ensure_ascii=False)
        return Revised(document, rows[0][1], rows[0][2])

    def _remember(self, job_id: str, revised: Revised) -> Revised:
        """Keep ``revised`` as the job's latest in memory (a few jobs: the ones being edited)."""
        self._recent.pop(job_id, None)
        self._recent[job_id] = revised
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        return revised

    def queue(self, job_id: str) -> None:
        self._set(job_id, status=JobStatus.QUEUED.value, stage=None, progress=0.0, stages=None)

    def start(self, job: "Job") -> None:
        first = Stage.DOWNLOAD if job.audio_url else Stage.DECODE
        self._set(job.id, status=JobStatus.RUNNING.value, stage=first.value, progress=0.0, stages=first.value)

    def progress(self, job_id: str, stage: Stage, fraction: float) -> None:
        """Where a running job is; a stage it reports for the first time joins its ``stages``."""
        self._run("UPDATE jobs SET stage = ?, progress = ?, updated_at = ?, stages = CASE "
                  "WHEN instr(',' || coalesce(stages, '') || ',', ',' || ? || ',') > 0 THEN stages "
                  "ELSE coalesce(stages || ',', '') || ? END WHERE id = ?",
                  (stage.value, round(fraction, 3), time.time(), stage.value, stage.value, job_id))

    def set_remote(self, job_id: str, remote: dict[str, Any]) -> None:
        """Keep what is known of the job's remote side (its id first of all: a restart follows it)."""
        self._set(job_id, remote=json.dumps(remote))

    def succeed(self, job_id: str, result: Result) -> None:
        """The job's result stored and its speakers' embeddings kept, in one transaction."""
        with self._transaction() as db:
            voices.keep(db, job_id, voices.of(result.diarization))
            db.execute("UPDATE jobs SET status = ?, stage = ?, progress = 1.0, results = ?, audio_url = NULL, "
                       "audio_path = NULL, duration = ?, speakers = ?, updated_at = ? WHERE id = ?",
                       (JobStatus.SUCCEEDED.value, DONE, json.dumps(result_to_dict(result), ensure_ascii=False),
                        result.duration, len(result.speakers), time.time(), job_id))

    def change_result(self, job_id: str, change: Callable[[Result], Change], *,
                      revision: Optional[int] = None) -> Revised:
        """Read, change and store a finished job's result, no other change between: the
        document it replaces (with the kept speaker embeddings) becomes one undo step, and the
        embeddings follow the change, all in one transaction. ``revision``: the one the change
        was made against (``stale_revision`` when the job has moved on; None: any)."""
        with self.editing:  # every writer of results and kept voices holds it
            stored = self.revised(job_id)
            if stored is None:  # deleted meanwhile
                raise HearbackError(ErrorCode.NOT_FOUND, f"no job {job_id} with a result")
            _check_revision(revision, stored.revision)
            changed = change(stored.result)
            text = changed.text if changed.text is not None else json.dumps(result_to_dict(changed.result),
                                                                            ensure_ascii=False)
            before = self.voices.kept(job_id)
            kept = changed.voices if changed.voices is not None else before
            for mapping in changed.moves:
                kept = voices.followed(kept, mapping)
            step = undo.pack(stored.document, before)  # compressed before the transaction: it stays short
            with self._transaction() as db:
                undo.push(db, job_id, step)
                voices.keep(db, job_id, kept)
                steps = self._store(db, job_id, text, len(changed.result.speakers), stored.revision)
            return self._remember(job_id, Revised(text, stored.revision + 1, steps, changed.result))

    def update_result(self, job_id: str, result: Result) -> Revised:
        """Replace a finished job's result (kept embeddings unchanged) as one undo step."""
        return self.change_result(job_id, lambda _: Change(result))

    def undo(self, job_id: str, *, revision: Optional[int] = None) -> Optional[Revised]:
        """Put back the result (and kept speaker embeddings) before the last change, as a new
        revision; None when there is nothing to undo. ``revision`` as for :meth:`change_result`."""
        with self.editing:
            with self._transaction() as db:
                row = db.execute("SELECT revision FROM jobs WHERE id = ?", (job_id,)).fetchone()
                if row is None:
                    raise HearbackError(ErrorCode.NOT_FOUND, f"no job {job_id}")
                _check_revision(revision, row[0])
                step = undo.pop(db, job_id)
                if step is None:
                    return None
                restored = Revised(step.document, row[0] + 1, 0)
                undo.restore_voices(db, job_id, step)
                steps = self._store(db, job_id, step.document, len(restored.result.speakers), row[0])
            return self._remember(job_id, Revised(step.document, row[0] + 1, steps, restored.result))

    @staticmethod
    def _store(db: sqlite3.Connection, job_id: str, document: str, speakers: int, revision: int) -> int:
        """Write a changed result over ``revision``, as the next one; the undo steps left."""
        steps = undo.steps(db, job_id)
        updated = db.execute("UPDATE jobs SET results = ?, speakers = ?, revision = ?, undo_steps = ?, "
                             "updated_at = ? WHERE id = ? AND revision = ?",
                             (document, speakers, revision + 1, steps, time.time(), job_id, revision))
        if updated.rowcount == 0:  # deleted meanwhile: the step goes with the rollback
            raise HearbackError(ErrorCode.NOT_FOUND, f"no job {job_id} with a result")
        return steps

    def fail(self, job_id: str, error: HearbackError) -> None:
        self._set(job_id, status=JobStatus.FAILED.value, error_code=error.code.value, error=error.message,
                  audio_url=None, audio_path=None)

    def purge(self, older_than: float) -> list[str]:
        """Delete the jobs that ended before ``older_than`` (seconds since the epoch); their ids."""
        with self._transaction() as db:
            rows = db.execute("DELETE FROM jobs WHERE status IN (?, ?) AND updated_at < ? RETURNING id",
                              (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value, older_than)).fetchall()
            for (job_id,) in rows:
                undo.forget(db, job_id)
                voices.forget(db, job_id)
        if rows:
            self.checkpoint()
        return [r[0] for r in rows]

    def ids(self) -> set[str]:
        return {r[0] for r in self._run("SELECT id FROM jobs")}

    def uploads(self) -> set[Path]:
        """The uploads jobs still own (queued or running)."""
        rows = self._run("SELECT audio_path FROM jobs WHERE audio_path IS NOT NULL AND status IN (?, ?)",
                         (JobStatus.QUEUED.value, JobStatus.RUNNING.value))
        return {Path(r[0]) for r in rows}

    def delete(self, job_id: str) -> None:
        """The job's row, its undo steps and its kept speaker embeddings."""
        with self._transaction() as db:
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            undo.forget(db, job_id)
            voices.forget(db, job_id)
        self._recent.pop(job_id, None)
        self.checkpoint()

    def forget_voice(self, name: str, vector) -> int:
        """A voice removed from the library, out of every job too: the kept embeddings of a
        speaker it named (``name``) or that are its very ``vector`` (it was enrolled from the
        job), in the jobs' kept voices and in their undo steps; how many were removed."""
        same = voices.matching(name, vector)
        with self.editing, self._transaction() as db:
            removed = voices.forget_matching(db, same) + undo.forget_voices(db, same)
        self.checkpoint()
        return removed

    def checkpoint(self) -> None:
        """What was deleted out of the WAL file too: its pages written into the database
        (where ``secure_delete`` zeroed the deleted content) and the WAL truncated."""
        with self._lock:
            busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            logger.warning("the WAL could not be truncated (a reader held it): deleted data stays in it until the next")
