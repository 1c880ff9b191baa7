"""Where cues begin and end: the layout a subtitler would choose, over the whole file at once.

A greedy cut (fill each cue, then start the next) leaves a short, fast remainder wherever a
long sentence ends, and cutting each speaker's turn on its own cannot see that the cue
before needs the time its neighbour would take. :func:`layout` weighs every way to lay out
the whole file (dynamic programming over the places a cue may start, in time order) and
keeps the cheapest. A cue is

* a stretch of one speaker's turn (:class:`Turn`) — lines of ``max_line_chars``, at most
  ``max_lines`` of them (the turn's speaker label on the first), ``max_cue_seconds`` of
  words, never across a pause of ``pause_break_seconds``; or
* when the preset allows it, a **dual-speaker cue**: the end of one turn and the start of the
  next speaker's, one dash line each (each fitting one line, label included), closer than the
  pause that ends a cue.

Each layout is timed as ``cuetiming.py`` will time it — cue by cue, the previous cue's end
and the next cue's first word known, chaining included, and for each cue whether it pushes
the next one's start (the late start) tried both ways — so what a cue costs is exact:

* **reading time**: a cue shown shorter than its characters need at ``max_cps``, or than
  ``min_cue_seconds``, costs most — a fixed amount plus an amount per second it lacks;
* **the cut**: the line-break penalty of the words on either side (``linebreak.py``: after a
  sentence end is best, after an article or inside a name worst); a cue that would end
  before its last word starts costs more than anything;
* **one cue more**: a small cost per cue, so cues use the room the preset allows; a dual cue
  costs a little more than two cues, unless one of its turns is shorter than the minimum
  duration (two short turns read better together than two flashes); a cue that pushes the
  next one's start costs a little, so cues keep to their words unless that costs reading time.

Per place, only the cheapest timing states that no other beats on both cost and end time are
kept (at most :data:`_STATES`), which keeps the work linear in the words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Sequence

from ..document import to_ms
from .linebreak import break_penalty, line_count
from .presets import CueLimits
from .timing import Clock, Spoken, chained_end, cue_span
from .tokens import Token

logger = logging.getLogger(__name__)

#: what one more cue costs (a plain mid-phrase cut costs 6, a sentence end 0)
_PER_CUE = 4.0
#: what a cue over the reading speed or under the minimum duration costs, plus _PER_SECOND
#: for every second it lacks
_TOO_FAST = 100.0
_PER_SECOND = 200.0
#: a dual-speaker cue costs 2 cues and this; less _SHORT_TURN when one of its turns is short
_DUAL, _SHORT_TURN = 1.0, 2.0
#: a cue that ends before its last word starts (the word would show in no cue)
_HIDDEN = 10_000.0
#: what pushing the next cue's start costs: a little, so that cues keep to their words
#: unless that costs reading time
_PUSH = 0.5
#: timing states kept per place where a cue may start
_STATES = 24


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


@dataclass(frozen=True)
class Turn:
    """One speaker's words between two changes of speaker (or long pauses), as laid out."""

    #: who speaks (None: diarization off)
    speaker: Optional[str]
    #: the words, in time order
    tokens: tuple[Token, ...]
    #: shown before its first word (the SRT speaker label; "" for none)
    label: str


@dataclass(frozen=True)
class Piece:
    """One speaker's words in a cue."""

    #: who speaks
    speaker: Optional[str]
    #: the words
    tokens: tuple[Token, ...]
    #: the turn's label when the piece starts the turn, else ""
    label: str


@dataclass(frozen=True)
class Plan:
    """One cue as the layout chose it."""

    #: one piece; two for a dual-speaker cue (one dash line each)
    pieces: tuple[Piece, ...]
    #: it may end up to the late start into the next cue's first word (``cuetiming.cue_span``)
    push: bool


@dataclass(frozen=True)
class _Option:
    """A cue that may start at a place: its words, where the next cue starts, its cost."""

    #: (turn, first token, end token) of each piece
    spans: tuple[tuple[int, int, int], ...]
    #: (turn, token) where the next cue starts
    following: tuple[int, int]
    #: what timing needs to know
    spoken: Spoken
    #: what it costs besides reading time
    cost: float


@dataclass(frozen=True)
class _State:
    """A way to reach a place: its cost so far, and the last cue's times (step 1)."""

    #: what the cues so far cost (the last one's lacking time not yet: chaining may make it up)
    cost: float
    #: the last cue's start, ms
    start: int
    #: the last cue's end before chaining, ms
    end: int
    #: ms the last cue lacks before chaining (<= 0: none)
    deficit: int
    #: (place, index of the state there, the last cue, whether it pushes); None: the file's start
    back: Optional[tuple[tuple[int, int], int, _Option, bool]]


def _lack_cost(deficit: int) -> float:
    return _TOO_FAST + _PER_SECOND * deficit / 1000.0 if deficit > 0 else 0.0


def _spoken(turns: Sequence[Turn], spans: Sequence[tuple[int, int, int]], chars: int) -> Spoken:
    tokens = [t for k, i, j in spans for t in turns[k].tokens[i:j]]
    return Spoken(to_ms(tokens[0].start), to_ms(max(t.end for t in tokens)),
                  to_ms(max(t.start for t in tokens)), chars)


class _Places:
    """The cues that may start at each place of the file (turn, token)."""

    def __init__(self, turns: Sequence[Turn], limits: CueLimits, language: Optional[str], dash: str) -> None:
        self.turns, self.limits, self.language, self.dash = turns, limits, language, dash
        self.clock = Clock.of(limits)
        self.cuts: list[list[int]] = []  # per turn: tokens a cue may start at, and its end
        self.must: list[set[int]] = []  # per turn: tokens a cue must start at (after a long pause)
        for turn in turns:
            tokens = turn.tokens
            may = [k for k in range(1, len(tokens)) if tokens[k].breakable]
            self.cuts.append([0, *may, len(tokens)])
            self.must.append({k for k in may
                              if tokens[k].start - tokens[k - 1].end >= limits.pause_break_seconds})

    def first_ms(self, place: tuple[int, int]) -> Optional[int]:
        k, t = place
        return to_ms(self.turns[k].tokens[t].start) if k < len(self.turns) else None

    def _after(self, k: int, j: int) -> tuple[int, int]:
        return (k, j) if j < len(self.turns[k].tokens) else (k + 1, 0)

    def _cut_cost(self, k: int, j: int) -> float:
        tokens = self.turns[k].tokens
        return break_penalty(tokens[j - 1].text, tokens[j].text, self.language) if j < len(tokens) else 0.0

    def _label(self, k: int, i: int) -> str:
        return self.turns[k].label if i == 0 else ""

    def singles(self, k: int, i: int) -> list[_Option]:
        """One speaker's cues from token ``i`` of turn ``k``: every end that fits."""
        tokens, limits, label = self.turns[k].tokens, self.limits, len(self._label(k, i))
        out: list[_Option] = []
        for n, j in enumerate(c for c in self.cuts[k] if c > i):
            found = pairs(tokens[i:j])
            lines = line_count(found, limits.max_line_chars, label)
            too_long = max(t.end for t in tokens[i:j]) - tokens[i].start > limits.max_cue_seconds
            if n and (lines > limits.max_lines or too_long):
                break  # a single unit always goes; longer spans only while they fit
            spaced = any(s == " " for s, _t in found[1:])
            chars = label + width(tokens[i:j]) - (lines - 1 if spaced else 0)
            spans = ((k, i, j),)
            out.append(_Option(spans, self._after(k, j), _spoken(self.turns, spans, chars),
                               _PER_CUE + self._cut_cost(k, j)))
            if j in self.must[k]:
                break  # a long pause ends the cue
        return out

    def _line(self, k: int, i: int, j: int) -> Optional[int]:
        """Characters of a dash line of turn ``k``'s tokens i:j, or None when over a line."""
        chars = len(self.dash + self._label(k, i)) + width(self.turns[k].tokens[i:j])
        return chars if chars <= self.limits.max_line_chars else None

    def duals(self, k: int, i: int) -> list[_Option]:
        """Dual-speaker cues from token ``i`` of turn ``k``: the rest of the turn on one dash
        line, the start of the next turn (another speaker's) on the other."""
        limits, turns = self.limits, self.turns
        if not limits.dual_speakers or k + 1 >= len(turns) or any(m > i for m in self.must[k]):
            return []
        tail, head = turns[k].tokens[i:], turns[k + 1].tokens
        if turns[k].speaker is None or turns[k + 1].speaker in (None, turns[k].speaker):
            return []
        upper = self._line(k, i, len(turns[k].tokens))
        if upper is None or head[0].start - max(t.end for t in tail) >= limits.pause_break_seconds:
            return []
        out: list[_Option] = []
        for j in (c for c in self.cuts[k + 1] if c > 0):
            lower = self._line(k + 1, 0, j)
            last = max(t.end for t in (*tail, *head[:j]))
            if lower is None or last - tail[0].start > limits.max_cue_seconds:
                break
            spans = ((k, i, len(tail) + i), (k + 1, 0, j))
            short = any(max(t.end for t in ts) - ts[0].start < limits.min_cue_seconds for ts in (tail, head[:j]))
            cost = 2 * _PER_CUE + _DUAL - (_SHORT_TURN if short else 0.0) + self._cut_cost(k + 1, j)
            out.append(_Option(spans, self._after(k + 1, j), _spoken(turns, spans, upper + lower), cost))
            if j in self.must[k + 1]:
                break
        return out


def _beats(a: _State, b: _State, earliest: int) -> bool:
    """``a`` is as good as ``b`` for whatever follows: it ends no later and costs no more even
    if its last cue's lacking time is never made up, or it ends when ``b`` does, lacking no
    more, at no more cost."""
    if a.end == b.end and a.start >= b.start:
        return a.cost <= b.cost and a.deficit <= b.deficit
    return max(a.end, earliest) <= max(b.end, earliest) and a.cost + _lack_cost(a.deficit) <= b.cost


def _prune(states: Sequence[_State], earliest: int) -> list[_State]:
    """The cheapest states no other beats: one that costs no more even if its last cue's
    lacking time is never made up, and ends no later, makes a state useless. Ends before
    ``earliest`` (the next cue's first word less the lead-in and the gap) are all as good."""
    kept: list[_State] = []
    for state in sorted(states, key=lambda s: (s.cost, s.deficit, s.end)):
        if any(_beats(k, state, earliest) for k in kept):
            continue
        kept.append(state)
        if len(kept) == _STATES:
            break
    return kept


def _settled(state: _State, start: int, clock: Clock) -> float:
    """What the previous cue's lacking time costs once the next cue starts at ``start``
    (chaining may close the gap between them)."""
    if state.deficit <= 0 or state.back is None:
        return 0.0
    end = chained_end(state.end, state.start, start, clock)
    return _lack_cost(state.deficit - (end - state.end))


def _timings(spoken: Spoken, floor: int, following: Optional[int], clock: Clock) -> list[tuple[bool, int, int]]:
    """(push, start, end) of each way worth trying: timed to its words, and pushing the next
    cue when that leaves it short of time."""
    start, end = cue_span(spoken, floor, following, False, clock)
    out = [(False, start, end)]
    if following is not None and end - start < clock.needed(spoken.chars):
        pushed = cue_span(spoken, floor, following, True, clock)
        if pushed != (start, end):
            out.append((True, *pushed))
    return out


def _steps(places: _Places, place: tuple[int, int], states: Sequence[_State]) -> list[tuple[tuple[int, int], _State]]:
    """Every cue from ``place``, after each of its states, timed every way worth trying."""
    clock = places.clock
    out: list[tuple[tuple[int, int], _State]] = []
    for option in places.singles(*place) + places.duals(*place):
        following = places.first_ms(option.following)
        need = clock.needed(option.spoken.chars)
        hidden = option.spoken.last_start_ms
        for index, state in enumerate(states):
            floor = state.end + clock.gap if state.back is not None else 0
            for push, start, end in _timings(option.spoken, floor, following, clock):
                cost = state.cost + _settled(state, start, clock) + option.cost + (_PUSH if push else 0.0)
                cost += _HIDDEN if end <= hidden else 0.0
                out.append((option.following, _State(cost, start, end, need - (end - start),
                                                     (place, index, option, push))))
    return out


def _plans(turns: Sequence[Turn], table: dict, last: _State) -> list[Plan]:
    """The cues of the cheapest layout, read back from its last state."""
    plans: list[Plan] = []
    state = last
    while state.back is not None:
        place, index, option, push = state.back
        pieces = tuple(Piece(turns[k].speaker, turns[k].tokens[i:j], turns[k].label if i == 0 else "")
                       for k, i, j in option.spans)
        plans.append(Plan(pieces, push))
        state = table[place][index]
    return list(reversed(plans))


def layout(turns: Sequence[Turn], limits: CueLimits, language: Optional[str] = None,
           dash: str = "-") -> list[Plan]:
    """The cheapest layout of ``turns`` (in time order) into cues (module docstring);
    ``dash`` starts each line of a dual-speaker cue."""
    turns = [turn for turn in turns if turn.tokens]
    if not turns:
        return []
    places = _Places(turns, limits, language, dash)
    table: dict[tuple[int, int], list[_State]] = {(0, 0): [_State(0.0, 0, 0, 0, None)]}
    pending: dict[tuple[int, int], list[_State]] = {}
    order = [(k, i) for k, cuts in enumerate(places.cuts) for i in cuts[:-1]]
    for place in order:
        earliest = places.first_ms(place) - places.clock.lead_in - places.clock.gap
        states = _prune(table.get(place, []) + pending.pop(place, []), earliest)
        table[place] = states
        for following, state in _steps(places, place, states):
            pending.setdefault(following, []).append(state)
    ends = pending.pop((len(turns), 0), [])
    best = min(ends, key=lambda s: s.cost + _lack_cost(s.deficit))
    return _plans(turns, table, best)
