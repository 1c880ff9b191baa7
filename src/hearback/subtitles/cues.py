"""Where subtitles break: the cue-layout engine behind the SRT and VTT writers.

:func:`build_cues` turns a :class:`~hearback.types.Result` into :class:`Cue` objects
within one :class:`~hearback.subtitles.presets.CueLimits` (a preset's; ``presets.py``); the writers
(``writers.py``) only format them. Times are rounded once, by :func:`to_ms` (the JSON
document too), so they never disagree.

* A speaker's words run on across segments (``cuetokens.join_runs``) until the speaker
  changes or pauses ``pause_break_seconds``: a :class:`~hearback.subtitles.layout.Turn`, with the
  label the SRT writer shows where the speaker changes (none when only one voice speaks).
* The whole file is laid out at once (``cuecut.layout``): where each cue begins and ends, a
  cue never spanning two turns except a dual-speaker cue (when the preset allows it: the end
  of one turn and the start of the next speaker's, one dash line each, "-" in English, "- "
  in French), and whether a cue pushes the next one's start — the layout whose cues lack the
  least reading time, then break at the best places, in the fewest cues.
* Lines break where a subtitler would (``linebreak.py``). The speaker label is counted in
  the first line and in the reading speed, as every character shown.
* Cue times come from word times within the preset's timing rules (``cuetiming.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from ..document import to_ms
from ..types import Result
from .layout import Plan, Turn, layout, units
from .linebreak import wrap
from .presets import CueLimits
from .timing import Spoken, cue_times
from .tokens import Run, french_runs, interleave, join_runs, segment_runs, speaker_runs

logger = logging.getLogger(__name__)

__all__ = ["Cue", "CueLine", "CueLimits", "CueWord", "build_cues", "speaker_runs", "to_ms"]

#: a speaker's label as a writer shows it (e.g. "[SPEAKER_00] "), or "" for none
Labeller = Callable[[str], str]


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


# --------------------------------------------------------------------------- turns


def _turns(result: Result, limits: CueLimits, labels: Optional[Labeller]) -> list[Turn]:
    """Every speaker's turns, in time order, each with its label where the speaker changes."""
    runs: list[Run] = [run for segment in result.segments for run in segment_runs(segment)]
    if (result.language or "").lower().startswith("fr"):
        runs = french_runs(runs)
    runs = interleave(runs)
    if len({speaker for speaker, _tokens in runs if speaker is not None}) < 2:
        labels = None  # one voice: nobody to tell apart, so no label (Netflix: IDs only when needed)
    turns: list[Turn] = []
    previous: Optional[str] = None
    for speaker, tokens in join_runs(runs, limits.pause_break_seconds):
        changed = labels is not None and speaker is not None and speaker != previous
        turns.append(Turn(speaker, tuple(tokens), labels(speaker) if changed else ""))
        previous = speaker
    return turns


def _dash(language: Optional[str]) -> str:
    """The dual-speaker dash: "- " as the French guide writes it, "-" as the English one."""
    return "- " if (language or "").lower().startswith("fr") else "-"


# --------------------------------------------------------------------------- cues


def _line(prefix: str, pieces: Sequence[tuple[str, str, float]], speaker: Optional[str]) -> CueLine:
    words = tuple(CueWord(sep if n else "", text, to_ms(start)) for n, (sep, text, start) in enumerate(pieces))
    return CueLine(prefix, words, speaker)


def _lines(plan: Plan, limits: CueLimits, language: Optional[str], dash: str) -> tuple[CueLine, ...]:
    """A dual cue's dash lines, or a cue's words wrapped where a subtitler would break them."""
    if len(plan.pieces) > 1:
        return tuple(_line(dash + p.label, units(p.tokens), p.speaker) for p in plan.pieces)
    piece = plan.pieces[0]
    found = units(piece.tokens)
    spans = wrap([(s, t) for s, t, _ in found], limits.max_line_chars, language, len(piece.label))
    return tuple(_line(piece.label if n == 0 else "", found[a:b], piece.speaker)
                 for n, (a, b) in enumerate(spans))


def _spoken(plan: Plan, lines: Sequence[CueLine]) -> Spoken:
    tokens = [t for piece in plan.pieces for t in piece.tokens]
    return Spoken(to_ms(tokens[0].start), to_ms(max(t.end for t in tokens)),
                  to_ms(max(t.start for t in tokens)), sum(len(line.text) for line in lines))


def build_cues(result: Result, limits: CueLimits,
               labels: Optional[Labeller] = None) -> list[Cue]:
    """The subtitle cues of ``result``, shared by the SRT and VTT writers.

    ``limits`` are a preset's for the result's language (:func:`~hearback.subtitles.presets.preset_limits`);
    ``labels`` gives the label shown where the speaker changes (None: no labels, as in WebVTT, whose voice
    tags carry the speaker). See the module docstring for the rules.
    """
    language = result.language
    dash = _dash(language)
    plans = layout(_turns(result, limits, labels), limits, language, dash)
    layouts = [_lines(plan, limits, language, dash) for plan in plans]
    spoken = [_spoken(plan, lines) for plan, lines in zip(plans, layouts)]
    pushes = [plan.push for plan in plans]
    order = sorted(range(len(plans)), key=lambda n: spoken[n].first_ms)
    if order != list(range(len(plans))):  # overlapping turns: time order, no late starts
        layouts, spoken, pushes = [layouts[n] for n in order], [spoken[n] for n in order], None
    times = cue_times(spoken, limits, pushes)
    return [Cue(start, end, lines) for (start, end), lines in zip(times, layouts)]
