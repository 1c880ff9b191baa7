"""When each cue shows: from its words' times, within a preset's timing rules.

A cue starts at its first word and ends at its last word's end, then (in this order):

1. **Reading time** (:func:`cue_span`, cue by cue in time order). A cue shorter than the
   minimum duration ends later, as long as the next cue's first word allows; a cue read
   faster than ``max_cps`` ends later by at most ``lead_out_seconds``; if still short, it
   starts earlier by at most ``lead_in_seconds``. It never starts before the previous cue
   ends plus the minimum gap. A cue may *push* the next one: end up to
   ``late_start_seconds`` after the next cue's first word less the gap, so that the next cue
   starts that much after its first word (Netflix: "within 3 frames of the audio"), once it
   has taken its own lead-in. Whether a cue pushes is the layout's choice (``cuecut.py``
   weighs both); a cue whose last word would otherwise start after it ends always pushes,
   as far as it may.
2. **Chaining.** A gap shorter than ``chain_gap_seconds`` is closed to ``min_gap_seconds``
   (the first cue ends later).
3. **Hard rules.** No cue is longer than ``max_cue_seconds``; two cues are at least
   ``min_gap_seconds`` apart: where words run on (or overlap), the earlier cue ends
   earlier, and only when it would vanish does the later cue start later.

All in whole milliseconds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Optional, Sequence

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


def ms(seconds: float) -> int:
    """Seconds to whole milliseconds (the limits' figures)."""
    return int(round(seconds * 1000))


@dataclass(frozen=True)
class Clock:
    """A preset's timing limits in whole milliseconds (:meth:`of`), as every step uses them."""

    #: the minimum gap between two cues
    gap: int
    #: gaps shorter than this are closed to ``gap``
    chain: int
    #: the longest cue
    longest: int
    #: the shortest cue
    minimum: int
    #: how early a cue may start before its first word
    lead_in: int
    #: how long a cue may stay after its last word, for the reading speed
    lead_out: int
    #: how late a cue may start after its first word (pushed by the cue before)
    late: int
    #: characters per second (inf: no limit)
    cps: float

    @classmethod
    def of(cls, limits: CueLimits) -> "Clock":
        return cls(ms(limits.min_gap_seconds), ms(limits.chain_gap_seconds), ms(limits.max_cue_seconds),
                   ms(limits.min_cue_seconds), ms(limits.lead_in_seconds), ms(limits.lead_out_seconds),
                   ms(limits.late_start_seconds), limits.max_cps)

    def reading(self, chars: int) -> int:
        """How long ``chars`` take to read at the preset's speed."""
        return 0 if self.cps == math.inf else int(-(-chars * 1000 // self.cps))

    def needed(self, chars: int) -> int:
        """How long a cue of ``chars`` must show: the minimum duration or the reading time."""
        return max(self.minimum, self.reading(chars))


def cue_span(cue: Spoken, floor: int, next_first: Optional[int], push: bool, clock: Clock) -> tuple[int, int]:
    """Step 1 for one cue: (start, end), when it may not start before ``floor`` (the previous
    cue's end plus the gap; later than its first word when the previous cue pushed it) and the
    next cue's first word starts at ``next_first`` (None: no next cue); ``push``: it may end
    up to the late start after that word less the gap. A cue short of time takes its own
    lead-in before it pushes the next cue."""
    floor = min(floor, cue.first_ms + clock.late)  # a cue that ran on is cut back by step 3
    earliest = max(cue.first_ms - clock.lead_in, floor)
    start = max(cue.first_ms, floor)
    reading = clock.reading(cue.chars)
    need = max(clock.minimum, reading)

    def wanted(begin: int) -> int:  # the end the reading speed and minimum duration ask for
        return max(cue.last_ms, begin + 1, begin + clock.minimum, min(begin + reading, cue.last_ms + clock.lead_out))

    end = wanted(start)
    if next_first is not None:  # never into the next cue's words (less the gap), never vanishing
        latest = next_first - clock.gap + clock.late
        limit = max(next_first - clock.gap, min(cue.last_start_ms + 1, latest))  # show the last word
        end = max(min(end, limit), start + 1)
        if end - start < need:
            start = max(min(start, end - need), earliest)
        if push and end - start < need:
            end = max(end, min(wanted(start), latest))
    if end - start < need:
        start = max(min(start, end - need), earliest)
    return start, end


def _extend(cues: Sequence[Spoken], pushes: Sequence[bool], clock: Clock) -> list[tuple[int, int]]:
    """Step 1: every cue in turn (:func:`cue_span`)."""
    out: list[tuple[int, int]] = []
    for i, (cue, push) in enumerate(zip(cues, pushes)):
        floor = out[-1][1] + clock.gap if out else 0
        out.append(cue_span(cue, floor, cues[i + 1].first_ms if i + 1 < len(cues) else None, push, clock))
    return out


def chained_end(end: int, start: int, following: int, clock: Clock) -> int:
    """Step 2 for one cue shown from ``start`` to ``end`` and a next cue starting at
    ``following``: where it ends once a gap shorter than the chaining threshold is closed."""
    if clock.gap < following - end < clock.chain:
        return max(end, min(following - clock.gap, start + clock.longest))
    return end


def _chain(times: Sequence[tuple[int, int]], clock: Clock) -> list[tuple[int, int]]:
    """Step 2: close gaps shorter than the chaining threshold."""
    out = list(times)
    for i in range(len(out) - 1):
        start, end = out[i]
        out[i] = (start, chained_end(end, start, out[i + 1][0], clock))
    return out


def _hard_rules(times: Sequence[tuple[int, int]], clock: Clock) -> list[tuple[int, int]]:
    """Step 3: the maximum duration, then the minimum gap and order, cue by cue."""
    gap, longest = clock.gap, clock.longest
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


def cue_times(cues: Sequence[Spoken], limits: CueLimits,
              pushes: Optional[Sequence[bool]] = None) -> list[tuple[int, int]]:
    """(start, end) in ms for each of ``cues`` (ordered by first word), by the rules above;
    ``pushes``: which cues may push the next one (None: none, except to show a last word)."""
    pushes = list(pushes) if pushes is not None else [False] * len(cues)
    clock = Clock.of(limits)
    return _hard_rules(_chain(_extend(cues, pushes, clock), clock), clock)
