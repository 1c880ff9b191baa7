"""Where subtitles break: the cue-layout engine behind the SRT and VTT writers.

:func:`build_cues` turns a :class:`~hearback.types.Result` into :class:`Cue` objects
within one :class:`~hearback.presets.CueLimits` (a preset's; ``presets.py``); the writers
(``writers.py``) only format them. Times are rounded once, by :func:`to_ms` (the JSON
document too), so they never disagree.

* A cue never spans two segments or two speakers' runs (``cuetokens.py``), except a
  dual-speaker cue: when the preset allows it, two short turns of different speakers that
  each fit one line share a cue, one dash line each ("-" in English, "- " in French).
* A run is cut greedily into cues of at most ``max_lines`` lines of at most
  ``max_line_chars`` characters and at most ``max_cue_seconds`` of words (one word longer
  than either limit gets a cue of its own). Where the greedy cut would fall, the cue rather
  ends after the last sentence end (``.?!…``) that keeps at least a third of the text, else
  after the last clause mark (``,;:``) that keeps at least half of it, else not after an
  article, preposition or conjunction. A pause of ``pause_break_seconds`` always ends a cue.
* Lines break where a subtitler would (``linebreak.py``); the speaker label the SRT writer
  puts where the speaker changes is counted in the first line.
* Cue times come from word times within the preset's timing rules (``cuetiming.py``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from .cuetiming import Spoken, cue_times
from .cuetokens import CLAUSE_END, SENTENCE_END, Run, Token, french_runs, segment_runs, speaker_runs
from .linebreak import break_penalty, line_count, wrap
from .presets import CueLimits, preset_limits
from .types import Result

logger = logging.getLogger(__name__)

__all__ = ["Cue", "CueLine", "CueLimits", "CueWord", "build_cues", "speaker_runs", "to_ms"]

#: a speaker's label as a writer shows it (e.g. "[SPEAKER_00] "), or "" for none
Labeller = Callable[[str], str]


def to_ms(seconds: float) -> int:
    """Seconds to whole milliseconds, half up, never negative. The only rounding done."""
    value = float(seconds)
    if not math.isfinite(value):
        return 0
    return max(0, int(math.floor(value * 1000.0 + 0.5)))


@dataclass(frozen=True)
class CueWord:
    """A piece of a line that cannot be broken, with when it is spoken."""

    #: what separates it from the previous piece of the line ("" for the first)
    sep: str
    #: the text
    text: str
    #: when its first word starts, whole milliseconds
    start_ms: int


@dataclass(frozen=True)
class CueLine:
    """One line of a cue: a prefix (dash, speaker label) and the spoken words."""

    #: shown before the words: a dual-speaker dash and/or a speaker label ("" for none)
    prefix: str
    #: the words, in order
    words: tuple[CueWord, ...]
    #: who speaks (None when diarization is off)
    speaker: Optional[str]

    @property
    def spoken(self) -> str:
        return "".join(w.sep + w.text for w in self.words)

    @property
    def text(self) -> str:
        return self.prefix + self.spoken


@dataclass(frozen=True)
class Cue:
    """One subtitle: whole-millisecond times and its lines."""

    #: start, in whole milliseconds
    start_ms: int
    #: end, in whole milliseconds (always after the start)
    end_ms: int
    #: the lines, none empty
    parts: tuple[CueLine, ...]

    @property
    def start(self) -> float:
        return self.start_ms / 1000.0

    @property
    def end(self) -> float:
        return self.end_ms / 1000.0

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(p.text for p in self.parts)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def speaker(self) -> Optional[str]:
        return self.parts[0].speaker

    @property
    def dual(self) -> bool:
        """Two speakers, one dash line each."""
        return len({p.speaker for p in self.parts}) > 1


@dataclass(frozen=True)
class _Draft:
    """The tokens of one cue before its lines and times are set."""

    speaker: Optional[str]
    tokens: tuple[Token, ...]
    label: str  # the speaker label on its first line ("" for none)


# --------------------------------------------------------------------------- cutting runs


def _units(tokens: Sequence[Token]) -> list[tuple[str, str, float]]:
    """(separator, text, start) pieces a line may not be broken inside."""
    units: list[tuple[str, str, float]] = []
    for token in tokens:
        if units and not token.breakable:
            sep, text, start = units[-1]
            units[-1] = (sep, text + token.sep + token.text, start)
        else:
            units.append((token.sep, token.text, token.start))
    return units


def _pairs(tokens: Sequence[Token]) -> list[tuple[str, str]]:
    return [(sep, text) for sep, text, _start in _units(tokens)]


def _width(tokens: Sequence[Token]) -> int:
    pairs = _pairs(tokens)
    return len(pairs[0][1] + "".join(s + t for s, t in pairs[1:])) if pairs else 0


def _chunk(tokens: Sequence[Token], limits: CueLimits, label: int) -> list[list[Token]]:
    """Cut one speaker run into the token lists of its cues; the first carries ``label`` chars."""
    chunks: list[list[Token]] = []
    n, i = len(tokens), 0
    while i < n:
        prefix = label if not chunks else 0
        j, end, paused = i + 1, tokens[i].end, False
        while j < n:
            token = tokens[j]
            if token.breakable and token.start - tokens[j - 1].end >= limits.pause_break_seconds:
                paused = True
                break
            if max(end, token.end) - tokens[i].start > limits.max_cue_seconds:
                break
            if line_count(_pairs(tokens[i:j + 1]), limits.max_line_chars, prefix) > limits.max_lines:
                break
            end = max(end, token.end)
            j += 1
        if j < n and not paused:
            j = _choose_break(tokens, i, j)
        chunks.append(list(tokens[i:j]))
        i = j
    return chunks


def _choose_break(tokens: Sequence[Token], i: int, j: int) -> int:
    """Where to end the cue starting at ``i`` when ``tokens[i:j]`` is all that fits."""
    full = _width(tokens[i:j])
    for pattern, share in ((SENTENCE_END, 1 / 3), (CLAUSE_END, 1 / 2)):
        for k in range(j, i, -1):
            if not tokens[k].breakable or not pattern.search(tokens[k - 1].text):
                continue
            if _width(tokens[i:k]) >= share * full:
                return k
            break  # earlier marks would keep even less
    breakable = [k for k in range(j, i, -1) if tokens[k].breakable]
    for k in breakable:  # not after an article, a preposition or inside a name
        if _width(tokens[i:k]) < full / 2:
            break
        if break_penalty(tokens[k - 1].text, tokens[k].text, None) < 30:
            return k
    if breakable:
        return breakable[0]
    # no break allowed before j: the cue runs to the end of the unbreakable unit
    k = j
    while k < len(tokens) and not tokens[k].breakable:
        k += 1
    return k


def _drafts(result: Result, limits: CueLimits, labels: Optional[Labeller]) -> list[_Draft]:
    """Every cue's tokens, in time order; a label where the speaker changes."""
    runs: list[Run] = [run for segment in result.segments for run in segment_runs(segment)]
    if (result.language or "").lower().startswith("fr"):
        runs = french_runs(runs)
    runs.sort(key=lambda run: to_ms(run[1][0].start))
    drafts: list[_Draft] = []
    previous: Optional[str] = None
    for speaker, tokens in runs:
        changed = labels is not None and speaker is not None and speaker != previous
        label = labels(speaker) if changed else ""
        for n, chunk in enumerate(_chunk(tokens, limits, len(label))):
            drafts.append(_Draft(speaker, tuple(chunk), label if n == 0 else ""))
        previous = speaker
    drafts.sort(key=lambda d: to_ms(d.tokens[0].start))
    return drafts


# --------------------------------------------------------------------------- dual speakers


def _dash(language: Optional[str]) -> str:
    """The dual-speaker dash: "- " as the French guide writes it, "-" as the English one."""
    return "- " if (language or "").lower().startswith("fr") else "-"


def _short(draft: _Draft, limits: CueLimits) -> bool:
    """Too short to read on its own: under the minimum duration or over the reading speed."""
    seconds = max(t.end for t in draft.tokens) - draft.tokens[0].start
    return seconds < limits.min_cue_seconds or _width(draft.tokens) > limits.max_cps * seconds


def _pairable(a: _Draft, b: _Draft, limits: CueLimits, prefix: Callable[[_Draft], str]) -> bool:
    if a.speaker is None or b.speaker is None or a.speaker == b.speaker:
        return False
    if not (_short(a, limits) or _short(b, limits)):
        return False
    a_end = max(t.end for t in a.tokens)
    if b.tokens[0].start - a_end >= limits.pause_break_seconds:
        return False
    if max(t.end for t in b.tokens) - a.tokens[0].start > limits.max_cue_seconds:
        return False
    return all(len(prefix(d)) + _width(d.tokens) <= limits.max_line_chars for d in (a, b))


def _groups(drafts: Sequence[_Draft], limits: CueLimits, prefix: Callable[[_Draft], str]) -> list[tuple[_Draft, ...]]:
    """Drafts grouped into cues: alone, or two short turns as one dual-speaker cue."""
    groups: list[tuple[_Draft, ...]] = []
    i = 0
    while i < len(drafts):
        if limits.dual_speakers and i + 1 < len(drafts) and _pairable(drafts[i], drafts[i + 1], limits, prefix):
            groups.append((drafts[i], drafts[i + 1]))
            i += 2
        else:
            groups.append((drafts[i],))
            i += 1
    return groups


# --------------------------------------------------------------------------- cues


def _line(prefix: str, units: Sequence[tuple[str, str, float]], speaker: Optional[str]) -> CueLine:
    words = tuple(CueWord(sep if n else "", text, to_ms(start)) for n, (sep, text, start) in enumerate(units))
    return CueLine(prefix, words, speaker)


def _lines(group: Sequence[_Draft], limits: CueLimits, language: Optional[str],
           prefix: Callable[[_Draft], str]) -> tuple[CueLine, ...]:
    if len(group) == 2:
        return tuple(_line(prefix(d), _units(d.tokens), d.speaker) for d in group)
    draft = group[0]
    units = _units(draft.tokens)
    spans = wrap([(s, t) for s, t, _ in units], limits.max_line_chars, language, len(draft.label))
    return tuple(_line(draft.label if n == 0 else "", units[a:b], draft.speaker)
                 for n, (a, b) in enumerate(spans))


def build_cues(result: Result, limits: Optional[CueLimits] = None,
               labels: Optional[Labeller] = None) -> list[Cue]:
    """The subtitle cues of ``result``, shared by the SRT and VTT writers.

    ``limits`` defaults to the default preset for the result's language; ``labels`` gives
    the label shown where the speaker changes (None: no labels, as in WebVTT, whose voice
    tags carry the speaker). See the module docstring for the rules.
    """
    language = result.language
    limits = limits if limits is not None else preset_limits(language=language)
    dash = _dash(language)

    def dual_prefix(draft: _Draft) -> str:
        return dash + (labels(draft.speaker) if labels is not None and draft.speaker is not None else "")

    groups = _groups(_drafts(result, limits, labels), limits, dual_prefix)
    layouts = [_lines(group, limits, language, dual_prefix) for group in groups]
    spoken = [
        Spoken(to_ms(group[0].tokens[0].start),
               to_ms(max(t.end for d in group for t in d.tokens)),
               sum(len(line.text) for line in lines))
        for group, lines in zip(groups, layouts)
    ]
    return [Cue(start, end, lines) for (start, end), lines in zip(cue_times(spoken, limits), layouts)]
