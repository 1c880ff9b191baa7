"""Private temporary folders that never outlive their process.

Each folder holds a lock file its process keeps locked (``flock``) while the folder is in use.
The kernel drops the lock when the process dies, however it dies (SIGKILL, the OOM killer), so
:func:`sweep` at start-up removes exactly the folders no live process owns.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no sweep, folders still removed on every exit
    fcntl = None

logger = logging.getLogger(__name__)

PREFIX = "hearback-"
_LOCK = ".owner"
_YOUNG = 60.0  # seconds: a folder without a lock this young may be being created


@contextmanager
def job_tempdir() -> Iterator[Path]:
    """A private temporary folder, owned by this process, removed on every path out."""
    path = Path(tempfile.mkdtemp(prefix=PREFIX))
    lock = (path / _LOCK).open("w")
    try:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield path
    finally:
        lock.close()
        shutil.rmtree(path, ignore_errors=True)


def sweep() -> int:
    """Remove the temporary folders of processes that died; returns how many went."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        if path.is_dir() and _orphaned(path):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("removed %d temporary folder(s) left by a stopped process", removed)
    return removed


def _orphaned(path: Path) -> bool:
    """True when no live process holds the folder's lock (or it has none: an old layout or a
    process killed between creating the folder and its lock)."""
    if fcntl is None:
        return False
    try:
        with (path / _LOCK).open("r") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except FileNotFoundError:  # no lock yet: a folder being created right now is young
        return time.time() - path.stat().st_mtime > _YOUNG
    except OSError:  # locked: a live process owns it
        return False
