"""A job's exports rendered in processes of their own (``spawn``: they load the writers, not the
models) at a lower priority, so that a long transcript's SRT holds neither the event loop, nor
this process's interpreter, nor the CPU the server needs: /health, the page's polls and its audio
answer while it renders. (A thread alone is
not enough: the render's Python code and its garbage collections hold the interpreter lock for
up to seconds at a time on a 3-hour transcript; bench/bench_serve.py.) The worker is given the
stored JSON document as text and sends back the export's bytes."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

from ..writers import ExportOptions

logger = logging.getLogger(__name__)

#: exports rendered at once; more wait their turn
WORKERS = 2
#: how often (s) an export process looks whether the server that started it is still there
PARENT_CHECK_SECONDS = 1.0


def render(document: str, fmt: str, export: ExportOptions) -> bytes:
    """``document`` (a result's JSON document as text) in ``fmt``: run in a worker process."""
    from ..document import result_from_dict
    from ..writers import get_writer

    return get_writer(fmt, export).to_bytes(result_from_dict(json.loads(document)))


class Renderer:
    """The pool of export processes, made with the app and stopped with it."""

    def __init__(self, workers: int = WORKERS):
        self.workers = workers
        self._pool: Optional[ProcessPoolExecutor] = None

    def start(self) -> None:
        """The pool; its processes start at the first exports (a server that never exports, such
        as a small box on the runpod backend, holds none)."""
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_background, initargs=(os.getpid(),))

    async def render(self, document: str, fmt: str, export: ExportOptions) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._pool, render, document, fmt, export)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _background(server: int) -> None:
    """An export process yields the CPU to the server's own (its answers come first), and ends
    when the server is gone: a killed server cannot stop its pool, and the pool's queue (whose
    both ends every process holds) never tells its processes."""
    try:
        os.nice(10)
    except OSError:  # not allowed here: the same priority, still another process
        logger.info("export process runs at the server's priority")
    threading.Thread(target=_follow, args=(server,), name="follow-server", daemon=True).start()


def _follow(server: int) -> None:
    while os.getppid() == server:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)
