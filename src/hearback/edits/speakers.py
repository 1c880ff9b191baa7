"""Renames and merges of a finished result's speakers (:func:`fix_speakers`: merges first, every
speaker of a group taking the group's first, then renames, keys as the result shows them): in
segments, words, ``speakers``, the identities and the diarization's turns; a speaker's turns
that then touch or overlap are joined. A rename onto another remaining speaker is refused: say
it as a merge."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Mapping, Optional, Sequence

from ..errors import ErrorCode, HearbackError
from ..speakers.voiceprint import check_name
from ..types import Diarization, Result, Segment, SpeakerIdentity, Turn
from .checks import invalid

logger = logging.getLogger(__name__)


def rename(result: Result, speaker: str, name: str) -> Result:
    """``speaker`` (a label or a name) is called ``name`` everywhere."""
    return fix_speakers(result, {speaker: name})


def merge(result: Result, speakers: Sequence[str]) -> Result:
    """Every speaker of ``speakers`` becomes the first."""
    if len(set(speakers)) != len(speakers) or len(speakers) < 2:
        raise invalid(f"a merge names two or more different speakers: {list(speakers)}")
    return fix_speakers(result, {}, [speakers])


def fix_speakers(result: Result, renames: Mapping[str, str], merges: Sequence[Sequence[str]] = ()) -> Result:
    """``merges`` then ``renames`` applied to every segment, word, ``speakers``, identity and
    turn; turns tidied."""
    mapping = speaker_mapping(result.speakers, renames, merges)
    moved = {old: new for old, new in mapping.items() if old != new}
    segments = tuple(_moved(s, moved) for s in result.segments)
    speakers = tuple(dict.fromkeys(mapping.get(s, s) for s in result.speakers))
    return _tidy_turns(replace(result, segments=segments, speakers=speakers,
                               identities=_identities(result.identities, mapping, renames),
                               diarization=_diarization(result.diarization, mapping)))


def _moved(segment: Segment, moved: Mapping[str, str]) -> Segment:
    """``segment`` with its speakers moved (itself when none of them moves)."""
    if segment.speaker not in moved and not any(w.speaker in moved for w in segment.words):
        return segment
    words = tuple(replace(w, speaker=moved[w.speaker]) if w.speaker in moved else w for w in segment.words)
    return replace(segment, speaker=moved.get(segment.speaker, segment.speaker), words=words)


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
    return replace(result, diarization=replace(result.diarization, turns=tidy(result.diarization.turns)))


def tidy(turns: Sequence[Turn]) -> tuple[Turn, ...]:
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
