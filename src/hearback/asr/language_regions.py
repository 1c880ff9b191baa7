"""Which language each part of a recording is in, when the caller lets Whisper decide.

Light on purpose (no model imports): the recogniser (:mod:`hearback.asr.recognizer`) uses the
rules below; the document's ``languages`` summary is :func:`hearback.document.language_shares`.

A recording is transcribed in the language Whisper detects on its first 30 s of speech, as
before. While it decodes, Whisper is asked for each chunk's language on the encoder output it
already has; a window where some chunk gives another language at least SUSPECT_PROBABILITY
is then checked region by region (one encoder pass over its speech regions). A region heard in
one language with at least SWITCH_PROBABILITY is in it; every other region (too short to tell,
or unsure) takes the language of its nearest sure neighbour, or of the neighbour its own best
guess agrees with (:func:`by_region`): the end of an English sentence Whisper is unsure of
(0.77) follows English, not the window's French. When some region is in another language, the
chunks of the first pass that hold one are decoded again from the audio, run by run of one
language (:func:`runs`), as clips of at most 30 s: the batched pass decoded a chunk holding
both languages in one of them and dropped whole sentences of the other.
"""

from __future__ import annotations

from typing import Sequence

#: A chunk that gives another language at least this probability gets its window checked
#: region by region (single-language meetings measured ≤ 0.07, bench/RESULTS.md).
SUSPECT_PROBABILITY = 0.15
#: A region is decoded in another language when Whisper hears that one with this probability.
SWITCH_PROBABILITY = 0.8
#: Regions shorter than this (s) are too short to tell: they follow their neighbours.
MIN_REGION_SECONDS = 1.0
#: Longest run (s) decoded as one clip: Whisper's input length.
RUN_SECONDS = 30.0
#: A pause (s) longer than this ends a run even in one language (a clip is about one turn).
RUN_GAP_SECONDS = 2.0

Region = tuple[float, float]


def suspect(languages: Sequence[tuple[str, float]], main: str) -> bool:
    """Whether a chunk's (language, probability) list gives another language a fair chance."""
    return any(code != main and p >= SUSPECT_PROBABILITY for code, p in languages)


def by_region(regions: Sequence[Region], found: dict[Region, Sequence[tuple[str, float]]],
              main: str) -> dict[Region, str]:
    """A language for every region (in order): ``found`` holds Whisper's (language, probability)
    list for the regions long enough to ask; sure ones (SWITCH_PROBABILITY) keep theirs, the
    others follow the nearest sure neighbour (before or after), or the one their own best
    guess agrees with; ``main`` when no region is sure."""
    sure = {r: f[0][0] for r, f in found.items() if f and f[0][1] >= SWITCH_PROBABILITY}
    out: dict[Region, str] = {}
    for index, region in enumerate(regions):
        if region in sure:
            out[region] = sure[region]
            continue
        before = next(((region[0] - r[1], sure[r]) for r in reversed(regions[:index]) if r in sure), None)
        after = next(((r[0] - region[1], sure[r]) for r in regions[index + 1:] if r in sure), None)
        near = [n for n in (before, after) if n is not None]
        guess = found.get(region, ())[:1]
        agreeing = [n for n in near if guess and n[1] == guess[0][0]]
        out[region] = min(agreeing or near)[1] if near else main
    return out


def runs(regions: Sequence[Region], languages: dict[Region, str]) -> list[tuple[str, float, float]]:
    """(language, start, end) clips over ``regions`` (in order): neighbours in one language
    share a clip while it stays within RUN_SECONDS and no pause exceeds RUN_GAP_SECONDS."""
    out: list[tuple[str, float, float]] = []
    for start, end in regions:
        code = languages[(start, end)]
        if out and out[-1][0] == code and end - out[-1][1] <= RUN_SECONDS and start - out[-1][2] <= RUN_GAP_SECONDS:
            out[-1] = (code, out[-1][1], end)
        else:
            out.append((code, start, end))
    return out
