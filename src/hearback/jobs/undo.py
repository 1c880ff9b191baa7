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
from typing import Optional

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

    document: str  # the result's JSON document (``document.result_to_dict``), as text
    voices: Voices  # the job's kept speaker embeddings at that time (empty when none)


_HEAD, _VOICES = '{"document": ', ', "voices": '


def pack(document_json: str, voices: Voices) -> bytes:
    """One step: ``document_json`` (the stored result being replaced) and the kept voices."""
    kept = {speaker: [model, [float(x) for x in vector]] for speaker, (model, vector) in voices.items()}
    return zlib.compress(f"{_HEAD}{document_json}{_VOICES}{json.dumps(kept)}}}".encode("utf-8"), 1)


def _unpack(blob: bytes) -> Step:
    text = zlib.decompress(blob).decode("utf-8")
    cut = text.rindex(_VOICES)  # the document's JSON cannot hold it unescaped
    voices = {speaker: (model, np.asarray(vector, dtype=np.float32))
              for speaker, (model, vector) in json.loads(text[cut + len(_VOICES):-1]).items()}
    document = text[len(_HEAD):cut]
    if not document.startswith('{"transcription"'):  # a step stored before 0.2: every format rendered
        document = json.loads(document)["json"]
    return Step(document, voices)


def push(db: sqlite3.Connection, job_id: str, step: bytes) -> None:
    """Keep ``step`` (:func:`pack`) as the job's newest."""
    last = db.execute("SELECT MAX(step) FROM job_history WHERE job_id = ?", (job_id,)).fetchone()[0] or 0
    db.execute("INSERT INTO job_history (job_id, step, created_at, state) VALUES (?, ?, ?, ?)",
               (job_id, last + 1, time.time(), step))
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


def forget_voices(db: sqlite3.Connection, same: job_voices.Matcher) -> int:
    """The kept voices ``same`` picks, out of every job's steps (so no undo brings them back);
    how many."""
    removed = 0
    for job_id, step, blob in db.execute("SELECT job_id, step, state FROM job_history").fetchall():
        text = zlib.decompress(blob).decode("utf-8")
        cut = text.rindex(_VOICES)  # pack's shape: the document's JSON cannot hold it unescaped
        kept = json.loads(text[cut + len(_VOICES):-1])
        left = {s: v for s, v in kept.items() if not same(s, np.asarray(v[1], np.float32))}
        if len(left) < len(kept):
            removed += len(kept) - len(left)
            state = zlib.compress(f"{text[:cut]}{_VOICES}{json.dumps(left)}}}".encode("utf-8"), 1)
            db.execute("UPDATE job_history SET state = ? WHERE job_id = ? AND step = ?", (state, job_id, step))
    return removed


def forget(db: sqlite3.Connection, job_id: str) -> None:
    db.execute("DELETE FROM job_history WHERE job_id = ?", (job_id,))
