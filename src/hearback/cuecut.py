"""Where one speaker's run of words is cut into cues: the cuts a subtitler would choose.

A greedy cut (fill each cue, then start the next) leaves a short, fast remainder wherever a
long sentence ends, and ignores where the speaker pauses. :func:`cut_run` instead weighs
every way to cut a run (dynamic programming over the places a cue may start) and keeps the
cheapest, where a cue costs:

* **reading speed**: its characters against the time it can show — from its first word
  less the lead-in (leaving the cue before it its lead-out and the minimum gap) to its last
  word plus the lead-out (not after the next cue's words begin less the gap; up to them
  when closer than the chaining threshold), as ``cuetiming.py`` will time it. A cue read faster than ``max_cps`` costs most, by how much
  time it lacks, so a fast stretch shares a cue with slower words and pauses around it;
* **minimum duration**: a cue shorter than ``min_cue_seconds`` costs as much;
* **the cut itself**: the line-break penalty of the words on either side (``linebreak.py``:
  after a sentence end is best, after an article or inside a name worst);
* **one cue more**: a small cost per cue, so cues use the room the preset allows.

Hard limits are never traded: every cue fits ``max_lines`` lines of ``max_line_chars``
(the first one's speaker label included) and ``max_cue_seconds`` of words; a pause of
``pause_break_seconds`` always ends a cue; a unit longer than a line is a cue of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

from .cuetokens import Token
from .linebreak import break_penalty, line_count
from .presets import CueLimits

logger = logging.getLogger(__name__)

#: what one more cue costs (a plain mid-phrase cut costs 6, a sentence end 0)
_PER_CUE = 4.0
#: what a cue over the reading speed or under the minimum duration costs, plus _PER_SECOND
#: for every second it lacks
_TOO_FAST = 100.0
_PER_SECOND = 200.0


def units(tokens: Sequence[Token]) -> list[tuple[str, str, float]]:
    """(separator, text, start) pieces a line may not be broken inside."""
    out: list[tuple[str, str, float]] = []
    for token in tokens:
        if out and not token.breakable:
            sep, text, start = out[-1]
            out[-1] = (sep, text + token.sep + token.text, start)
        else:
            out.append((token.sep, token.text, token.start))
    return out


def pairs(tokens: Sequence[Token]) -> list[tuple[str, str]]:
    """(separator, text) of each unbreakable piece, as line wrapping takes them."""
    return [(sep, text) for sep, text, _start in units(tokens)]


def width(tokens: Sequence[Token]) -> int:
    """Characters the tokens take on one line (the first one's separator not counted)."""
    found = pairs(tokens)
    return len(found[0][1] + "".join(s + t for s, t in found[1:])) if found else 0


def _last_end(tokens: Sequence[Token], i: int, j: int) -> float:
    return max(t.end for t in tokens[i:j])


def _fits(tokens: Sequence[Token], i: int, j: int, limits: CueLimits, label: int) -> bool:
    """The hard limits: lines of the cue (label included on the first) and its words' span."""
    if _last_end(tokens, i, j) - tokens[i].start > limits.max_cue_seconds:
        return False
    return line_count(pairs(tokens[i:j]), limits.max_line_chars, label) <= limits.max_lines


@dataclass(frozen=True)
class Bounds:
    """The words around a run, in seconds: where the cues before end and after begin."""

    #: when the words before the run end (None: nothing before)
    before: Optional[float] = None
    #: when the words after the run begin (None: nothing after)
    after: Optional[float] = None


def shown_seconds(first: float, last: float, before: Optional[float], after: Optional[float],
                  limits: CueLimits) -> float:
    """How long a cue whose words run from ``first`` to ``last`` can show, when the words
    before it end at ``before`` and those after it begin at ``after`` (None: no words)."""
    start = first - limits.lead_in_seconds
    if before is not None:
        start = max(start, min(first, before + limits.lead_out_seconds + limits.min_gap_seconds))
    end = last + limits.lead_out_seconds
    if after is not None:  # up to the gap before the next words; closer than chaining: chained
        chained = after - end < limits.chain_gap_seconds
        end = after - limits.min_gap_seconds if chained else min(end, after - limits.min_gap_seconds)
    return max(end - start, 1e-3)


def lacking_seconds(chars: int, seconds: float, limits: CueLimits) -> float:
    """How much time a cue of ``chars`` shown ``seconds`` lacks for the reading speed or the
    minimum duration (0: none)."""
    return max(chars / limits.max_cps - seconds, limits.min_cue_seconds - seconds, 0.0)


def _cue_cost(tokens: Sequence[Token], i: int, j: int, limits: CueLimits, label: int,
              language: Optional[str], bounds: Bounds) -> float:
    before = _last_end(tokens, 0, i) if i > 0 else bounds.before
    after = tokens[j].start if j < len(tokens) else bounds.after
    seconds = shown_seconds(tokens[i].start, _last_end(tokens, i, j), before, after, limits)
    lacking = lacking_seconds(width(tokens[i:j]) + label, seconds, limits)
    cost = _PER_CUE + (_TOO_FAST + _PER_SECOND * lacking if lacking > 1e-9 else 0.0)
    if j < len(tokens):
        cost += break_penalty(tokens[j - 1].text, tokens[j].text, language)
        if tokens[j].start - tokens[j - 1].start <= limits.min_gap_seconds:
            cost += _TOO_FAST  # the cue must end before its last word starts
    return cost


def _starts(tokens: Sequence[Token], limits: CueLimits) -> tuple[list[int], set[int]]:
    """Where a cue may start (a breakable token) and where one must (after a long pause)."""
    may, must = [0], set()
    for k in range(1, len(tokens)):
        if tokens[k].breakable:
            may.append(k)
            if tokens[k].start - tokens[k - 1].end >= limits.pause_break_seconds:
                must.add(k)
    return may + [len(tokens)], must


def cut_run(tokens: Sequence[Token], limits: CueLimits, label: int = 0,
            language: Optional[str] = None, bounds: Bounds = Bounds()) -> list[list[Token]]:
    """The cheapest cut of one speaker's run into cues (module docstring); the first cue
    carries a speaker label of ``label`` characters; ``bounds``: the words around the run."""
    if not tokens:
        return []
    cuts, must = _starts(tokens, limits)
    best: dict[int, tuple[float, int]] = {0: (0.0, -1)}
    for a, i in enumerate(cuts[:-1]):
        if i not in best:
            continue
        prefix = label if i == 0 else 0
        for b, j in enumerate(cuts[a + 1:], start=a + 1):
            if b > a + 1 and not _fits(tokens, i, j, limits, prefix):
                break  # a single unit always goes; longer spans only while they fit
            value = best[i][0] + _cue_cost(tokens, i, j, limits, prefix, language, bounds)
            if value < best.get(j, (float("inf"), 0))[0]:
                best[j] = (value, i)
            if j in must:
                break  # a long pause ends the cue
    chunks, j = [], len(tokens)
    while j > 0:
        i = best[j][1]
        chunks.append(list(tokens[i:j]))
        j = i
    return list(reversed(chunks))
