"""One throttle for progress reports, shared by every entry point that forwards them.

The pipeline calls its hook often (per window, per pyannote batch); a job store or RunPod
only needs a report when something moved. :func:`throttled` passes on a stage's first
report and its last (fraction 1.0), and others once both ``min_seconds`` have passed and
the fraction moved by ``min_step`` since the last report passed on.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

from ..types import ProgressHook, Stage


def throttled(report: Callable[[Stage, float], None], *, min_seconds: float = 0.0,
              min_step: float = 0.0) -> ProgressHook:
    """A progress hook that calls ``report`` at most as often as the limits allow."""
    last_stage: list[Optional[Stage]] = [None]
    last_fraction, last_time = [0.0], [0.0]

    def hook(stage: Stage, fraction: float) -> None:
        now = time.monotonic()
        moved = now - last_time[0] >= min_seconds and fraction - last_fraction[0] >= min_step
        if stage != last_stage[0] or fraction >= 1.0 or moved:
            last_stage[0], last_fraction[0], last_time[0] = stage, fraction, now
            report(Stage(stage), fraction)

    return hook
