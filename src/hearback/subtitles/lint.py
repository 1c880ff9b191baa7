"""How well subtitles keep a preset's rules: the count of cues breaking each one.

The hard rules are kept by construction (a break is a bug); the reading speed and the
minimum duration cannot always be met — speech can be faster than anyone reads, and a
lone "Yes." between two long pauses is shorter than the minimum unless it lingers — so
they are counted and reported. SPECS.md ("Subtitle lint") explains each rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

from .cues import Cue
from .presets import CueLimits

logger = logging.getLogger(__name__)

_EPS_MS = 1  # times are whole milliseconds; limits in seconds are compared to the millisecond


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _chars(cue: Cue) -> int:
    return sum(len(line) for line in cue.lines)


def _cps(cue: Cue) -> float:
    return _chars(cue) / max((cue.end_ms - cue.start_ms) / 1000.0, 1e-3)


# (cue, next cue or None, limits) -> does this cue break the rule?
_Check = Callable[[Cue, Optional[Cue], CueLimits], bool]


@dataclass(frozen=True)
class Rule:
    """One rule of a preset, as the lint checks it."""

    #: the rule's name in the report (the limit it checks, or "overlap")
    name: str
    #: a hard rule is never broken by Hearback's own layout
    hard: bool
    #: whether a cue breaks it
    broken: _Check


#: every rule the lint counts, hard rules first
RULES: tuple[Rule, ...] = (
    Rule("max_line_chars", True, lambda c, n, lim: any(len(line) > lim.max_line_chars for line in c.lines)),
    Rule("max_lines", True, lambda c, n, lim: len(c.lines) > lim.max_lines),
    Rule("max_cue_seconds", True, lambda c, n, lim: c.end_ms - c.start_ms > _ms(lim.max_cue_seconds)),
    Rule("overlap", True, lambda c, n, lim: n is not None and n.start_ms < c.end_ms),
    Rule("min_gap_seconds", True,
         lambda c, n, lim: n is not None and c.end_ms <= n.start_ms < c.end_ms + _ms(lim.min_gap_seconds)),
    Rule("max_cps", False, lambda c, n, lim: _cps(c) > lim.max_cps + 1e-9),
    Rule("min_cue_seconds", False, lambda c, n, lim: c.end_ms - c.start_ms < _ms(lim.min_cue_seconds) - _EPS_MS),
)


@dataclass(frozen=True)
class LintReport:
    """The cues of one subtitle file against the rules of its preset."""

    #: the preset's name
    preset: str
    #: how many cues there are
    cues: int
    #: rule name → how many cues break it (every rule of :data:`RULES`, 0 included)
    breaks: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"preset": self.preset, "cues": self.cues, "breaks": dict(self.breaks),
                "hard_rules": [r.name for r in RULES if r.hard]}

    def summary(self) -> str:
        """One line for people: ``netflix: 42 cues; max_cps 2 (4.8%), ...``."""
        parts = [f"{name} {count} ({100 * count / max(self.cues, 1):.1f}%)"
                 for name, count in self.breaks.items() if count]
        return f"{self.preset}: {self.cues} cues; " + (", ".join(parts) if parts else "every rule kept")


def lint(cues: Sequence[Cue], limits: CueLimits, preset: str) -> LintReport:
    """Count, for each rule, the cues of ``cues`` that break it."""
    following: list[Optional[Cue]] = [*cues[1:], None]
    breaks = {rule.name: sum(1 for cue, nxt in zip(cues, following) if rule.broken(cue, nxt, limits))
              for rule in RULES}
    return LintReport(preset, len(cues), breaks)
