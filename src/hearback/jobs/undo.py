"""Undo steps of a finished job's result, kept in the jobs database beside the jobs table.

Every change to a stored result (transcript edits, ``PATCH /v1/jobs/{id}/speakers``,
rediarization) goes through ``JobStore.update_result``, which pushes the document it replaces
here as one step, with the job's kept speaker embeddings (``jobs.voices``) as they were,
so an undo puts both back and "this voice is …" still finds the speaker under its old name.
A step is zlib-compressed JSON (a transcript's document shrinks about tenfold). At most
:data:`MAX_STEPS` are kept per job; older ones are dropped, so only the last 100 changes can be
undone. Steps are deleted with their job. The functions run inside the caller's transaction.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import zlib
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from . import voices as job_voices
from .voices import Voices

logger = logging.getLogger(__name__)

#: undo steps kept per job; a change beyond it drops the oldest step
MAX_STEPS = 100

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_history (
    job_id TEXT NOT NULL,
    step INTEGER NOT NULL,           -- 1, 2, … in the order the changes were made
    created_at REAL NOT NULL,
    state BLOB NOT NULL,             -- zlib-compressed JSON: {"document", "voices"}
    PRIMARY KEY (job_id, step)
)
"""

@dataclass(frozen=True)
class Step:
    """What a result was before one change."""

    document: dict[str, Any]  # the result's JSON document (``writers.result_to_dict``)
    voices: Voices  # the job's kept speaker embeddings at that time (empty when none)


def _pack(document_json: str, voices: Voices) -> bytes:
    kept = {speaker: [model, [float(x) for x in vector]] for speaker, (model, vector) in voices.items()}
    text = '{"document": %s, "voices": %s}' % (document_json, json.dumps(kept))
    return zlib.compress(text.encode("utf-8"), 6)


def _unpack(blob: bytes) -> Step:
    state = json.loads(zlib.decompress(blob).decode("utf-8"))
    voices = {speaker: (model, np.asarray(vector, dtype=np.float32))
              for speaker, (model, vector) in state["voices"].items()}
    return Step(state["document"], voices)


def push(db: sqlite3.Connection, job_id: str, document_json: str, voices: Voices) -> None:
    """Keep ``document_json`` (the stored result being replaced) as the job's newest step."""
    last = db.execute("SELECT MAX(step) FROM job_history WHERE job_id = ?", (job_id,)).fetchone()[0] or 0
    db.execute("INSERT INTO job_history (job_id, step, created_at, state) VALUES (?, ?, ?, ?)",
               (job_id, last + 1, time.time(), _pack(document_json, voices)))
    db.execute("DELETE FROM job_history WHERE job_id = ? AND step <= ?", (job_id, last + 1 - MAX_STEPS))


def steps(db: sqlite3.Connection, job_id: str) -> int:
    """How many steps the job has: the changes that can be undone (its ``revision``)."""
    return db.execute("SELECT COUNT(*) FROM job_history WHERE job_id = ?", (job_id,)).fetchone()[0]


def pop(db: sqlite3.Connection, job_id: str) -> Optional[Step]:
    """Remove and return the job's newest step; None when there is none."""
    row = db.execute("SELECT step, state FROM job_history WHERE job_id = ? ORDER BY step DESC LIMIT 1",
                     (job_id,)).fetchone()
    if row is None:
        return None
    db.execute("DELETE FROM job_history WHERE job_id = ? AND step = ?", (job_id, row[0]))
    return _unpack(row[1])


def restore_voices(db: sqlite3.Connection, job_id: str, step: Step) -> None:
    """Put a step's kept speaker embeddings back."""
    job_voices.keep(db, job_id, step.voices)


def forget(db: sqlite3.Connection, job_id: str) -> None:
    db.execute("DELETE FROM job_history WHERE job_id = ?", (job_id,))
