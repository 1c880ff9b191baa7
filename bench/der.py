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
