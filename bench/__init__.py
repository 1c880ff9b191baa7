"""Benchmarks, each a module run from the repository root: ``python -m bench.<name>``
(``make bench`` runs them all). Their figures are summed up in bench/RESULTS.md.

What every benchmark shares is set up here, once, before the benchmark module is imported:
the environment (offline model hub, pyannote's telemetry off), this checkout's ``src/`` first
on the path (as pytest's ``pythonpath`` does, so a benchmark measures the code beside it even
when the virtualenv's editable install points at another checkout), where the recordings are,
and how a result is written. Scoring and the recordings built from the clips come from
``evaluation/``, which the tests use too.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from evaluation.testdata import testdata_dir  # noqa: E402  (after the environment is set)

#: The recordings: HEARBACK_TESTDATA, else the repository's testdata/.
TESTDATA = testdata_dir()
#: Where each benchmark writes its full table.
RESULTS = REPO / "bench" / "results"
#: Prefix of the benchmarks' temporary folders. Not "hearback-": a Hearback worker or server
#: starting meanwhile removes unlocked hearback-* folders as crash leftovers (hearback.runtime.tempdirs),
#: which would pull a running benchmark's files away.
TEMP_PREFIX = "bench-hearback-"


def setup_logging() -> None:
    """Warnings and errors only, so the figures are what a run prints."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")


def temp_folder() -> tempfile.TemporaryDirectory:
    """A temporary folder for one benchmark run, removed when its ``with`` block ends."""
    return tempfile.TemporaryDirectory(prefix=TEMP_PREFIX)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_results(module: str, name: str, text: str) -> Path:
    """``text`` to bench/results/<name>.md under the command that made it (``module`` is the
    benchmark's ``__spec__.name``), and on stdout."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    path.write_text(f"# python -m {module}\n\n{text}\n")
    sys.stdout.write(text + "\n")
    return path
