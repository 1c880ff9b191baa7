"""Each finished job's speaker embeddings, kept beside the job (the jobs database file, a table
of its own), so that a voice can be enrolled from the job without its audio ("this voice is
Alice"): one row per speaker as the result shows it, its centroid and the embedding model.

The functions run inside the caller's transaction (the store's: a job's result, its undo step
and its kept voices change in one); :class:`JobVoices`, the store's ``voices``, runs each of
them as a transaction of its own. Deleted with the job. Renames and merges follow (a merged
speaker's centroid is the mean of the merged ones); a rediarization replaces them."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import AbstractContextManager
from typing import Callable, Mapping, Optional

import numpy as np

from ..errors import ErrorCode, HearbackError
from ..speakers.voiceprint import Voiceprint, check_name
from ..types import Diarization

logger = logging.getLogger(__name__)

SCHEMA = """CREATE TABLE IF NOT EXISTS job_voices (
    job_id TEXT NOT NULL, speaker TEXT NOT NULL, model TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (job_id, speaker))"""

#: speaker -> (embedding model, centroid)
Voices = dict[str, tuple[str, np.ndarray]]


def of(diarization: Optional[Diarization]) -> Voices:
    """A diarization's centroids as kept voices (none without diarization)."""
    if diarization is None or not diarization.centroids:
        return {}
    model = diarization.embedding_model or "unknown"
    return {speaker: (model, np.asarray(vector, dtype=np.float32))
            for speaker, vector in diarization.centroids.items()}


def kept(db: sqlite3.Connection, job_id: str) -> Voices:
    rows = db.execute("SELECT speaker, model, vector FROM job_voices WHERE job_id = ?", (job_id,)).fetchall()
    return {speaker: (model, np.frombuffer(vector, np.float32)) for speaker, model, vector in rows}


def keep(db: sqlite3.Connection, job_id: str, voices: Voices) -> None:
    """The job's kept voices become ``voices`` (none: all removed)."""
    db.execute("DELETE FROM job_voices WHERE job_id = ?", (job_id,))
    db.executemany("INSERT INTO job_voices VALUES (?, ?, ?, ?)",
                   [(job_id, speaker, model, np.asarray(vector, dtype=np.float32).tobytes())
                    for speaker, (model, vector) in voices.items()])


def followed(voices: Voices, mapping: Mapping[str, str]) -> Voices:
    """``voices`` after a speaker edit (old speaker -> new speaker): merged ones averaged."""
    merged: dict[str, list[np.ndarray]] = {}
    models = {}
    for speaker, (model, vector) in voices.items():
        target = mapping.get(speaker, speaker)
        merged.setdefault(target, []).append(vector)
        models[target] = model
    return {s: (models[s], np.mean(v, axis=0).astype(np.float32)) for s, v in merged.items()}


def forget(db: sqlite3.Connection, job_id: str) -> None:
    db.execute("DELETE FROM job_voices WHERE job_id = ?", (job_id,))


#: whether a kept (speaker, centroid) is one to forget
Matcher = Callable[[str, np.ndarray], bool]


def matching(name: str, vector) -> Matcher:
    """A kept voice named ``name``, or whose centroid is ``vector`` itself (float32)."""
    target = np.asarray(vector, dtype=np.float32)
    return lambda speaker, centroid: speaker == name or np.array_equal(np.asarray(centroid, np.float32), target)


def forget_matching(db: sqlite3.Connection, same: Matcher) -> int:
    """Every job's kept voices that ``same`` picks, deleted; how many."""
    rows = db.execute("SELECT job_id, speaker, vector FROM job_voices").fetchall()
    gone = [(job_id, speaker) for job_id, speaker, vector in rows if same(speaker, np.frombuffer(vector, np.float32))]
    db.executemany("DELETE FROM job_voices WHERE job_id = ? AND speaker = ?", gone)
    return len(gone)


class JobVoices:
    """The ``job_voices`` table through the store's connection (``JobStore.voices``); each
    call one transaction of the store's."""

    def __init__(self, transaction: Callable[[], AbstractContextManager[sqlite3.Connection]]):
        self._transaction = transaction

    def kept(self, job_id: str) -> Voices:
        """speaker -> (embedding model, centroid) kept for the job."""
        with self._transaction() as db:
            return kept(db, job_id)

    def voice(self, job_id: str, speaker: str, name: str) -> Voiceprint:
        """``speaker`` of the job as ``name``'s voiceprint, or ``unknown_speaker``."""
        found = self.kept(job_id).get(speaker)
        if found is None:
            raise HearbackError(ErrorCode.UNKNOWN_SPEAKER, f"job {job_id} kept no voice for {speaker!r}")
        model, vector = found
        return Voiceprint(check_name(name), model, tuple(float(x) for x in vector), 0.0)
