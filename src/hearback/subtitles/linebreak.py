"""Where a subtitler breaks a line, and French typography.

Netflix's general requirements (line treatment) and the BBC guidelines (3.4 "Break at
natural points") agree: break after punctuation, before a conjunction or a preposition;
never between an article (or a determiner) and its noun, nor between a first and a last
name. :func:`wrap` takes the fewest lines that fit, then the break points those rules
like best, then balanced lines, bottom-heavy when they cannot be equal.
"""

from __future__ import annotations

import logging
import re
from typing import Sequence

logger = logging.getLogger(__name__)

#: words a line should not end with (they belong to what follows): articles, determiners,
#: prepositions, conjunctions, subject pronouns
_GLUE = {
    "en": set("""a an the this that these those my your his her its our their some any no
        every each of to in on at by for from with about into onto over under after before
        between through during without within and or but nor so yet if because as than
        when while where whether although though I you he she we they it's I'm I'll I've
        I'd don't doesn't didn't can't won't not Mr Mrs Ms Dr""".split()),
    "fr": set("""le la les l' un une des du de d' au aux ce cet cette ces mon ma mes ton ta
        tes son sa ses notre nos votre vos leur leurs à en dans sur sous pour par avec sans
        chez vers entre et ou mais donc or ni car que qu' quand si comme je j' tu il elle
        on nous vous ils elles ne n' se s' me m' te t' y M. Mme Mlle""".split()),
}
#: words a line likes to start with: conjunctions and prepositions
_STARTERS = {
    "en": set("""and or but nor so yet because although though when while where whether
        if unless until since that which who whom whose of to in on at by for from with
        about into over under after before between through during without""".split()),
    "fr": set("""et ou mais donc or ni car parce puisque quand lorsque si que qui dont où
        à de dans sur sous pour par avec sans chez vers entre pendant depuis""".split()),
}
#: words a line should not start with (they belong to what precedes): verb particles
_NO_START = {"en": set("up down out off away back".split()), "fr": set()}
_PUNCT_END = re.compile(r"[.?!…,;:—–)\]»\"”]$")
_WORD = re.compile(r"[\w'’.-]+", re.UNICODE)

# break penalties: lower is better
_AFTER_SENTENCE, _AFTER_CLAUSE, _BEFORE_STARTER, _PLAIN, _AFTER_GLUE, _IN_NAME = 0, 1, 2, 6, 30, 40


def _bare(text: str) -> str:
    match = _WORD.search(text)
    return match.group(0).strip("'’.-") if match else ""


def _lang(language: str | None) -> str:
    return (language or "en").lower()[:2]


def break_penalty(before: str, after: str, language: str | None) -> int:
    """How much a subtitler dislikes a line break between the words ``before`` and ``after``."""
    lang = _lang(language)
    glue, starters = _GLUE.get(lang, set()), _STARTERS.get(lang, set())
    if re.search(r"[.?!…]\W*$", before):
        return _AFTER_SENTENCE
    if _PUNCT_END.search(before):
        return _AFTER_CLAUSE
    last = _bare(before)
    if last in glue or last.lower() in glue or before.endswith(("'", "’")):
        return _AFTER_GLUE
    first = _bare(after)
    if first.lower() in _NO_START.get(lang, set()):
        return _AFTER_GLUE  # "pick | up": keep a verb with its particle
    if first.lower() in starters:
        return _BEFORE_STARTER
    if last[:1].isupper() and first[:1].isupper() and len(last) > 1:
        return _IN_NAME  # "Barack | Obama": keep a name together
    return _PLAIN


def _joined(units: Sequence[tuple[str, str]]) -> str:
    return units[0][1] + "".join(sep + text for sep, text in units[1:]) if units else ""


def line_count(units: Sequence[tuple[str, str]], max_chars: int, first_prefix: int = 0) -> int:
    """Lines greedy wrapping needs (the fewest); a unit longer than a line gets its own.
    ``first_prefix`` characters (a speaker label) come before the first line's text."""
    lines, width = 0, 0
    for sep, text in units:
        if lines and width + len(sep) + len(text) <= max_chars:
            width += len(sep) + len(text)
        else:
            width = len(text) + (first_prefix if lines == 0 else 0)
            lines += 1
    return lines


def wrap(units: Sequence[tuple[str, str]], max_chars: int, language: str | None,
         first_prefix: int = 0) -> list[tuple[int, int]]:
    """Lines as (first unit, end unit) spans: the fewest that fit, then the best breaks.

    A line's cost is its break's penalty plus how unbalanced it is; a line longer than the
    one below it costs a little more (bottom-heavy). Every line fits in ``max_chars``
    (``first_prefix`` included on the first) unless a single unit is longer than a line.
    """
    n = len(units)
    count = line_count(units, max_chars, first_prefix)
    if count <= 1:
        return [(0, n)]
    total = len(_joined(units)) + first_prefix
    ideal = total / count

    def width(a: int, b: int) -> int:
        return len(_joined(units[a:b])) + (first_prefix if a == 0 else 0)

    def fits(a: int, b: int) -> bool:
        return width(a, b) <= max_chars or b - a == 1

    inf = float("inf")
    # best[(k, i, j)]: cost of units[:j] on k lines, the last one units[i:j]
    best: dict[tuple[int, int, int], float] = {}
    back: dict[tuple[int, int, int], int] = {}
    for j in range(1, n + 1):
        if fits(0, j):
            best[(1, 0, j)] = abs(width(0, j) - ideal)
    for k in range(2, count + 1):
        for (kk, h, i), cost in list(best.items()):
            if kk != k - 1:
                continue
            for j in range(i + 1, n + 1):
                if not fits(i, j):
                    break
                upper, lower = width(h, i), width(i, j)
                penalty = break_penalty(units[i - 1][1], units[i][1], language) * 4
                top_heavy = 2 if upper > lower else 0
                value = cost + penalty + abs(lower - ideal) + top_heavy
                if value < best.get((k, i, j), inf):
                    best[(k, i, j)], back[(k, i, j)] = value, h
    ends = [(cost, i) for (k, i, j), cost in best.items() if k == count and j == n]
    if not ends:  # cannot happen: greedy wrapping found `count` lines
        logger.debug("no balanced wrap found; keeping one line per unit")
        return [(i, i + 1) for i in range(n)]
    _cost, i = min(ends)
    spans, j, k = [], n, count
    while k >= 1:
        spans.append((i, j))
        if k == 1:
            break
        i, j, k = back[(k, i, j)], i, k - 1
    return list(reversed(spans))


_NBSP = "\u00a0"


def french_spacing(text: str) -> str:
    """French typography: a non-breaking space before ``? ! : ;`` and inside « »."""
    text = re.sub(r"(?<=[\w»)\]\"”…])\s*([?!:;])(?!//)", _NBSP + r"\1", text)
    text = re.sub(r"«\s*", "«" + _NBSP, text)
    return re.sub(r"\s*»", _NBSP + "»", text)
