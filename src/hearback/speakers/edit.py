"""Fixing speakers after the fact: merges and renames applied to a finished result.

Applied to the stored result (its JSON document, which every export renders from), so json,
srt, vtt and txt all follow. Merges first: every speaker of a group takes the group's first
speaker. Then renames: ``{"SPEAKER_00": "Alice"}`` (keys are the speakers as the result shows
them, a label or a name). A rename onto another remaining speaker is refused: say it as a merge. The diarization's turns
follow, as do segments, words, ``speakers`` and the identities.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Mapping, Optional, Sequence

from ..errors import ErrorCode, HearbackError
from ..types import Diarization, Result, SpeakerIdentity, Turn
from .voiceprint import check_name

logger = logging.getLogger(__name__)


def edit_speakers(result: Result, renames: Mapping[str, str],
                  merges: Sequence[Sequence[str]] = ()) -> Result:
    """A new result with ``merges`` then ``renames`` applied to every segment, word,
    ``speakers`` and ``identities``."""
    mapping = speaker_mapping(result.speakers, renames, merges)
    segments = tuple(
        replace(s, speaker=mapping.get(s.speaker, s.speaker),
                words=tuple(replace(w, speaker=mapping.get(w.speaker, w.speaker)) for w in s.words))
        for s in result.segments)
    speakers = tuple(dict.fromkeys(mapping.get(s, s) for s in result.speakers))
    return replace(result, segments=segments, speakers=speakers,
                   identities=_identities(result.identities, mapping, renames),
                   diarization=_diarization(result.diarization, mapping))


def _diarization(diarization: Optional[Diarization], mapping: Mapping[str, str]) -> Optional[Diarization]:
    """The turns (what RTTM and the editor's timeline show) follow the edit too."""
    if diarization is None:
        return None

    def mapped(turns: Sequence[Turn]) -> tuple[Turn, ...]:
        return tuple(replace(t, speaker=mapping.get(t.speaker, t.speaker)) for t in turns)

    return replace(diarization, turns=mapped(diarization.turns), exclusive=mapped(diarization.exclusive))


def speaker_mapping(speakers: Sequence[str], renames: Mapping[str, str],
                    merges: Sequence[Sequence[str]]) -> dict[str, str]:
    """Each speaker -> the speaker it becomes, the edit checked (codes as the module says)."""
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
