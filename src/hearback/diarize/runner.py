"""A pyannote.audio speaker-diarization pipeline run on Hearback's audio, and its output turned
into Hearback's types. Every backend diarizes through :class:`PipelineDiarizer`.

Written against pyannote.audio 4.0.7 (pinned in requirements.txt): the step names the
progress hook maps, and the artifacts it keeps (``segmentation``, ``embeddings``), are those
``SpeakerDiarization.apply`` reports in that version; :meth:`PipelineDiarizer.rediarize` feeds
them back through the cache pyannote reads in ``training`` mode (``get_segmentations`` and
``get_embeddings`` take them from the file instead of running the models).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from typing import Any, Optional

import numpy as np
import torch
from pyannote.audio import Pipeline
from pyannote.core import Annotation, Segment

from ..settings import Settings
from ..types import Audio, Diarization, ProgressHook, Stage, Turn, no_progress
from .inputs import ClusteringInputs

logger = logging.getLogger(__name__)

#: Shorter audio gives no turns, without running the pipeline.
MIN_DURATION = 0.1


def prepare_torch(settings: Settings) -> torch.device:
    """Every loader's first step: torch gets the configured CPU threads; returns the device."""
    torch.set_num_threads(settings.resolved_cpu_threads)
    return torch.device(settings.resolved_device)


@dataclass(frozen=True, eq=False)
class PipelineDiarizer:
    """A :class:`~hearback.diarize.Diarizer` running pyannote.audio pipelines on audio in memory."""

    #: the backend's name, a key of :data:`hearback.diarize.BACKENDS`
    name: str
    #: the pipeline that diarizes every recording up to ``long_recording`` seconds
    pipeline: Pipeline
    #: the pipeline for recordings longer than ``long_recording`` (None: ``pipeline`` takes all)
    long_pipeline: Optional[Pipeline] = None
    #: seconds of audio beyond which ``long_pipeline`` takes over
    long_recording: float = float("inf")
    #: which speaker embedding model the pipelines use (voiceprints record it)
    embedding_model: str = "unknown"
    #: one rediarization at a time: it switches a shared pipeline into ``training`` mode
    _rediarizing: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def pipeline_for(self, duration: float) -> Pipeline:
        if self.long_pipeline is not None and duration > self.long_recording:
            return self.long_pipeline
        return self.pipeline

    def diarize(self, audio: Audio, *, num_speakers: Optional[int] = None,
                min_speakers: Optional[int] = None, max_speakers: Optional[int] = None,
                progress: ProgressHook = no_progress) -> Diarization:
        if audio.duration < MIN_DURATION:
            return Diarization((), ())
        waveform = torch.from_numpy(audio.samples).unsqueeze(0)
        hook = _ProgressAdapter(progress)
        output = self.pipeline_for(audio.duration)(
            {"waveform": waveform, "sample_rate": audio.sample_rate},
            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers,
            hook=hook,
        )
        progress(Stage.DIARIZE, 1.0)
        return replace(to_diarization(output), embedding_model=self.embedding_model,
                       inputs=hook.inputs(audio.duration))

    def rediarize(self, inputs: ClusteringInputs, *, num_speakers: Optional[int] = None,
                  min_speakers: Optional[int] = None,
                  max_speakers: Optional[int] = None) -> Diarization:
        """Speakers found again from kept :class:`ClusteringInputs` with new bounds: only
        clustering and the timeline's reconstruction run (milliseconds to a second), on the
        pipeline that made the inputs, through pyannote's own cache for re-running a pipeline
        (``training`` mode: segmentations and embeddings are read from the file)."""
        pipeline = self.pipeline_for(inputs.duration)
        threshold = getattr(getattr(pipeline, "segmentation", None), "threshold", None)
        file = {"waveform": torch.zeros(1, 16000), "sample_rate": 16000, "uri": "rediarize",
                # pyannote.audio 4.0.7: the cache keys get_segmentations/get_embeddings read
                pipeline.CACHED_SEGMENTATION: inputs.segmentations,
                "training_cache/embeddings": {"embeddings": inputs.embeddings,
                                              "segmentation.threshold": threshold}}
        with self._rediarizing:
            pipeline.training = True
            try:
                output = pipeline(file, num_speakers=num_speakers, min_speakers=min_speakers,
                                  max_speakers=max_speakers)
            finally:
                pipeline.training = False
        return replace(to_diarization(output), embedding_model=self.embedding_model, inputs=inputs)

    def embed(self, waveforms: torch.Tensor) -> np.ndarray:
        """Speaker embeddings of (batch, 1, samples) waveforms of one speaker each, with the
        pipelines' own embedding model: (batch, dimension)."""
        # pyannote.audio 4.0.7: the pipeline's embedding model is its private ``_embedding``.
        return self.pipeline._embedding(waveforms)


def to_diarization(output: Any) -> Diarization:
    """Hearback's :class:`Diarization` from what a pyannote pipeline returns: pyannote 4's
    ``DiarizeOutput`` (regular + exclusive annotations), or 3.x's single ``Annotation``
    (whose exclusive view is then computed here)."""
    regular = getattr(output, "speaker_diarization", output)
    exclusive = getattr(output, "exclusive_speaker_diarization", None)
    if exclusive is None:
        exclusive = _exclusive(regular)
    diarization = _relabel(regular, exclusive)
    return replace(diarization, centroids=_centroids(regular, getattr(output, "speaker_embeddings", None)))


def _centroids(regular: Annotation, embeddings: Optional[np.ndarray]) -> dict[str, tuple[float, ...]]:
    """Each speaker's centroid under its Hearback label. pyannote 4 sorts
    ``speaker_embeddings`` rows in ``regular.labels()`` order; an all-zero row (a speaker
    with no centroid of its own) is left out."""
    if embeddings is None:
        return {}
    order = _label_order(regular)
    out = {}
    for label, row in zip(regular.labels(), embeddings):
        if np.any(row) and np.all(np.isfinite(row)):
            out[order[label]] = tuple(float(x) for x in row)
    return out


class _ProgressAdapter:
    """pyannote calls ``hook(step_name, step_artifact, file=..., total=..., completed=...)``.
    Map its steps onto one 0..1 fraction of the "diarize" stage, and keep the artifacts
    clustering starts from (a step's last call, without ``completed``, carries its whole
    output) for :meth:`inputs`."""

    #: pyannote's step -> the share of the stage it spans (steps not listed are ignored)
    STEPS = {"segmentation": (0.0, 0.3), "speaker_counting": (0.3, 0.35),
             "embeddings": (0.35, 0.95), "discrete_diarization": (0.95, 1.0)}
    #: the steps whose output rediarization needs (ClusteringInputs)
    KEPT = ("segmentation", "embeddings")

    def __init__(self, progress: ProgressHook):
        self.progress = progress
        #: step -> its whole output, for the KEPT steps
        self.artifacts: dict[str, Any] = {}

    def inputs(self, duration: float) -> Optional[ClusteringInputs]:
        """What clustering started from; None when it never ran (no speech at all)."""
        if not all(step in self.artifacts for step in self.KEPT):
            return None
        return ClusteringInputs(self.artifacts["segmentation"], self.artifacts["embeddings"], duration)

    def __call__(self, step: str, artifact: Any = None, *, file=None, total=None,
                 completed=None) -> None:
        if step in self.KEPT and artifact is not None and completed is None:
            self.artifacts[step] = artifact
        lo, hi = self.STEPS.get(step, (None, None))
        if lo is None:
            return
        share = completed / total if total and completed is not None else 1.0
        self.progress(Stage.DIARIZE, lo + (hi - lo) * min(share, 1.0))


def _exclusive(annotation: Annotation) -> Annotation:
    """One speaker at a time: where turns overlap, the one that started last wins until it ends."""
    out = Annotation(uri=annotation.uri)
    turns = sorted(annotation.itertracks(yield_label=True), key=lambda t: t[0].start)
    cursor = 0.0
    for segment, _track, label in turns:
        start = max(segment.start, cursor)
        if segment.end > start:
            out[Segment(start, segment.end)] = label
            cursor = segment.end
    return out.support()


def _label_order(regular: Annotation) -> dict[str, str]:
    """pyannote's label -> SPEAKER_00, SPEAKER_01, … in order of first speech."""
    order: dict[str, str] = {}
    for segment, _track, label in sorted(regular.itertracks(yield_label=True), key=lambda t: t[0].start):
        order.setdefault(label, f"SPEAKER_{len(order):02d}")
    return order


def _relabel(regular: Annotation, exclusive: Annotation) -> Diarization:
    """SPEAKER_00, SPEAKER_01, … in order of first speech, the same in both annotations."""
    order = _label_order(regular)

    def turns(annotation: Annotation) -> tuple[Turn, ...]:
        out = []
        for segment, _track, label in annotation.itertracks(yield_label=True):
            if label not in order:
                order[label] = f"SPEAKER_{len(order):02d}"
            out.append(Turn(round(float(segment.start), 3), round(float(segment.end), 3), order[label]))
        return tuple(sorted(out, key=lambda t: (t.start, t.end)))

    return Diarization(turns=turns(regular), exclusive=turns(exclusive))
