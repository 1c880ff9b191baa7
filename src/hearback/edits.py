"""Fixing a finished transcript by hand: rename, merge, move words to another speaker, edit text.

Each operation is a pure function of a :class:`~hearback.types.Result` that returns a new one
(the transcript editor's ``POST /v1/jobs/{id}/edits`` and ``PATCH /v1/jobs/{id}/speakers``
apply them to the stored result, so every export follows). Renames and merges
(:func:`fix_speakers`) reach segments, words, ``speakers``, the identities and the
diarization's turns, which the editor's timeline draws; a speaker's turns that then touch or
overlap are joined. Merges come first: every speaker of a group takes the group's first. Then
renames (keys are the speakers as the result shows them, a label or a name); a rename onto
another remaining speaker is refused: say it as a merge. Moving words keeps the document
whole: a segment splits where its speaker changes (up to three pieces), the moved span of the
turns goes to the new speaker, and ``speakers`` / ``speaker_identities`` list exactly the
speakers that remain. Edited words keep time: the new words share the span of the words they
replace in proportion to their length (in whole milliseconds, each at least 1 ms), and a
segment's start and end stay. An edit to nothing deletes those words, or the whole segment.
A speaker left without words is no longer a speaker of the result (its turns go too).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from typing import Mapping, Optional, Sequence

from .document import result_to_dict
from .errors import ErrorCode, HearbackError
from .invariants import check
from .speakers.voiceprint import check_name
from .types import Diarization, Result, Segment, SpeakerIdentity, Turn, Word

logger = logging.getLogger(__name__)


def _invalid(message: str) -> HearbackError:
    return HearbackError(ErrorCode.INVALID_EDIT, message)


# --------------------------------------------------------------------------- speakers


def rename(result: Result, speaker: str, name: str) -> Result:
    """``speaker`` (a label or a name) is called ``name`` everywhere."""
    return fix_speakers(result, {speaker: name})


def merge(result: Result, speakers: Sequence[str]) -> Result:
    """Every speaker of ``speakers`` becomes the first."""
    if len(set(speakers)) != len(speakers) or len(speakers) < 2:
        raise _invalid(f"a merge names two or more different speakers: {list(speakers)}")
    return fix_speakers(result, {}, [speakers])


def fix_speakers(result: Result, renames: Mapping[str, str], merges: Sequence[Sequence[str]] = ()) -> Result:
    """``merges`` then ``renames`` applied to every segment, word, ``speakers``, identity and
    turn; turns tidied."""
    mapping = speaker_mapping(result.speakers, renames, merges)
    segments = tuple(
        replace(s, speaker=mapping.get(s.speaker, s.speaker),
                words=tuple(replace(w, speaker=mapping.get(w.speaker, w.speaker)) for w in s.words))
        for s in result.segments)
    speakers = tuple(dict.fromkeys(mapping.get(s, s) for s in result.speakers))
    return _tidy_turns(replace(result, segments=segments, speakers=speakers,
                               identities=_identities(result.identities, mapping, renames),
                               diarization=_diarization(result.diarization, mapping)))


def speaker_mapping(speakers: Sequence[str], renames: Mapping[str, str],
                    merges: Sequence[Sequence[str]]) -> dict[str, str]:
    """Each speaker -> the speaker it becomes, the edit checked: ``unknown_speaker``,
    ``invalid_input`` (a merge of fewer than two, a speaker in two merges),
    ``invalid_speaker_name`` (a name refused, two speakers renamed to one, a rename onto another
    remaining speaker)."""
    known = set(speakers)
    mapping: dict[str, str] = {}
    for group in merges:
        _check_known(group, known)
        if len(group) < 2 or any(s in mapping for s in group):
            raise HearbackError(ErrorCode.INVALID_INPUT,
                                f"a merge names at least two speakers, each in one merge only: {list(group)}")
        mapping.update({s: group[0] for s in group[1:]})
    _check_known(renames, known)
    remaining = {mapping.get(s, s) for s in speakers}
    targets = {old: check_name(new) for old, new in renames.items()}
    for old, new in targets.items():
        if new != old and new in remaining - set(renames):
            raise HearbackError(ErrorCode.INVALID_SPEAKER_NAME,
                                f"{new!r} is already a speaker of this result: merge {old!r} into it instead")
    if len(set(targets.values())) < len(targets):
        raise HearbackError(ErrorCode.INVALID_SPEAKER_NAME, "two speakers renamed to one name: use a merge")
    return {s: targets.get(mapping.get(s, s), mapping.get(s, s)) for s in speakers}


def _check_known(names, known: set[str]) -> None:
    unknown = sorted(set(names) - known)
    if unknown:
        raise HearbackError(ErrorCode.UNKNOWN_SPEAKER, f"no speaker {', '.join(unknown)} in this result")


def _identities(identities: Sequence[SpeakerIdentity], mapping: Mapping[str, str],
                renames: Mapping[str, str]) -> tuple[SpeakerIdentity, ...]:
    """One identity per remaining speaker: a merged speaker's goes; a renamed one keeps its
    label and takes the new name, with no score (named by hand)."""
    out = {}
    for identity in identities:
        new = mapping.get(identity.speaker, identity.speaker)
        if identity.speaker in renames:
            identity = SpeakerIdentity(identity.label, new, None)
        out.setdefault(new, identity)
    return tuple(out.values())


def _diarization(diarization: Optional[Diarization], mapping: Mapping[str, str]) -> Optional[Diarization]:
    if diarization is None:
        return None

    def mapped(turns: Sequence[Turn]) -> tuple[Turn, ...]:
        return tuple(replace(t, speaker=mapping.get(t.speaker, t.speaker)) for t in turns)

    return replace(diarization, turns=mapped(diarization.turns), exclusive=mapped(diarization.exclusive))


def _tidy_turns(result: Result) -> Result:
    if result.diarization is None:
        return result
    return replace(result, diarization=replace(result.diarization, turns=_tidy(result.diarization.turns)))


def _tidy(turns: Sequence[Turn]) -> tuple[Turn, ...]:
    """Turns in time order, a speaker's overlapping or touching turns joined."""
    out: list[Turn] = []
    last: dict[str, int] = {}  # speaker -> index of its latest turn in ``out``
    for turn in sorted(turns, key=lambda t: (t.start, t.end)):
        index = last.get(turn.speaker)
        if index is not None and turn.start <= out[index].end:
            out[index] = Turn(out[index].start, max(out[index].end, turn.end), turn.speaker)
        else:
            last[turn.speaker] = len(out)
            out.append(turn)
    return tuple(out)


# --------------------------------------------------------------------------- moving words


def assign(result: Result, segment: int, speaker: str, words: Optional[Sequence[int]] = None) -> Result:
    """Segment ``segment`` (or only its words ``words[0]:words[1]``) to ``speaker``, an existing
    speaker or a new name; the segment splits around a word range."""
    if not result.speakers:
        raise _invalid("this transcript has no speakers (it was made without diarization)")
    seg = _segment(result, segment)
    target = speaker if speaker in result.speakers else check_name(speaker)
    lo, hi = _word_range(seg, words) if words is not None else (0, len(seg.words))
    if not seg.words:
        pieces, span = (replace(seg, speaker=target),), (seg.start, seg.end)
    elif lo == 0 and hi == len(seg.words):
        words = tuple(replace(w, speaker=target, speaker_inferred=False) for w in seg.words)
        pieces, span = (replace(seg, speaker=target, words=words),), (seg.start, seg.end)
    else:
        pieces = _split(seg, lo, hi, target)
        span = (seg.words[lo].start, max(w.end for w in seg.words[lo:hi]))
    moved = ({seg.speaker} | {w.speaker for w in seg.words[lo:hi]}) - {None, target}
    segments = result.segments[:segment] + pieces + result.segments[segment + 1:]
    turns = result.diarization.turns if result.diarization else ()
    if result.diarization is not None:
        turns = _move_turns(turns, span, moved, target)
    return _consistent(result, segments, turns)


def _split(seg: Segment, lo: int, hi: int, target: str) -> tuple[Segment, ...]:
    """The segment in up to three pieces: words before ``lo``, ``lo:hi`` (to ``target``), after."""
    bounds = [(a, b) for a, b in ((0, lo), (lo, hi), (hi, len(seg.words))) if b > a]
    return tuple(_piece(seg, a, b, target if a == lo else None, first=a == 0, last=b == len(seg.words))
                 for a, b in bounds)


def _piece(seg: Segment, lo: int, hi: int, speaker: Optional[str], *, first: bool, last: bool) -> Segment:
    """Words ``lo:hi`` of ``seg`` as a segment of their own (given to ``speaker`` unless None);
    the first piece keeps the segment's start, the last its end."""
    words = seg.words[lo:hi]
    if speaker is not None:
        words = tuple(replace(w, speaker=speaker, speaker_inferred=False) for w in words)
    return replace(seg, start=seg.start if first else words[0].start,
                   end=seg.end if last else max(w.end for w in words),
                   text=_text_of(seg, lo, hi, first=first, last=last), words=words,
                   speaker=speaker or seg.speaker)


def _move_turns(turns: Sequence[Turn], span: tuple[float, float], moved: set[str],
                target: str) -> list[Turn]:
    """Turns where ``span`` is taken from the ``moved`` speakers and given to ``target``."""
    a, b = span
    out = [Turn(a, b, target)]
    for turn in turns:
        if turn.speaker not in moved or turn.end <= a or turn.start >= b:
            out.append(turn)
            continue
        if turn.start < a:
            out.append(Turn(turn.start, a, turn.speaker))
        if turn.end > b:
            out.append(Turn(b, turn.end, turn.speaker))
    return out


# --------------------------------------------------------------------------- text


def edit(result: Result, segment: int, text: str, words: Optional[Sequence[int]] = None) -> Result:
    """Segment ``segment``'s text (or its words ``words[0]:words[1]``) becomes ``text``; new
    words share the replaced words' time span. Empty ``text`` deletes those words (the segment,
    when no word or text is left)."""
    seg = _segment(result, segment)
    tokens = text.split()
    if not seg.words:
        if words is not None:
            raise _invalid(f"segment {segment} has no words (made without word timestamps)")
        edited = replace(seg, text=" ".join(tokens)) if tokens else None
    else:
        lo, hi = _word_range(seg, words) if words is not None else (0, len(seg.words))
        edited = _edited(seg, lo, hi, tokens) if tokens or hi - lo < len(seg.words) else None
    segments = result.segments[:segment] + ((edited,) if edited else ()) + result.segments[segment + 1:]
    return _consistent(result, segments, result.diarization.turns if result.diarization else ())


def _edited(seg: Segment, lo: int, hi: int, tokens: list[str]) -> Segment:
    replaced = seg.words[lo:hi]
    template = Word("", 0.0, 0.0, None, replaced[0].speaker, overlap=any(w.overlap for w in replaced))
    times = spread([len(t) for t in tokens], replaced[0].start, max(w.end for w in replaced))
    new = tuple(replace(template, word=token, start=start, end=end)
                for token, (start, end) in zip(tokens, times))
    spans = _word_spans(seg)
    words = seg.words[:lo] + new + seg.words[hi:]
    if spans is None:
        text = " ".join(w.word.strip() for w in words)
    else:
        text = seg.text[:spans[lo][0]] + " ".join(tokens) + seg.text[spans[hi - 1][1]:]
    return replace(seg, words=words, text=" ".join(text.split()))


def spread(lengths: Sequence[int], start: float, end: float) -> list[tuple[float, float]]:
    """(start, end) per new word over ``start``-``end``, in proportion to ``lengths``, in
    whole milliseconds, each at least 1 ms long; ``invalid_edit`` when they cannot fit."""
    a, b, n = round(start * 1000), round(end * 1000), len(lengths)
    if b - a < n:
        raise _invalid(f"{n} words do not fit in {b - a} ms")
    total, done, bounds = sum(lengths), 0, [a]
    for length in lengths:
        done += length
        bounds.append(a + round((b - a) * done / total))
    for k in range(1, n):  # strictly increasing, room left for the words after
        bounds[k] = min(max(bounds[k], bounds[k - 1] + 1), b - (n - k))
    return [(bounds[k] / 1000, bounds[k + 1] / 1000) for k in range(n)]


def _word_spans(seg: Segment) -> Optional[list[tuple[int, int]]]:
    """Each word's (start, end) character offsets in the segment text; None when the words
    cannot all be found in it in order."""
    spans, position = [], 0
    for word in seg.words:
        token = word.word.strip()
        found = seg.text.find(token, position) if token else -1
        if found < 0:
            return None
        spans.append((found, found + len(token)))
        position = found + len(token)
    return spans


def _text_of(seg: Segment, lo: int, hi: int, *, first: bool, last: bool) -> str:
    """The part of the segment text that words ``lo:hi`` say (from the text's start for the
    ``first`` piece, to its end for the ``last``, so that no character is lost between pieces)."""
    spans = _word_spans(seg)
    if spans is None:
        return " ".join(w.word.strip() for w in seg.words[lo:hi])
    return seg.text[0 if first else spans[lo][0]:len(seg.text) if last else spans[hi - 1][1]].strip()


# --------------------------------------------------------------------------- checks


def _segment(result: Result, index: int) -> Segment:
    if not 0 <= index < len(result.segments):
        raise _invalid(f"no segment {index} (the transcript has {len(result.segments)})")
    return result.segments[index]


def _word_range(seg: Segment, words: Sequence[int]) -> tuple[int, int]:
    if len(words) != 2 or not 0 <= words[0] < words[1] <= len(seg.words):
        raise _invalid(f"words must be [first, end) within the segment's {len(seg.words)} words: {list(words)}")
    return words[0], words[1]


def _voiced(segments: Sequence[Segment]) -> list[Optional[str]]:
    """The speakers segments and words carry, in order, repeats included."""
    return [s.speaker for s in segments] + [w.speaker for s in segments for w in s.words]


def _consistent(result: Result, segments: Sequence[Segment], turns: Sequence[Turn]) -> Result:
    """The result with these segments and turns, listing only (and all) the speakers they name.
    A speaker whose last words went (moved or deleted) goes with its turns: nobody is left to
    have said them."""
    named = _voiced(segments)
    lost = set(_voiced(result.segments)) - set(named)
    turns = [t for t in turns if t.speaker not in lost]
    present = set(named + [t.speaker for t in turns]) - {None}
    speakers = [s for s in result.speakers if s in present]
    speakers += [s for s in dict.fromkeys(named) if s in present and s not in speakers]
    diarization = replace(result.diarization, turns=_tidy(turns)) if result.diarization else None
    return replace(result, segments=tuple(segments), speakers=tuple(speakers), diarization=diarization,
                   identities=tuple(i for i in result.identities if i.speaker in present))


def refuse_new_problems(before: Result, after: Result) -> None:
    """``invalid_edit`` when ``after`` breaks a promise of the document (``invariants``) more
    often than ``before`` did (e.g. edited text that repeats itself like a Whisper loop)."""
    problems = check(result_to_dict(after))
    if not problems:
        return  # the usual case: ``before`` need not be checked
    old = Counter(p.kind for p in check(result_to_dict(before)))
    new = [p for p in problems if Counter(q.kind for q in problems)[p.kind] > old[p.kind]]
    if new:
        raise _invalid(f"the edit would break the transcript: {new[0]}")
