"""Speakers by name, scored: voices enrolled from the reference's solo speech, and how much
reference speech time the hypothesis labels with the right name (or wrongly with a name).

Frame-level (10 ms) against an RTTM, inside the UEM when given:

* named accuracy: of the frames where an enrolled person speaks, the share (summed over
  enrolled people) where the hypothesis gives that person's name;
* false naming: of the frames where only people *not* enrolled speak, the share where the
  hypothesis gives any enrolled name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np
from pyannote.core import Annotation, Timeline

from evaluation.testdata import read_rttm
from hearback.types import Audio, Turn

#: Frame step (seconds) of the scoring.
STEP = 0.01
#: The AMI clips that share people (ami.rttm's speaker ids), as (enrol from, transcribe) pairs;
#: trn02 and trn03 share nobody (every name there is a false naming).
AMI_PAIRS = [("dev00", "dev01"), ("tst00", "tst01"), ("trn07", "trn08"), ("trn06", "trn09"),
             ("trn01", "trn02"), ("trn01", "trn03"), ("trn02", "trn03")]


def directed_pairs() -> list[tuple[str, str]]:
    """Every AMI pair, both directions."""
    return [p for a, b in AMI_PAIRS for p in ((a, b), (b, a))]


def solo_audio(audio: Audio, reference: Annotation, speaker: str,
               uem: Optional[Timeline] = None) -> Audio:
    """``speaker``'s speech where nobody else talks (per the reference), joined end to end."""
    mine = reference.label_timeline(speaker).support()
    others = Annotation()
    for segment, track, label in reference.itertracks(yield_label=True):
        if label != speaker:
            others[segment, track] = label
    solo = mine.extrude(others.get_timeline().support())
    if uem is not None:
        solo = solo.crop(uem)
    rate = audio.sample_rate
    pieces = [audio.samples[int(s.start * rate):int(s.end * rate)] for s in solo]
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return Audio(samples.astype(np.float32), rate)


@dataclass(frozen=True)
class NamingScore:
    """Frame counts behind the two figures (add them across files before dividing)."""

    #: frames where an enrolled person speaks, per such person (summed)
    enrolled_frames: int
    #: of those, frames where the hypothesis gives that person's name
    named_right: int
    #: frames where only people not enrolled speak
    unenrolled_frames: int
    #: of those, frames where the hypothesis gives an enrolled name
    named_wrongly: int

    def __add__(self, other: "NamingScore") -> "NamingScore":
        return NamingScore(*(a + b for a, b in zip(self.counts, other.counts)))

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return (self.enrolled_frames, self.named_right, self.unenrolled_frames, self.named_wrongly)

    @property
    def accuracy(self) -> float:
        return self.named_right / self.enrolled_frames if self.enrolled_frames else float("nan")

    @property
    def false_naming(self) -> float:
        return self.named_wrongly / self.unenrolled_frames if self.unenrolled_frames else 0.0


def _activity(turns: Iterable[tuple[float, float, str]], labels: list[str], frames: int) -> np.ndarray:
    active = np.zeros((frames, len(labels)), dtype=bool)
    index = {label: i for i, label in enumerate(labels)}
    for start, end, label in turns:
        if label in index:
            active[int(round(start / STEP)):int(round(end / STEP)), index[label]] = True
    return active


def score_naming(turns: Iterable[Turn], rttm: Path, uri: str, enrolled: set[str],
                 duration: float, uem: Optional[Timeline] = None) -> NamingScore:
    """Named accuracy and false naming of ``turns`` (named after reference speaker ids)."""
    reference = read_rttm(rttm, uri)
    frames = int(np.ceil(duration / STEP)) + 1
    people = sorted(reference.labels())
    ref = _activity(((s.start, s.end, l) for s, _, l in reference.itertracks(yield_label=True)),
                    people, frames)
    hyp = _activity(((t.start, t.end, t.speaker) for t in turns), people, frames)
    scored = np.ones(frames, dtype=bool)
    if uem is not None:
        scored = _activity(((s.start, s.end, "u") for s in uem), ["u"], frames)[:, 0]
    known = np.array([p in enrolled for p in people])
    ref, hyp = ref[scored], hyp[scored]
    only_unknown = ref[:, ~known].any(axis=1) & ~ref[:, known].any(axis=1)
    return NamingScore(
        enrolled_frames=int(ref[:, known].sum()),
        named_right=int((ref & hyp)[:, known].sum()),
        unenrolled_frames=int(only_unknown.sum()),
        named_wrongly=int((only_unknown & hyp[:, known].any(axis=1)).sum()),
    )
