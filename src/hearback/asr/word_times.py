"""Word and segment times the transcript can promise: every word a positive duration inside its
segment, segments ordered by start whatever pass produced them.

Whisper's word times collapse where it is unsure (a loop stacked on one instant, a word past
the audio it was given clamped to its edge). :func:`spread_words` gives such words a share of
the span they were decoded from instead, in proportion to their length in characters.
:func:`untangle` splits a segment where another one sits in a pause between its words (the
second pass fills pauses the first left unheard), then orders everything by start.
:func:`settle` puts one decoded segment on the recording's time line that way.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import Sequence

from ..types import Segment, Word
from .loops import word_key as _key

#: The shortest duration (s) a word is given: one millisecond more than the JSON's precision.
MIN_WORD_SECONDS = 0.002
#: The same word from two passes this close (s) is one word heard twice (:func:`without_repeats`).
SAME_WORD_SECONDS = 0.05


def spread_words(words: Sequence[Word], start: float, end: float) -> tuple[Word, ...]:
    """``words`` (in order) with every word shorter than MIN_WORD_SECONDS, and any word outside
    [start, end], re-timed: each run of such words, widened by its neighbours until the run's
    room holds it, is spread evenly by characters over that room. Others keep their times."""
    start, end = min(start, end), max(start, end)
    if end - start < MIN_WORD_SECONDS * len(words):  # not even room for the words: widen
        end = start + MIN_WORD_SECONDS * len(words)
    times = [(min(max(w.start, start), end), min(max(w.end, start), end)) for w in words]

    def collapsed(j: int) -> bool:
        return times[j][1] - times[j][0] < MIN_WORD_SECONDS or (j > 0 and times[j][0] < times[j - 1][1] - 1e-9)

    i = 0
    while i < len(words):
        if not collapsed(i):
            i += 1
            continue
        lo, hi = i, i + 1
        while hi < len(words) and collapsed(hi):
            hi += 1
        while True:
            room_start = times[lo - 1][1] if lo else start
            room_end = times[hi][0] if hi < len(words) else end
            if room_end - room_start >= MIN_WORD_SECONDS * (hi - lo) - 1e-9 or (lo, hi) == (0, len(words)):
                break
            lo, hi = (lo - 1, hi) if lo and (hi == len(words) or hi - i > i - lo) else (lo, hi + 1)
        times[lo:hi] = _share(words[lo:hi], room_start, room_end)
        i = hi
    return tuple(replace(w, start=round(a, 3), end=round(b, 3)) for w, (a, b) in zip(words, times))


def _share(words: Sequence[Word], start: float, end: float) -> list[tuple[float, float]]:
    """[start, end] cut into one piece per word: MIN_WORD_SECONDS each, the rest in proportion
    to its characters."""
    weights = [max(len(w.word.strip()), 1) for w in words]
    total, out, at = sum(weights), [], start
    spare = max(end - start - MIN_WORD_SECONDS * len(words), 0.0)
    for weight in weights:
        step = MIN_WORD_SECONDS + spare * weight / total
        out.append((at, at + step))
        at += step
    out[-1] = (out[-1][0], max(end, out[-1][0] + MIN_WORD_SECONDS))  # no rounding drift past the room
    return out


def untangle(segments: Sequence[Segment]) -> list[Segment]:
    """Segments ordered by start, none of them straddling another: a segment with words is
    split at each pause between two of its words where another segment starts."""
    starts = sorted(seg.start for seg in segments)
    out: list[Segment] = []
    for seg in segments:
        out += _split_at(seg, starts)
    return sorted(out, key=lambda seg: (seg.start, seg.end))


def _split_at(seg: Segment, starts: list[float]) -> list[Segment]:
    """``seg`` cut at the pauses between its words that hold one of ``starts``."""
    cuts = []
    for i in range(1, len(seg.words)):
        after = bisect.bisect_right(starts, seg.words[i - 1].end)  # first start after the pause began
        if after < len(starts) and starts[after] < seg.words[i].start:
            cuts.append(i)
    if not cuts:
        return [seg]
    pieces = []
    for a, b in zip([0] + cuts, cuts + [len(seg.words)]):
        words = seg.words[a:b]
        pieces.append(replace(seg, start=words[0].start, end=words[-1].end,
                              text=" ".join(w.word for w in words), words=words))
    return pieces


def on_recording(time: float, speech: list[tuple[float, float]]) -> float:
    """A time (s) on the speech-only time line (``speech`` regions end to end) → the same
    moment in the recording."""
    elapsed = 0.0
    for start, end in speech:
        if time <= elapsed + (end - start):
            return start + max(time - elapsed, 0.0)
        elapsed += end - start
    return speech[-1][1] if speech else time


def without_repeats(later: list[Segment], earlier: Sequence[Segment]) -> list[Segment]:
    """``later`` (a second pass) without the words that overlap in time a word of ``earlier``
    (the first pass) by half the longer one's length (the same span: a long first-pass word
    must not swallow the words heard inside it), or come within SAME_WORD_SECONDS of it
    when it is the same word: the second pass decodes regions the first left nearly empty, and the few words the
    first did hear there must not come out twice ("Hello." then "Hello?" at the same moment).
    A segment left without words goes."""
    heard = sorted((w.start, w.end, _key(w.word)) for seg in earlier for w in seg.words)
    starts = [h[0] for h in heard]
    out = []
    for seg in later:
        words = tuple(w for w in seg.words if not _repeats(w, heard, starts))
        if len(words) == len(seg.words):
            out.append(seg)
        elif words:
            out.append(replace(seg, text="".join(w.word for w in words), words=words))
    return out


def distinct(segments: Sequence[Segment]) -> list[Segment]:
    """``segments`` (one pass, in order) without the words that repeat a word of an earlier
    segment: the same word (``loops.word_key``) at an overlapping time, the contract's
    ``duplicate`` (``invariants.py``). One pass decodes some speech twice (a chunk mended
    again beside its neighbours, a region packed and then decoded alone), and settling spreads
    a segment's words over the span it came from, so two decodings can meet there.
    A segment left without words goes."""
    kept: dict[str, list[tuple[float, float]]] = {}  # by word: the times already kept
    out = []
    for seg in segments:
        keys = [_key(w.word) for w in seg.words]
        words = tuple(w for w, key in zip(seg.words, keys)
                      if not (key and any(min(end, w.end) > max(start, w.start) for start, end in kept.get(key, ()))))
        for w in words:
            kept.setdefault(_key(w.word), []).append((w.start, w.end))
        if len(words) == len(seg.words):
            out.append(seg)
        elif words:
            out.append(replace(seg, start=words[0].start, end=words[-1].end,
                               text=" ".join(w.word for w in words), words=words))
    return out


def _repeats(word: Word, heard: list[tuple[float, float, str]], starts: list[float]) -> bool:
    """Whether ``word`` overlaps one of ``heard`` (sorted (start, end, key)) as :func:`without_repeats` says."""
    key, length = _key(word.word), word.end - word.start
    for start, end, other in heard[max(bisect.bisect_left(starts, word.start - 30.0), 0):
                                   bisect.bisect_right(starts, word.end + SAME_WORD_SECONDS)]:
        overlap = min(end, word.end) - max(start, word.start)
        # the same word within SAME_WORD_SECONDS: the first pass's times may be collapsed to an instant
        if (other == key and overlap > -SAME_WORD_SECONDS) or overlap >= 0.5 * max(length, end - start) > 0:
            return True
    return False


def settle(seg: Segment, duration: float, offset: float = 0.0) -> Segment:
    """``seg`` moved ``offset`` s later, within the recording, its words stripped, every word
    with a positive duration inside the span it was decoded from (collapsed words spread over
    it, :func:`spread_words`), and the segment spanning its words."""
    words = tuple(
        Word(word=w.word.strip(), start=w.start + offset, end=max(w.end, w.start) + offset,
             probability=None if w.probability is None else round(w.probability, 4))
        for w in seg.words if w.word.strip()
    )
    end = min(seg.end + offset, duration)
    start = max(min(seg.start + offset, end), 0.0)
    if words:
        end = min(max(end, words[-1].end), duration)
        start = max(min(start, words[0].start, end - MIN_WORD_SECONDS * len(words)), 0.0)
        words = spread_words(words, start, end)
        start, end = words[0].start, words[-1].end
    return replace(seg, start=round(start, 3), end=round(end, 3), text=seg.text.strip(), words=words)
