"""Each finished job's speaker embeddings, kept beside the job (the jobs database file, a table
of its own), so that a voice can be enrolled from the job without its audio ("this voice is
Alice"): one row per speaker as the result shows it, its centroid and the embedding model.

Deleted with the job. Renames and merges of ``PATCH /v1/jobs/{id}/speakers`` follow (a merged
speaker's centroid is the mean of the merged ones)."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

from ..errors import ErrorCode, HearbackError
from ..speakers.voiceprint import Voiceprint, check_name
from ..types import Diarization

logger = logging.getLogger(__name__)

_SCHEMA = """CREATE TABLE IF NOT EXISTS job_voices (
    job_id TEXT NOT NULL, speaker TEXT NOT NULL, model TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY (job_id, speaker))"""


class JobVoices:
    """The ``job_voices`` table of the jobs database at ``path``."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA secure_delete = ON")
        db.execute(_SCHEMA)
        return db

    def keep(self, job_id: str, diarization: Optional[Diarization]) -> None:
        """Store the speakers' centroids of a finished job (nothing without diarization)."""
        if diarization is None or not diarization.centroids:
            return
        rows = [(job_id, speaker, diarization.embedding_model or "unknown",
                 np.asarray(vector, dtype=np.float32).tobytes())
                for speaker, vector in diarization.centroids.items()]
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM job_voices WHERE job_id = ?", (job_id,))
            db.executemany("INSERT INTO job_voices VALUES (?, ?, ?, ?)", rows)

    def kept(self, job_id: str) -> dict[str, tuple[str, np.ndarray]]:
        """speaker -> (embedding model, centroid) kept for the job."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT speaker, model, vector FROM job_voices WHERE job_id = ?", (job_id,)).fetchall()
        return {speaker: (model, np.frombuffer(vector, np.float32)) for speaker, model, vector in rows}

    def voice(self, job_id: str, speaker: str, name: str) -> Voiceprint:
        """``speaker`` of the job as ``name``'s voiceprint, or ``unknown_speaker``."""
        found = self.kept(job_id).get(speaker)
        if found is None:
            raise HearbackError(ErrorCode.UNKNOWN_SPEAKER, f"job {job_id} kept no voice for {speaker!r}")
        model, vector = found
        return Voiceprint(check_name(name), model, tuple(float(x) for x in vector), 0.0)

    def follow(self, job_id: str, mapping: Mapping[str, str]) -> None:
        """Apply a speaker edit (old speaker -> new speaker) to the kept centroids."""
        merged: dict[str, list[np.ndarray]] = {}
        models = {}
        for speaker, (model, vector) in self.kept(job_id).items():
            target = mapping.get(speaker, speaker)
            merged.setdefault(target, []).append(vector)
            models[target] = model
        rows = [(job_id, s, models[s], np.mean(v, axis=0).astype(np.float32).tobytes()) for s, v in merged.items()]
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM job_voices WHERE job_id = ?", (job_id,))
            db.executemany("INSERT INTO job_voices VALUES (?, ?, ?, ?)", rows)

    def delete(self, job_id: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM job_voices WHERE job_id = ?", (job_id,))
