"""Repetition loops: Whisper's known failure on short or unclear speech ("yeah, yeah, yeah, …").

Two checks, the first the one Whisper's own temperature fallback uses:

* the gzip compression ratio of a piece's text is above COMPRESSION_RATIO_LIMIT (2.4);
* a phrase of 1 to MAX_PHRASE_WORDS words is said LOOP_REPEATS or more times running.

:func:`collapse` keeps one occurrence of each looping phrase, for when decoding again did not
help. Nothing here decodes audio (``asr.py`` does).
"""

from __future__ import annotations

import unicodedata
import zlib
from dataclasses import dataclass
from typing import Optional, Sequence

#: faster-whisper's default ``compression_ratio_threshold``: above it, text is too repetitive.
COMPRESSION_RATIO_LIMIT = 2.4
#: Longest phrase (words) whose repetition is looked for.
MAX_PHRASE_WORDS = 4
#: A phrase said this many times running is a loop.
LOOP_REPEATS = 4
#: Longest phrase cut when the text still compresses too well once short loops are cut.
LONG_PHRASE_WORDS = 20


@dataclass(frozen=True)
class Loop:
    """A phrase said over and over in a row of words."""

    #: index of the phrase's first word in the row
    first: int
    #: words in the phrase
    size: int
    #: how many times it is said running
    count: int

    @property
    def end(self) -> int:
        """Index just past the loop's last word."""
        return self.first + self.size * self.count


def compression_ratio(text: str) -> float:
    """UTF-8 length over gzip-compressed length (as faster-whisper computes it)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def word_key(word: str) -> str:
    """A word as compared: case-folded, without punctuation or symbols."""
    return "".join(c for c in unicodedata.normalize("NFKC", word).casefold()
                   if unicodedata.category(c)[0] in "LN")


def find_loop(words: Sequence[str], longest: int = MAX_PHRASE_WORDS,
              repeats: int = LOOP_REPEATS) -> Optional[Loop]:
    """The loop covering the most words in ``words`` (a phrase of 1–``longest`` words said
    ``repeats`` or more times running), or None."""
    keys = [word_key(w) for w in words]
    best: Optional[Loop] = None
    for size in range(1, longest + 1):
        i = 0
        while i + size <= len(keys):
            phrase = keys[i:i + size]
            count = 1
            while keys[i + count * size:i + (count + 1) * size] == phrase:
                count += 1
            if count >= repeats and any(phrase) and (best is None or size * count > best.size * best.count):
                best = Loop(i, size, count)
            i += size * (count - 1) + 1 if count >= repeats else 1
    return best


def is_loop(text: str, words: Optional[Sequence[str]] = None) -> bool:
    """Whether a decoded piece loops: its text compresses too well, or a phrase repeats."""
    return compression_ratio(text) > COMPRESSION_RATIO_LIMIT or \
        find_loop(list(words) if words is not None else text.split()) is not None


def collapse(words: Sequence) -> list:
    """``words`` with every loop cut to its first occurrence: phrases of 1–MAX_PHRASE_WORDS
    words said LOOP_REPEATS+ times, then, while the text still compresses too well, phrases of
    up to LONG_PHRASE_WORDS said twice or more. Items are strings or anything with a ``word``
    attribute (kept whole, times included)."""
    out = list(words)
    for longest, repeats in ((MAX_PHRASE_WORDS, LOOP_REPEATS), (LONG_PHRASE_WORDS, 2)):
        while True:
            texts = [w if isinstance(w, str) else w.word for w in out]
            if longest > MAX_PHRASE_WORDS and compression_ratio(" ".join(texts)) <= COMPRESSION_RATIO_LIMIT:
                break
            loop = find_loop(texts, longest, repeats)
            if loop is None:
                break
            out = out[:loop.first + loop.size] + out[loop.end:]
    return out
