"""How far naming speakers can go on a recording, whatever the matching: the named accuracy
(evaluation/naming.py) that diarization leaves reachable, from oracles that know the reference
speaker turns.

* :func:`oracle_named` — the speakers diarization found, each named by the reference person
  it shares most time with (one-to-one, pyannote.metrics' optimal mapping), when that person
  is enrolled: the best any matching of found speakers to voices can do;
* :func:`oracle_clustered` — pyannote's per-chunk local speakers (segmentation-3.0) clustered
  by the reference (each local speaker goes to the person it overlaps most in its chunk),
  then the timeline rebuilt as the pipeline does: what clustering by the truth gives with
  this segmentation and speaker count (an oracle, not a strict bound: a local speaker that
  holds two people goes to one of them);
* :func:`detected` — every enrolled name on every stretch diarization calls speech: the
  share of enrolled people's speech the segmentation hears at all, a strict bound for any
  clustering (segmentation and speaker count fix where there is speech).

And one way known voices could steer clustering itself (:func:`voice_guided`, measured in
bench/bench_speakers.py, not adopted): each chunk's local speaker may go to a known voice's
cluster instead of its own when its similarity to the voice (plus ``bonus``) beats its
similarity to its cluster's centroid.

The clustering is swapped on the diarizer's pipeline for one rediarization (a bench runs one
thing at a time; a server never calls this).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import numpy as np
from pyannote.core import Annotation

from evaluation.der import der_metric, to_annotation
from hearback.diarize.inputs import ClusteringInputs
from hearback.speakers.match import similarities
from hearback.types import Diarization, Turn

#: clustering strategy: (pyannote's own clustering call, embeddings, binarized segmentations,
#: the segmentation model's frames) -> (hard_clusters, soft_clusters or None, centroids)
Strategy = Callable[..., tuple]


def oracle_named(diarization: Diarization, reference: Annotation, enrolled: set[str]) -> tuple[Turn, ...]:
    """Found speakers named by the reference person they share most time with, if enrolled."""
    if not diarization.turns:
        return ()
    mapping = der_metric().optimal_mapping(reference, to_annotation(diarization.turns))
    names = {found: person for found, person in mapping.items() if person in enrolled}
    return tuple(Turn(t.start, t.end, names.get(t.speaker, t.speaker)) for t in diarization.turns)


def detected(diarization: Diarization, enrolled: set[str]) -> tuple[Turn, ...]:
    """Every enrolled name on every turn: only missed speech is then left unnamed."""
    return tuple(Turn(t.start, t.end, person) for t in diarization.turns for person in sorted(enrolled))


def oracle_clustered(diarizer, inputs: ClusteringInputs, reference: Annotation) -> Diarization:
    """Rediarized with every local speaker clustered to the reference person it overlaps most."""
    people = sorted(reference.labels())

    def strategy(_own, embeddings, segmentations, frames):
        num_chunks, num_frames, num_local = segmentations.data.shape
        hard = np.zeros((num_chunks, num_local), dtype=np.int8)
        for c, (chunk, segmentation) in enumerate(segmentations):
            times = chunk.start + frames.step * np.arange(num_frames) + frames.duration / 2
            votes = np.zeros((num_local, len(people) + 1))
            for segment, _track, person in reference.itertracks(yield_label=True):
                inside = (times >= segment.start) & (times < segment.end)
                votes[:, people.index(person)] += (segmentation[inside] > 0).sum(axis=0)
            votes[:, -1] = 0.5  # a local speaker nobody overlaps: a cluster of its own
            hard[c] = votes.argmax(axis=1)
        return hard, None, _centroids(embeddings, hard)

    with _clustering(diarizer, inputs, strategy) as rediarize:
        return rediarize()


def voice_guided(diarizer, inputs: ClusteringInputs, voices: Sequence[Sequence[float]],
                 bonus: float, floor: float) -> Diarization:
    """Rediarized with known voices as extra centroids: a local speaker whose cosine to a voice
    is at least ``floor`` goes to that voice's cluster when the cosine plus ``bonus`` beats
    its similarity to every found centroid."""
    def strategy(own, embeddings, _segmentations, _frames):
        _hard, soft, _centroids_found = own()
        # shape: soft (num_chunks, num_local, num_clusters), 1 + cosine (pyannote: 2 - distance)
        num_chunks, num_local, dimension = embeddings.shape
        cosine = similarities(embeddings.reshape(-1, dimension), voices).reshape(num_chunks, num_local, -1)
        known = np.where(cosine >= floor, 1.0 + cosine + bonus, -np.inf)
        scores = np.nan_to_num(np.concatenate([soft, known], axis=2), nan=-np.inf)
        hard = scores.argmax(axis=2)
        used = np.unique(hard[np.isfinite(embeddings).all(axis=-1)])
        hard = np.searchsorted(used, hard).clip(0, max(len(used) - 1, 0)).astype(np.int8)
        return hard, None, _centroids(embeddings, hard)

    with _clustering(diarizer, inputs, strategy) as rediarize:
        return rediarize()


def _centroids(embeddings: np.ndarray, hard: np.ndarray) -> np.ndarray:
    """Mean embedding of each cluster (zeros for one with no finite embedding)."""
    rows = []
    finite = np.isfinite(embeddings).all(axis=-1)
    for k in range(int(hard.max()) + 1):
        members = (hard == k) & finite
        rows.append(embeddings[members].mean(axis=0) if members.any() else np.zeros(embeddings.shape[-1]))
    return np.vstack(rows)


@contextmanager
def _clustering(diarizer, inputs: ClusteringInputs, strategy: Strategy) -> Iterator[Callable[[], Diarization]]:
    """The diarizer's pipeline for ``inputs`` with its clustering replaced by ``strategy``."""
    pipeline = diarizer.pipeline_for(inputs.duration)
    own = pipeline.clustering
    # pyannote.audio 4.0.7: the segmentation model's frames (receptive field) as apply() passes them
    frames = pipeline._segmentation.model.receptive_field

    class Swapped:
        def __call__(self, embeddings, segmentations=None, **kwargs):
            return strategy(lambda: own(embeddings, segmentations=segmentations, **kwargs),
                            embeddings, segmentations, frames)

    pipeline.clustering = Swapped()
    try:
        yield lambda: diarizer.rediarize(inputs)
    finally:
        pipeline.clustering = own
