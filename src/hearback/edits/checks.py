"""What every edit must keep: the document's promises (``hearback.invariants``) and text in
proportion to the audio; the one error edits raise (``invalid_edit``)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from typing import Sequence

from ..document import result_to_dict
from ..errors import ErrorCode, HearbackError
from ..invariants import check
from ..types import Result, Segment
from .documents import Made, documents

logger = logging.getLogger(__name__)


def invalid(message: str) -> HearbackError:
    return HearbackError(ErrorCode.INVALID_EDIT, message)


#: Most characters of text a transcript may hold per second of its audio, and at least
#: MIN_CHARS (speech runs at 15-25 characters a second; subtitles allow 17-20), so edits
#: cannot pack text out of proportion to the audio (an export's work grows with it)
MAX_CHARS_PER_SECOND, MIN_CHARS = 60, 2000


def refuse_new_problems(before: Result, after: Result) -> Made:
    """``invalid_edit`` when ``after`` holds more text than :data:`MAX_CHARS_PER_SECOND`
    allows (and more than ``before``), or breaks a promise of the document (``invariants``)
    more often than ``before`` did (e.g. edited text that repeats itself like a Whisper loop).
    Returns ``after``'s JSON document, made for the check (so that it is made once), reusing
    what the last document made holds (``edits.documents``)."""
    size, limit = _characters(after), max(MIN_CHARS, after.duration * MAX_CHARS_PER_SECOND)
    if size > limit and size > _characters(before):
        raise invalid(f"the transcript would hold {size} characters: at most {MAX_CHARS_PER_SECOND} per "
                       f"second of audio ({limit:.0f} for these {after.duration:.0f} s)")
    made = documents.of(after)
    document = made.document
    if bool(before.speakers) == bool(after.speakers):  # the checks see the same "diarized"
        changed_before, changed_after = _changed(before.segments, after.segments)
    else:
        changed_before, changed_after = range(len(before.segments)), range(len(after.segments))
    if not changed_before and not changed_after:
        return made  # a rename, a merge: nothing the checks look at changed
    part = _around(after.segments, changed_after)
    problems = check({**document, "transcription": {"segments": document["transcription"]["segments"][part]}})
    if not problems:
        return made  # the usual case: ``before`` need not be checked
    old = Counter(p.kind for p in check(result_to_dict(replace(
        before, segments=before.segments[_around(before.segments, changed_before)]))))
    new = [p for p in problems if Counter(q.kind for q in problems)[p.kind] > old[p.kind]]
    if new:
        raise invalid(f"the edit would break the transcript: {new[0]}")
    return made


def _characters(result: Result) -> int:
    return sum(len(s.text) for s in result.segments)


def _key(segment: Segment) -> tuple:
    """What the checks look at in a segment: times, text, words, whether speakers are set."""
    return (segment.start, segment.end, segment.text, segment.speaker is None,
            tuple((w.word, w.start, w.end, w.speaker is None) for w in segment.words))


def _changed(before: Sequence[Segment], after: Sequence[Segment]) -> tuple[range, range]:
    """The stretch of each list that differs in what the checks look at: the rest is a common
    head and a common tail (an edit changes one place; a batch, the stretch over its places)."""
    def same(a: Segment, b: Segment) -> bool:
        return a is b or _key(a) == _key(b)

    head, shortest = 0, min(len(before), len(after))
    while head < shortest and same(before[head], after[head]):
        head += 1
    tail = 0
    while tail < shortest - head and same(before[-1 - tail], after[-1 - tail]):
        tail += 1
    return range(head, len(before) - tail), range(head, len(after) - tail)


def _around(segments: Sequence[Segment], changed: range) -> slice:
    """The stretch of ``segments`` a check of ``changed`` needs: one neighbour on each side
    (the order of segments), and every segment whose time overlaps theirs (a word heard twice
    across two segments), as one contiguous stretch."""
    first, last = max(changed.start - 1, 0), min(changed.stop, len(segments) - 1)
    if not segments:
        return slice(0, 0)
    spans = [_span(s) for s in segments]
    if changed:
        lo, hi = min(spans[i][0] for i in changed), max(spans[i][1] for i in changed)
        touching = [i for i, (a, b) in enumerate(spans) if a < hi and b > lo]
        first, last = min([first, *touching]), max([last, *touching])
    return slice(first, last + 1)


def _span(segment: Segment) -> tuple[float, float]:
    """From the earliest to the latest time a segment or one of its words holds."""
    starts = [segment.start, *(w.start for w in segment.words)]
    ends = [segment.end, *(w.end for w in segment.words)]
    return min(starts), max(ends)
