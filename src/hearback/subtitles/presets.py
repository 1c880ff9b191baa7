"""Subtitle presets: the limits of a published subtitling standard, as one :class:`CueLimits`.

``netflix`` (the default) follows the Netflix Timed Text Style Guide (general requirements,
and the English (USA) and French guides where they differ); ``bbc`` the BBC subtitle
guidelines. SPECS.md ("Subtitle presets") cites the rule behind every number. A caller may
override any limit (:data:`OVERRIDES`); :func:`preset_limits` is the one way to get limits.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping, Optional

logger = logging.getLogger(__name__)

#: two frames at 24 fps, the frame rate Netflix's examples use (5/6 s = 20 frames)
_FRAME = 1 / 24


@dataclass(frozen=True)
class CueLimits:
    """How a subtitle cue may be laid out and timed. The defaults lay out cues only (no
    timing rule): what :func:`preset_limits` starts from."""

    #: characters per line, everything shown counted (a speaker label or dash included)
    max_line_chars: int = 42
    #: lines per cue
    max_lines: int = 2
    #: shortest cue, seconds (0: no minimum)
    min_cue_seconds: float = 0.0
    #: longest cue, seconds
    max_cue_seconds: float = 7.0
    #: reading speed: characters shown per second of cue, at most (inf: no limit)
    max_cps: float = math.inf
    #: the shortest gap between two cues, seconds (0: cues may touch)
    min_gap_seconds: float = 0.0
    #: cues closer than this are chained: the first ends min_gap_seconds before the next
    chain_gap_seconds: float = 0.0
    #: how long before its first word a cue may start, seconds
    lead_in_seconds: float = 0.0
    #: how long after its last word a cue may stay to meet the reading speed, seconds
    lead_out_seconds: float = 0.0
    #: how long after its first word a cue may start, to give the cue before it reading time
    late_start_seconds: float = 0.0
    #: a silence at least this long between two words always ends a cue
    pause_break_seconds: float = 1.5
    #: two short turns of different speakers may share one cue, one dash line each
    dual_speakers: bool = False

    def __post_init__(self) -> None:
        if self.max_line_chars < 1 or self.max_lines < 1 or not self.max_cue_seconds > 0:
            raise ValueError("max_line_chars and max_lines must be >= 1 and max_cue_seconds > 0")
        if not self.pause_break_seconds > 0 or not self.max_cps > 0:
            raise ValueError("pause_break_seconds and max_cps must be > 0")
        seconds = (self.min_cue_seconds, self.min_gap_seconds, self.chain_gap_seconds,
                   self.lead_in_seconds, self.lead_out_seconds, self.late_start_seconds)
        if any(not (value >= 0 and math.isfinite(value)) for value in seconds):
            raise ValueError("durations must be finite and >= 0")
        if self.min_cue_seconds > self.max_cue_seconds:
            raise ValueError("min_cue_seconds must not exceed max_cue_seconds")


_NETFLIX = CueLimits(
    max_line_chars=42, max_lines=2, min_cue_seconds=20 * _FRAME, max_cue_seconds=7.0,
    max_cps=17.0, min_gap_seconds=2 * _FRAME, chain_gap_seconds=12 * _FRAME,
    lead_in_seconds=3 * _FRAME, lead_out_seconds=12 * _FRAME, late_start_seconds=3 * _FRAME,
    dual_speakers=True,
)

_BBC = CueLimits(
    max_line_chars=37, max_lines=2, min_cue_seconds=1.0, max_cue_seconds=7.0,
    max_cps=16.0, min_gap_seconds=2 * _FRAME, chain_gap_seconds=12 * _FRAME,
    lead_in_seconds=1.5, lead_out_seconds=1.5, dual_speakers=False,
)

#: preset name → {language or "*": limits}; "*" is every language without a guide of its own
PRESETS: dict[str, dict[str, CueLimits]] = {
    "netflix": {"*": _NETFLIX, "en": replace(_NETFLIX, max_cps=20.0)},
    "bbc": {"*": _BBC},
}

#: the limits a caller may override, with their type
OVERRIDES: dict[str, type] = {
    "max_line_chars": int, "max_lines": int, "min_cue_seconds": float,
    "max_cue_seconds": float, "max_cps": float, "min_gap_seconds": float,
}

_LIMIT_FIELDS = {f.name for f in fields(CueLimits)}
assert set(OVERRIDES) <= _LIMIT_FIELDS


def preset_limits(name: str, language: Optional[str] = None,
                  overrides: Optional[Mapping[str, Any]] = None) -> CueLimits:
    """The limits of preset ``name`` for ``language``, with ``overrides`` applied.

    Raises :class:`ValueError` for an unknown preset, an unknown override or a value
    the limits refuse.
    """
    key = str(name).strip().lower()
    if key not in PRESETS:
        raise ValueError(f"unknown subtitle_style {name!r}: use one of {', '.join(PRESETS)}")
    by_language = PRESETS[key]
    limits = by_language.get((language or "").lower(), by_language["*"])
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(given) - set(OVERRIDES)
    if unknown:
        raise ValueError(f"unknown subtitle limit(s) {', '.join(sorted(unknown))}")
    return replace(limits, **{k: OVERRIDES[k](v) for k, v in given.items()})
