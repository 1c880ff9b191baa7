"""Private temporary folders that never outlive their process.

Each folder holds a lock file its process keeps locked (``flock``) while the folder is in use.
The kernel drops the lock when the process dies, however it dies (SIGKILL, the OOM killer), so
:func:`sweep` at start-up removes exactly the folders no live process owns.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

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


_process: Optional[Path] = None
_process_lock = threading.Lock()


def process_tempdir() -> Path:
    """A private temporary folder for this process's whole life: locked until it exits,
    removed at a clean exit, swept like the others once the process has died."""
    global _process
    with _process_lock:
        if _process is None:
            path = Path(tempfile.mkdtemp(prefix=PREFIX))
            lock = (path / _LOCK).open("w")  # held open (and locked) until the process ends
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            atexit.register(shutil.rmtree, path, True)
            atexit.register(lock.close)
            _process = path
        return _process


def import_torch_inside() -> None:
    """Import torch's ``torch.distributed.nn`` (pyannote imports it) with the system temporary
    directory pointed at :func:`process_tempdir`: torch makes a folder there at import and
    removes it only at a clean exit, so a killed process leaves nothing :func:`sweep` does not
    remove. Call it before anything imports torch (once the module is loaded it is too late)."""
    if "torch.distributed.nn.jit.instantiator" in sys.modules:
        return
    saved = tempfile.tempdir
    tempfile.tempdir = str(process_tempdir())
    try:
        import torch.distributed.nn.jit.instantiator  # noqa: F401
    except ImportError:  # a torch without distributed support makes no folder
        pass
    finally:
        tempfile.tempdir = saved


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
