"""Where subtitles break: the cue-layout engine behind the SRT and VTT writers.

:func:`build_cues` turns a :class:`~hearback.types.Result` into :class:`Cue` objects
within one :class:`~hearback.presets.CueLimits` (a preset's; ``presets.py``); the writers
(``writers.py``) only format them. Times are rounded once, by :func:`to_ms` (the JSON
document too), so they never disagree.

* A speaker's words run on across segments (``cuetokens.join_runs``) until the speaker
  changes or pauses ``pause_break_seconds``; a cue never spans two speakers' runs, except a
  dual-speaker cue: when the preset allows it, two turns of different speakers that each
  fit one line share a cue, one dash line each ("-" in English, "- " in French), where that
  breaks the reading speed or minimum duration less often than two cues would (or, both
  reading in time, where one turn lasts less than the minimum duration).
* A run is cut into cues where a subtitler would (``cuecut.py``): of every cut that keeps
  ``max_lines`` lines of ``max_line_chars`` characters and ``max_cue_seconds`` of words, the
  one whose cues lack the least reading time, then break at the best places (after a
  sentence, not after an article), in the fewest cues. A pause of ``pause_break_seconds``
  always ends a cue.
* Lines break where a subtitler would (``linebreak.py``). The speaker label the SRT writer
  puts where the speaker changes (none when only one voice speaks) is counted in the first
  line and in the reading speed, as every character shown.
* Cue times come from word times within the preset's timing rules (``cuetiming.py``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from .cuetiming import Spoken, cue_times
from .cuecut import Bounds, cut_run, lacking_seconds, shown_seconds, units, width
from .cuetokens import Run, Token, french_runs, join_runs, segment_runs, speaker_runs
from .linebreak import wrap
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


def _drafts(result: Result, limits: CueLimits, labels: Optional[Labeller]) -> list[_Draft]:
    """Every cue's tokens, in time order; a label where the speaker changes."""
    runs: list[Run] = [run for segment in result.segments for run in segment_runs(segment)]
    language = result.language
    if (language or "").lower().startswith("fr"):
        runs = french_runs(runs)
    runs.sort(key=lambda run: to_ms(run[1][0].start))
    if len({speaker for speaker, _tokens in runs if speaker is not None}) < 2:
        labels = None  # one voice: nobody to tell apart, so no label (Netflix: IDs only when needed)
    drafts: list[_Draft] = []
    previous: Optional[str] = None
    joined = join_runs(runs, limits.pause_break_seconds)
    for k, (speaker, tokens) in enumerate(joined):
        changed = labels is not None and speaker is not None and speaker != previous
        label = labels(speaker) if changed else ""
        bounds = Bounds(max(t.end for t in joined[k - 1][1]) if k else None,
                        joined[k + 1][1][0].start if k + 1 < len(joined) else None)
        for n, chunk in enumerate(cut_run(tokens, limits, len(label), language, bounds)):
            drafts.append(_Draft(speaker, tuple(chunk), label if n == 0 else ""))
        previous = speaker
    drafts.sort(key=lambda d: to_ms(d.tokens[0].start))
    return drafts


# --------------------------------------------------------------------------- dual speakers


def _dash(language: Optional[str]) -> str:
    """The dual-speaker dash: "- " as the French guide writes it, "-" as the English one."""
    return "- " if (language or "").lower().startswith("fr") else "-"


def _short(draft: _Draft, limits: CueLimits) -> bool:
    """A turn whose words alone last less than the minimum duration."""
    return _last(draft) - _first(draft) < limits.min_cue_seconds


def _first(draft: _Draft) -> float:
    return draft.tokens[0].start


def _last(draft: _Draft) -> float:
    return max(t.end for t in draft.tokens)


def _breaks(group: Sequence[_Draft], drafts: Sequence[_Draft], i: int, limits: CueLimits,
            prefix: Callable[[_Draft], str]) -> int:
    """1 when ``group`` (drafts[i:i + len(group)]) as one cue lacks reading time, else 0."""
    j = i + len(group)
    seconds = shown_seconds(_first(group[0]), _last(group[-1]), _last(drafts[i - 1]) if i else None,
                            _first(drafts[j]) if j < len(drafts) else None, limits)
    chars = sum(len(prefix(d)) + width(d.tokens) for d in group) if len(group) > 1 \
        else len(group[0].label) + width(group[0].tokens)
    return int(lacking_seconds(chars, seconds, limits) > 1e-9)


def _pairable(drafts: Sequence[_Draft], i: int, limits: CueLimits, prefix: Callable[[_Draft], str]) -> bool:
    """Two turns of different speakers share a cue when each fits a dash line, and the cue
    breaks the reading speed or the minimum duration less often than the two apart."""
    a, b = drafts[i], drafts[i + 1]
    if a.speaker is None or b.speaker is None or a.speaker == b.speaker:
        return False
    if _first(b) - _last(a) >= limits.pause_break_seconds or _last(b) - _first(a) > limits.max_cue_seconds:
        return False
    if any(len(prefix(d)) + width(d.tokens) > limits.max_line_chars for d in (a, b)):
        return False
    apart = _breaks((a,), drafts, i, limits, prefix) + _breaks((b,), drafts, i + 1, limits, prefix)
    together = _breaks((a, b), drafts, i, limits, prefix)
    return together < apart or (together == apart == 0 and (_short(a, limits) or _short(b, limits)))


def _groups(drafts: Sequence[_Draft], limits: CueLimits, prefix: Callable[[_Draft], str]) -> list[tuple[_Draft, ...]]:
    """Drafts grouped into cues: alone, or two short turns as one dual-speaker cue."""
    groups: list[tuple[_Draft, ...]] = []
    i = 0
    while i < len(drafts):
        if limits.dual_speakers and i + 1 < len(drafts) and _pairable(drafts, i, limits, prefix):
            groups.append((drafts[i], drafts[i + 1]))
            i += 2
        else:
            groups.append((drafts[i],))
            i += 1
    return groups


# --------------------------------------------------------------------------- cues


def _line(prefix: str, pieces: Sequence[tuple[str, str, float]], speaker: Optional[str]) -> CueLine:
    words = tuple(CueWord(sep if n else "", text, to_ms(start)) for n, (sep, text, start) in enumerate(pieces))
    return CueLine(prefix, words, speaker)


def _lines(group: Sequence[_Draft], limits: CueLimits, language: Optional[str],
           prefix: Callable[[_Draft], str]) -> tuple[CueLine, ...]:
    if len(group) == 2:
        return tuple(_line(prefix(d), units(d.tokens), d.speaker) for d in group)
    draft = group[0]
    pieces = units(draft.tokens)
    spans = wrap([(s, t) for s, t, _ in pieces], limits.max_line_chars, language, len(draft.label))
    return tuple(_line(draft.label if n == 0 else "", pieces[a:b], draft.speaker)
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
        return dash + draft.label

    groups = _groups(_drafts(result, limits, labels), limits, dual_prefix)
    layouts = [_lines(group, limits, language, dual_prefix) for group in groups]
    spoken = [
        Spoken(to_ms(group[0].tokens[0].start),
               to_ms(max(t.end for d in group for t in d.tokens)),
               to_ms(max(t.start for d in group for t in d.tokens)),
               sum(len(line.text) for line in lines))
        for group, lines in zip(groups, layouts)
    ]
    return [Cue(start, end, lines) for (start, end), lines in zip(cue_times(spoken, limits), layouts)]
