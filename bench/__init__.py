"""Benchmarks: each script puts the repository and ``src/`` on ``sys.path`` itself (they run
as ``python bench/<script>.py``), then imports what it shares from here."""

import os
from pathlib import Path

#: The shared recordings (../shared/testdata beside the repository, or HEARBACK_TESTDATA).
TESTDATA = Path(os.environ.get("HEARBACK_TESTDATA", Path(__file__).resolve().parents[2] / "shared" / "testdata"))
