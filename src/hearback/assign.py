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
5. Sentences hold together: Whisper's word times drift by a word or two around a turn
   change, so within one sentence (words up to one ending in . ? ! … or followed by a
   pause of ``SENTENCE_PAUSE`` or more), a run of at most
   ``SENTENCE_SNAP_WORDS`` words at the sentence's start or end, whose speaker differs from
   a sentence majority of at least 60 % of its words, takes the majority's speaker. A
   sentence where two people really take long turns keeps both.
6. A segment is split into runs of words with the same speaker; a run's start and end
   are its first and last word's. Segments without words take the speaker that
   overlaps them the longest (or the nearest).
7. Speakers are numbered in the order a reader meets them (:func:`attribute`):
   ``SPEAKER_00`` says the first word, ``SPEAKER_01`` the first word of anyone else, …;
   a speaker diarization found who was given no word comes after, by its first turn. The
   diarizer numbers by first turn, and a turn's first words may go to a neighbour (rule 5)
   or be silence Whisper heard nothing in; every output (segments, turns, RTTM, subtitles,
   the ``speakers`` list) then uses this one numbering. Known voices are named after it.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import replace
from typing import Sequence

from .types import Diarization, Segment, SpeakerIdentity, Transcript, Turn, Word

logger = logging.getLogger(__name__)

#: Longest run at a sentence's edge that sentence snapping (rule 5) may move.
SENTENCE_SNAP_WORDS = 3
_SENTENCE_END = (".", "?", "!", "…", "。", "？", "！")
#: A silence this long (seconds) between two words also ends a sentence.
SENTENCE_PAUSE = 1.0

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


def attribute(transcript: Transcript, diarization: Diarization, voices: Sequence = ()
              ) -> tuple[tuple[Segment, ...], Diarization, tuple[SpeakerIdentity, ...], tuple[str, ...]]:
    """The assign stage, shared by the pipeline and rediarize: the transcript's words given to
    ``diarization``'s speakers (:func:`assign_speakers`), speakers numbered in the order they are
    heard (rule 7), known ``voices`` (voiceprints) matched to them and named
    (:mod:`hearback.speakers.match`). Returns the segments in time order, the diarization
    relabelled as they are, the identities, and every speaker in that order (those diarization
    found, plus any a word was given without a turn). Nothing given is changed."""
    from .speakers.match import identify, relabel

    segments = assign_speakers(transcript, diarization)
    order = speech_order(segments, diarization)
    diarization, segments = relabel(diarization, order), relabelled(segments, order)
    identities = identify(diarization, voices) if voices else ()
    names = {i.label: i.speaker for i in identities}
    diarization, segments = relabel(diarization, names), relabelled(segments, names)
    speakers = tuple(names.get(label, label) for label in order.values())
    segments = tuple(sorted(segments, key=lambda s: (s.start, s.end)))  # ordered, always
    return segments, diarization, identities, speakers


def speech_order(segments: Sequence[Segment], diarization: Diarization) -> dict[str, str]:
    """Every speaker's label -> ``SPEAKER_nn``, numbered by the speaker's first word (a
    segment without words counts from its start), then, for speakers given no word, by their
    first turn (rule 7)."""
    first: dict[str, float] = {}
    for segment in segments:
        for start, speaker in ([(w.start, w.speaker) for w in segment.words] or [(segment.start, segment.speaker)]):
            if speaker is not None and start < first.get(speaker, float("inf")):
                first[speaker] = start
    turns: dict[str, float] = {}
    for turn in diarization.turns:
        turns[turn.speaker] = min(turn.start, turns.get(turn.speaker, turn.start))
    labels = sorted({*first, *turns}, key=lambda s: (s not in first, first.get(s, turns.get(s, 0.0)), s))
    return {label: f"SPEAKER_{number:02d}" for number, label in enumerate(labels)}


def relabelled(segments: Sequence[Segment], names: dict[str, str]) -> tuple[Segment, ...]:
    """New segments whose speakers (and their words') carry ``names`` (label -> new label)."""
    if all(old == new for old, new in names.items()):
        return tuple(segments)
    return tuple(replace(s, speaker=names.get(s.speaker, s.speaker),
                         words=tuple(replace(w, speaker=names.get(w.speaker, w.speaker)) for w in s.words))
                 for s in segments)


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
        words = _snap_sentences(_smooth(words, exclusive))
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
    return replace(word, speaker=speaker, speaker_inferred=bool(inferred), overlap=bool(overlap))


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


def _snap_sentences(words: list[Word]) -> list[Word]:
    """Rule 5: short runs at a sentence's edges follow the sentence's majority speaker."""
    out = list(words)
    start = 0
    for i, word in enumerate(out):
        last = i == len(out) - 1
        if last or _ends_sentence(word) or out[i + 1].start - word.end >= SENTENCE_PAUSE:
            _snap_sentence(out, start, i + 1)
            start = i + 1
    return out


def _ends_sentence(word: Word) -> bool:
    return word.word.rstrip("\"')]}»”’").endswith(_SENTENCE_END)


def _snap_sentence(words: list[Word], start: int, stop: int) -> None:
    sentence = words[start:stop]
    counts: dict[str, int] = {}
    for w in sentence:
        counts[w.speaker] = counts.get(w.speaker, 0) + 1
    if len(counts) < 2:
        return
    majority = max(counts, key=counts.__getitem__)
    if counts[majority] < 0.6 * len(sentence):
        return
    # The leading and the trailing run, if short and not the majority's.
    for run in (_edge_run(sentence, from_start=True), _edge_run(sentence, from_start=False)):
        if run and len(run) <= SENTENCE_SNAP_WORDS and sentence[run[0]].speaker != majority:
            for k in run:
                words[start + k] = replace(words[start + k], speaker=majority)


def _edge_run(sentence: list[Word], *, from_start: bool) -> list[int]:
    order = range(len(sentence)) if from_start else range(len(sentence) - 1, -1, -1)
    run: list[int] = []
    for k in order:
        if run and sentence[k].speaker != sentence[run[0]].speaker:
            break
        run.append(k)
    return run if len(run) < len(sentence) else []


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

