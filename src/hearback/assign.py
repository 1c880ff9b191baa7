"""Give every word and every segment a speaker, and split segments where the speaker changes.

Rules (measured in bench/, see bench/RESULTS.md):

1. A word takes the speaker of the *exclusive* diarization (one speaker at a time)
   that overlaps it the longest.
2. A word no turn overlaps (speech the segmentation missed but the ASR heard) takes the
   speaker of the nearest turn (``SPEAKER_00`` when there is no turn at all) and is
   flagged ``speaker_inferred``. Nothing is dropped.
3. A word is flagged ``overlap`` when at least half of it lies where two or more
   speakers of the regular diarization talk at once.
4. No one-word flip-flops: a single word whose speaker differs from the words on both
   sides (which agree with each other) takes their speaker, unless diarization gave it
   firm support (it is not inferred and its own speaker's turn covers at least half of
   it). A real one-word reply ("Hello?") keeps its speaker; an edge word that slipped
   over a turn boundary does not.
5. A segment is split into runs of words with the same speaker; a run's start and end
   are its first and last word's. Segments without words take the speaker that
   overlaps them the longest (or the nearest).
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import replace
from typing import Sequence

from .types import Diarization, Segment, Transcript, Turn, Word

logger = logging.getLogger(__name__)

#: The speaker of words heard when diarization found no speech at all.
FALLBACK_SPEAKER = "SPEAKER_00"

#: A word counts as firmly placed when its own speaker's turn covers this share of it.
FIRM_COVERAGE = 0.5


class _Timeline:
    """Turns sorted by start, for overlap and nearest-turn queries."""

    def __init__(self, turns: Sequence[Turn]):
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self.starts = [t.start for t in self.turns]
        self._max_len = max((t.end - t.start for t in self.turns), default=0.0)

    def overlapping(self, start: float, end: float) -> list[tuple[Turn, float]]:
        lo = bisect.bisect_left(self.starts, start - self._max_len)
        hi = bisect.bisect_right(self.starts, end)
        out = []
        for turn in self.turns[lo:hi]:
            shared = min(end, turn.end) - max(start, turn.start)
            if shared > 0 or (shared == 0 and start == end and turn.start <= start <= turn.end):
                out.append((turn, max(shared, 0.0)))
        return out

    def speaker_durations(self, start: float, end: float) -> dict[str, float]:
        durations: dict[str, float] = {}
        for turn, shared in self.overlapping(start, end):
            durations[turn.speaker] = durations.get(turn.speaker, 0.0) + shared
        return durations

    def nearest(self, start: float, end: float) -> Turn | None:
        if not self.turns:
            return None
        i = bisect.bisect_left(self.starts, start)
        candidates = self.turns[max(0, i - 2): i + 2]
        # Gap to a turn; the widest turns are looked for among earlier ones too.
        best = min(candidates, key=lambda t: max(t.start - end, start - t.end, 0.0))
        return best


def assign_speakers(transcript: Transcript, diarization: Diarization) -> tuple[Segment, ...]:
    """New segments with a speaker on every word and segment (inputs are not changed)."""
    exclusive = _Timeline(diarization.exclusive or diarization.turns)
    regular = _Timeline(diarization.turns)
    out: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            out.append(replace(segment, speaker=_speaker_for_span(exclusive, segment.start, segment.end)[0]))
            continue
        words = [_label_word(w, exclusive, regular) for w in segment.words]
        words = _smooth(words, exclusive)
        out.extend(_split(segment, words))
    return tuple(out)


def _speaker_for_span(timeline: _Timeline, start: float, end: float) -> tuple[str | None, bool]:
    """(speaker, inferred) for a span: the longest-overlapping speaker, else the nearest."""
    durations = timeline.speaker_durations(start, end)
    if durations and max(durations.values()) > 0:
        return max(durations, key=durations.__getitem__), False
    nearest = timeline.nearest(start, end)
    return (nearest.speaker if nearest else FALLBACK_SPEAKER), True


def _label_word(word: Word, exclusive: _Timeline, regular: _Timeline) -> Word:
    speaker, inferred = _speaker_for_span(exclusive, word.start, word.end)
    length = word.end - word.start
    overlap = False
    if length > 0:
        overlap = _overlapped_duration(regular, word.start, word.end) >= 0.5 * length
    return replace(word, speaker=speaker, speaker_inferred=inferred, overlap=overlap)


def _overlapped_duration(regular: _Timeline, start: float, end: float) -> float:
    """Seconds of [start, end] where two or more turns of the regular diarization are active."""
    edges: list[tuple[float, int]] = []
    for turn, shared in regular.overlapping(start, end):
        if shared > 0:
            edges.append((max(start, turn.start), 1))
            edges.append((min(end, turn.end), -1))
    edges.sort()
    active, last, total = 0, start, 0.0
    for t, delta in edges:
        if active >= 2:
            total += t - last
        active += delta
        last = t
    return total


def _is_firm(word: Word, exclusive: _Timeline) -> bool:
    if word.speaker_inferred:
        return False
    length = word.end - word.start
    if length <= 0:
        return True  # a point in time inside its speaker's turn
    covered = exclusive.speaker_durations(word.start, word.end).get(word.speaker, 0.0)
    return covered >= FIRM_COVERAGE * length


def _smooth(words: list[Word], exclusive: _Timeline) -> list[Word]:
    """Undo one-word flip-flops (rule 4)."""
    out = list(words)
    for i in range(1, len(out) - 1):
        before, word, after = out[i - 1], out[i], out[i + 1]
        if before.speaker == after.speaker != word.speaker and not _is_firm(word, exclusive):
            out[i] = replace(word, speaker=before.speaker)
    return out


def _split(segment: Segment, words: list[Word]) -> list[Segment]:
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].speaker == word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    if len(runs) == 1:
        return [replace(segment, words=tuple(words), speaker=words[0].speaker)]
    return [
        Segment(
            start=run[0].start,
            end=max(w.end for w in run),
            text=_join(run),
            words=tuple(run),
            speaker=run[0].speaker,
        )
        for run in runs
    ]


def _join(words: Sequence[Word]) -> str:
    """Join words into text. Whisper's word tokens carry their own punctuation."""
    return " ".join(w.word for w in words)

