"""The voice library: voiceprints kept in one SQLite file (``SPEAKER_LIBRARY``).

One row per person: id, name, the embedding model's id, the vector (float32 bytes), the
seconds of speech it was made from and when. Nothing else is stored: no audio. Deleting a
voice deletes its row and VACUUMs the file (``secure_delete`` on as well), so no copy of the
vector remains in the database file. Workers that share the file on a network volume open it
read-only (``SPEAKER_LIBRARY_READONLY``): many writers on a network filesystem corrupt SQLite;
manage it from one machine.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..errors import ErrorCode, HearbackError
from .voiceprint import Voiceprint

logger = logging.getLogger(__name__)

_SCHEMA = """CREATE TABLE IF NOT EXISTS voices (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, model TEXT NOT NULL,
    vector BLOB NOT NULL, seconds REAL NOT NULL, created REAL NOT NULL)"""


@dataclass(frozen=True)
class Entry:
    """One voice of the library."""

    #: stable id (``voice_…``)
    id: str
    #: the voiceprint itself
    voice: Voiceprint
    #: when it was enrolled (Unix time)
    created: float

    def public_view(self) -> dict:
        return {"id": self.id, "name": self.voice.name, "model": self.voice.model,
                "seconds": self.voice.seconds, "created": round(self.created, 3)}


class Library:
    """A voice library file; ``readonly`` opens it without ever writing (nor creating) it."""

    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as db, db:
                db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        else:
            db = sqlite3.connect(self.path)
            db.execute("PRAGMA secure_delete = ON")
        return db

    def check_writable(self) -> None:
        """``speaker_library_unavailable`` when the library is open read-only."""
        if self.readonly:
            raise HearbackError(ErrorCode.SPEAKER_LIBRARY_UNAVAILABLE,
                                "the voice library is open read-only here (SPEAKER_LIBRARY_READONLY)")

    def add(self, voice: Voiceprint, *, replace: bool) -> Entry:
        """Store ``voice``. A voice of the same name is replaced (its old vector deleted for
        good) when ``replace``, else ``voice_exists``: nobody's voice is swapped unasked."""
        self.check_writable()
        entry = Entry(f"voice_{uuid.uuid4().hex[:16]}", voice, time.time())
        vector = np.asarray(voice.vector, dtype=np.float32).tobytes()
        with closing(self._connect()) as db:
            with db:
                if not replace and db.execute("SELECT 1 FROM voices WHERE name = ?", (voice.name,)).fetchone():
                    raise HearbackError(ErrorCode.VOICE_EXISTS, f"the library has a voice named {voice.name!r} "
                                                                "already: replace it, or choose another name")
                db.execute("DELETE FROM voices WHERE name = ?", (voice.name,))
                db.execute("INSERT INTO voices VALUES (?, ?, ?, ?, ?, ?)",
                           (entry.id, voice.name, voice.model, vector, voice.seconds, entry.created))
            db.execute("VACUUM")
        return entry

    def entries(self) -> list[Entry]:
        """Every voice, by name. A read-only library whose file does not exist is empty."""
        if self.readonly and not self.path.exists():
            return []
        with closing(self._connect()) as db:
            rows = db.execute("SELECT id, name, model, vector, seconds, created FROM voices ORDER BY name").fetchall()
        return [Entry(row[0], Voiceprint(row[1], row[2], tuple(float(x) for x in np.frombuffer(row[3], np.float32)),
                                         row[4]), row[5]) for row in rows]

    def voices(self) -> tuple[Voiceprint, ...]:
        return tuple(e.voice for e in self.entries())

    def remove(self, key: str) -> Entry:
        """Delete the voice with this id (else this name), then VACUUM: no copy stays in the
        file. An id is looked for first; no name can look like one (``check_name``)."""
        self.check_writable()
        entries = self.entries()
        found = [e for e in entries if e.id == key] or [e for e in entries if e.voice.name == key]
        if not found:
            raise HearbackError(ErrorCode.NOT_FOUND, f"no voice {key!r} in the library")
        with closing(self._connect()) as db:
            with db:
                db.execute("DELETE FROM voices WHERE id = ?", (found[0].id,))
            db.execute("VACUUM")
        logger.info("voice %s deleted", found[0].id)
        return found[0]


def voices_for(settings, requested: Sequence[Voiceprint], use_library: bool,
               only: Optional[Sequence[str]] = None) -> tuple[Voiceprint, ...]:
    """The voices one transcription names, the one rule every entry point keeps: the library's
    as it is now (none when ``use_library`` is false; only the voices named in ``only`` when
    given), then the request's own ``requested``, which win by name."""
    library = library_voices(settings) if use_library else ()
    if only is not None:
        library = tuple(v for v in library if v.name in only)
    names = {v.name for v in requested}
    return tuple(v for v in library if v.name not in names) + tuple(requested)


def open_library(settings) -> Library:
    """The library ``SPEAKER_LIBRARY`` names, or ``speaker_library_unavailable``."""
    if settings.speaker_library is None:
        raise HearbackError(ErrorCode.SPEAKER_LIBRARY_UNAVAILABLE, "no voice library: set SPEAKER_LIBRARY")
    return Library(settings.speaker_library, readonly=settings.speaker_library_readonly)


def library_voices(settings) -> tuple[Voiceprint, ...]:
    """The voices of the library ``SPEAKER_LIBRARY`` names (none when unset)."""
    return open_library(settings).voices() if settings.speaker_library is not None else ()
