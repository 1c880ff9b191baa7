"""When each cue shows: from its words' times, within a preset's timing rules.

A cue starts at its first word and ends at its last word's end, then (in this order):

1. **Reading time.** A cue shorter than the minimum duration ends later, as long as the
   next cue's first word allows; a cue read faster than ``max_cps`` ends later by at most
   ``lead_out_seconds``; if still short, it starts earlier by at most ``lead_in_seconds``.
   It never starts before the previous cue ends plus the minimum gap. Where the next cue's
   words leave a cue too little time, the next cue starts up to ``late_start_seconds`` after
   its first word (Netflix: "within 3 frames of the audio"): for reading time only when that
   fully meets it and the next cue has the time to spare; to show the cue's last word (which
   would otherwise start after the cue ends) in any case.
2. **Chaining.** A gap shorter than ``chain_gap_seconds`` is closed to ``min_gap_seconds``
   (the first cue ends later).
3. **Hard rules.** No cue is longer than ``max_cue_seconds``; two cues are at least
   ``min_gap_seconds`` apart: where words run on (or overlap), the earlier cue ends
   earlier, and only when it would vanish does the later cue start later.

All in whole milliseconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

from .presets import CueLimits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spoken:
    """What timing needs to know about one cue, in whole milliseconds."""

    #: its first word's start
    first_ms: int
    #: its last word's end
    last_ms: int
    #: its last word's start (the cue must show it)
    last_start_ms: int
    #: characters shown (for the reading speed)
    chars: int


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _needed_ms(chars: int, limits: CueLimits) -> tuple[int, int]:
    """(minimum duration, duration the reading speed asks for) of a cue of ``chars``."""
    reading = 0 if limits.max_cps == float("inf") else int(-(-chars * 1000 // limits.max_cps))
    return _ms(limits.min_cue_seconds), reading


def _spare_ms(cues: Sequence[Spoken], i: int, limits: CueLimits) -> int:
    """How much later than its first word cue ``i`` could start and still be read in time
    (ending at most the lead-out after its last word, the gap before the next cue's words)."""
    cue = cues[i]
    end = cue.last_ms + _ms(limits.lead_out_seconds)
    if i + 1 < len(cues):
        end = min(end, cues[i + 1].first_ms - _ms(limits.min_gap_seconds))
    minimum, reading = _needed_ms(cue.chars, limits)
    return max(0, end - cue.first_ms - max(minimum, reading))


def _shift_ms(cue: Spoken, read_end: int, limit: int, late: int, spare: int) -> int:
    """How late the next cue should start so that ``cue``, which must end by ``limit``, can
    end at ``read_end`` (read in time; at most ``late`` and the next cue's ``spare`` time),
    or else at least after its last word's start (that word shows; at most ``late``)."""
    for wanted, allowed in ((read_end - limit, min(late, spare)), (cue.last_start_ms + 1 - limit, late)):
        if 0 < wanted <= allowed:
            return wanted
    return 0


def _extend(cues: Sequence[Spoken], limits: CueLimits) -> list[tuple[int, int]]:
    """Step 1: reach the minimum duration and the reading speed where the words allow."""
    gap, lead_in, lead_out = _ms(limits.min_gap_seconds), _ms(limits.lead_in_seconds), _ms(limits.lead_out_seconds)
    late = _ms(limits.late_start_seconds)
    out: list[tuple[int, int]] = []
    pushed = 0  # how late the cue before asked this one to start (below)
    for i, cue in enumerate(cues):
        floor = out[-1][1] + gap if out else 0
        start, pushed = cue.first_ms + pushed, 0
        end = max(cue.last_ms, start + 1)
        minimum, reading = _needed_ms(cue.chars, limits)
        need = max(minimum, reading)
        target = max(start + minimum, min(start + reading, cue.last_ms + lead_out))
        end = max(end, target)
        if i + 1 < len(cues):  # never into the next cue's words (less the gap), never vanishing
            limit = cues[i + 1].first_ms - gap
            shift = _shift_ms(cue, max(cue.first_ms - lead_in, floor) + need, limit, late,
                              _spare_ms(cues, i + 1, limits))
            limit, pushed = limit + shift, shift  # the next cue starts a little late
            end = max(min(end, limit), start + 1)
        if end - start < need:
            start = max(min(start, end - need), cue.first_ms - lead_in, floor)
        out.append((start, end))
    return out


def _chain(times: Sequence[tuple[int, int]], limits: CueLimits) -> list[tuple[int, int]]:
    """Step 2: close gaps shorter than the chaining threshold."""
    gap, chain, longest = _ms(limits.min_gap_seconds), _ms(limits.chain_gap_seconds), _ms(limits.max_cue_seconds)
    out = list(times)
    for i in range(len(out) - 1):
        (start, end), following = out[i], out[i + 1][0]
        if gap < following - end < chain:
            out[i] = (start, max(end, min(following - gap, start + longest)))
    return out


def _hard_rules(times: Sequence[tuple[int, int]], limits: CueLimits) -> list[tuple[int, int]]:
    """Step 3: the maximum duration, then the minimum gap and order, cue by cue."""
    gap, longest = _ms(limits.min_gap_seconds), _ms(limits.max_cue_seconds)
    out: list[tuple[int, int]] = []
    for i, (start, end) in enumerate(times):
        if out:
            start = max(start, out[-1][1] + gap)
        end = min(max(end, start + 1), start + longest)
        if i + 1 < len(times) and times[i + 1][0] - end < gap:
            # end earlier so the next cue can keep its start, but never vanish
            end = max(times[i + 1][0] - gap, start + 1)
        out.append((start, end))
    return out


def cue_times(cues: Sequence[Spoken], limits: CueLimits) -> list[tuple[int, int]]:
    """(start, end) in ms for each of ``cues`` (ordered by first word), by the rules above."""
    return _hard_rules(_chain(_extend(cues, limits), limits), limits)
