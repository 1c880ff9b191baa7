"""Which language each part of a recording is in, when the caller lets Whisper decide.

Light on purpose (no model imports): the writers use :func:`language_shares` for the
document's ``languages`` summary; ``asr.py`` uses the rules below.

A recording is transcribed in the language Whisper detects on its first 30 s of speech, as
before. While it decodes, Whisper is asked for each chunk's language on the encoder output it
already has; a window where some chunk gives another language at least SUSPECT_PROBABILITY
is then checked region by region (one encoder pass over its speech regions), and the regions
heard in another language with at least SWITCH_PROBABILITY are decoded again in it.
"""

from __future__ import annotations

from typing import Optional, Sequence

from .types import Segment

#: A chunk that gives another language at least this probability gets its window checked
#: region by region (single-language meetings measured ≤ 0.07, bench/RESULTS.md).
SUSPECT_PROBABILITY = 0.15
#: A region is decoded in another language when Whisper hears that one with this probability.
SWITCH_PROBABILITY = 0.8
#: Regions shorter than this (s) are too short to tell: they keep the window's language.
MIN_REGION_SECONDS = 1.0


def suspect(languages: Sequence[tuple[str, float]], main: str) -> bool:
    """Whether a chunk's (language, probability) list gives another language a fair chance."""
    return any(code != main and p >= SUSPECT_PROBABILITY for code, p in languages)


def switched(languages: Sequence[tuple[str, float]], main: str) -> Optional[str]:
    """The other language a region is confidently in, else None."""
    if languages and languages[0][0] != main and languages[0][1] >= SWITCH_PROBABILITY:
        return languages[0][0]
    return None


def language_shares(segments: Sequence[Segment], default: str) -> list[tuple[str, float]]:
    """Each language with its share of speech (segment time; a segment without a language counts
    as ``default``), largest first; empty when there is no speech."""
    seconds: dict[str, float] = {}
    for seg in segments:
        language = seg.language or default
        seconds[language] = seconds.get(language, 0.0) + max(float(seg.end) - float(seg.start), 0.0)
    total = sum(seconds.values())
    if total <= 0:
        return [(default, 1.0)] if segments else []
    return sorted(((code, round(s / total, 4)) for code, s in seconds.items()), key=lambda x: -x[1])
