"""Diarization error rate with pyannote.metrics: collar 0, overlapped speech scored."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

from evaluation.testdata import read_rttm
from hearback.types import Turn


def der_metric() -> DiarizationErrorRate:
    """The metric every DER here is: no collar, overlapped speech scored."""
    return DiarizationErrorRate(collar=0.0, skip_overlap=False)


def to_annotation(turns: Iterable[Turn]) -> Annotation:
    annotation = Annotation()
    for turn in turns:
        segment = Segment(turn.start, turn.end)
        annotation[segment, annotation.new_track(segment)] = turn.speaker
    return annotation


def der_against_rttm(turns: Iterable[Turn], rttm: Path, uri: Optional[str] = None,
                     uem: Optional[Timeline] = None) -> float:
    return der_metric()(read_rttm(rttm, uri), to_annotation(turns), uem=uem)


class Scorer:
    """Accumulates DER over files (pyannote.metrics: total errors over total reference speech)."""

    def __init__(self):
        self.metric = der_metric()

    def add(self, turns: Iterable[Turn], rttm: Path, uri: Optional[str] = None,
            uem: Optional[Timeline] = None) -> float:
        return self.metric(read_rttm(rttm, uri), to_annotation(turns), uem=uem)

    @property
    def total(self) -> float:
        return abs(self.metric)
