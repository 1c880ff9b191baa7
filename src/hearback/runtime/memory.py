"""Give freed heap memory back to the operating system between stages.

glibc keeps memory freed by many small allocations (decoded frames, per-window buffers) in
its heap, so a process's RSS stays at its high-water mark; ``malloc_trim(0)`` returns the
free pages. A no-op where glibc is not the allocator.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import lru_cache

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def trim() -> None:
    function = _malloc_trim()
    if function is not None:
        function(0)
