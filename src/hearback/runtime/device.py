"""Facts about the machine a worker runs on: its CPU quota and what counts as a device fault.

Light on purpose (no torch, no CTranslate2 at import): the worker asks it what to do with
an exception, the settings ask it how many threads to use, ``hearback doctor`` asks both.
"""

from __future__ import annotations

import logging
import math
import os
import re
from pathlib import Path
from typing import Optional

logger = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")

#: Messages of faults in the GPU or its libraries, after which the process's CUDA context may
#: be unusable: CUDA runtime errors (torch "CUDA error: …", CTranslate2 "CUDA failed with
#: error …"), out of memory, cuBLAS/cuDNN/NCCL status codes, device-side asserts. Deliberately
#: not matched: "Expected all tensors to be on the same device" and anything else that merely
#: names cuda — those are bugs, and a fresh worker would fail the same way.
DEVICE_FAULT = re.compile(
    r"CUDA error|CUDA failed with error|CUDA out of memory|out of memory|CUDA driver"
    r"|CUBLAS_STATUS_|CUDNN_STATUS_|cuDNN error|NCCL (?:error|failed)"
    r"|device-side assert|illegal memory access|no CUDA-capable device|CUDA-capable device\(s\) is/are busy",
    re.IGNORECASE,
)
#: Exception types torch raises only for device faults (matched by name: no torch import).
DEVICE_FAULT_TYPES = frozenset({"OutOfMemoryError", "AcceleratorError", "CudaError"})


def is_device_fault(exc: BaseException) -> bool:
    """True when ``exc`` (or an exception it was raised from) is a GPU fault: the worker should
    be replaced. A bug that happens to mention cuda is not one."""
    seen: set[int] = set()
    current: Optional[BaseException] = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in DEVICE_FAULT_TYPES or DEVICE_FAULT.search(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def cgroup_cpu_limit(root: Optional[Path] = None) -> Optional[float]:
    """The container's CPU quota in cores (e.g. 8.0), or None when there is none.

    cgroup v2: ``cpu.max`` = "<quota> <period>" or "max <period>"; cgroup v1:
    ``cpu/cpu.cfs_quota_us`` (-1 = none) over ``cpu/cpu.cfs_period_us`` (or those files
    directly under ``root``, default :data:`CGROUP_ROOT`). Unreadable or malformed files count as no quota.
    """
    root = root or CGROUP_ROOT
    try:
        v2 = root / "cpu.max"
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
            return None if quota == "max" else _cores(int(quota), int(period))
        for folder in (root / "cpu", root / "cpu,cpuacct", root):
            quota_file = folder / "cpu.cfs_quota_us"
            if quota_file.is_file():
                period = int((folder / "cpu.cfs_period_us").read_text())
                return _cores(int(quota_file.read_text()), period)
    except (OSError, ValueError) as exc:
        logger.debug("no CPU quota read from %s: %s", root, exc)
    return None


def _cores(quota: int, period: int) -> Optional[float]:
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def available_cpus(root: Optional[Path] = None) -> int:
    """Cores this process may use: the least of the cgroup quota (rounded up), the CPUs it is
    pinned to (affinity) and the machine's count. ``os.cpu_count()`` alone reports the host's
    cores inside a container (e.g. 96 against a quota of 8)."""
    counts = [os.cpu_count() or 1]
    if hasattr(os, "sched_getaffinity"):
        counts.append(len(os.sched_getaffinity(0)) or counts[0])
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        counts.append(max(1, math.ceil(limit)))
    return min(counts)
