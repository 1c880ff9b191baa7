"""Diarization error rate with pyannote.metrics: collar 0, overlapped speech scored."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

from hearback.types import Turn


def read_rttm(path: Path, uri: Optional[str] = None) -> Annotation:
    """The reference turns of one recording (all of the file when ``uri`` is None)."""
    annotation = Annotation()
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) < 8 or parts[0] != "SPEAKER" or (uri and parts[1] != uri):
            continue
        start, duration = float(parts[3]), float(parts[4])
        annotation[Segment(start, start + duration), annotation.new_track(Segment(start, start + duration))] = parts[7]
    return annotation


def to_annotation(turns: Iterable[Turn]) -> Annotation:
    annotation = Annotation()
    for turn in turns:
        segment = Segment(turn.start, turn.end)
        annotation[segment, annotation.new_track(segment)] = turn.speaker
    return annotation


def der_against_rttm(turns: Iterable[Turn], rttm: Path, uri: Optional[str] = None,
                     uem: Optional[Timeline] = None) -> float:
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    return metric(read_rttm(rttm, uri), to_annotation(turns), uem=uem)


def read_uem(path: Path) -> dict[str, Timeline]:
    """Scored regions per recording."""
    regions: dict[str, list[Segment]] = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4:
            regions.setdefault(parts[0], []).append(Segment(float(parts[2]), float(parts[3])))
    return {uri: Timeline(segments) for uri, segments in regions.items()}


def public_set(testdata: Path) -> list[tuple[str, Path, Path, Optional[Timeline]]]:
    """(uri, audio, rttm, uem) for the public diarization set: the pyannote sample and the 13 AMI clips."""
    folder = testdata / "diarization"
    items = [("sample", folder / "pyannote-sample.wav", folder / "pyannote-sample.rttm", None)]
    uems = read_uem(folder / "ami" / "ami.uem")
    for audio in sorted((folder / "ami").glob("*.flac")):
        items.append((audio.stem, audio, folder / "ami" / "ami.rttm", uems.get(audio.stem)))
    return items


class Scorer:
    """Accumulates DER over files (pyannote.metrics: total errors over total reference speech)."""

    def __init__(self):
        self.metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)

    def add(self, turns: Iterable[Turn], rttm: Path, uri: Optional[str] = None,
            uem: Optional[Timeline] = None) -> float:
        return self.metric(read_rttm(rttm, uri), to_annotation(turns), uem=uem)

    @property
    def total(self) -> float:
        return abs(self.metric)
