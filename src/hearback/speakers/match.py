"""Known voices matched to the speakers diarization found, and the diarization renamed.

One-to-one: an optimal assignment (Hungarian algorithm, scipy's ``linear_sum_assignment``)
maximising the total cosine similarity between found speakers' centroids and known
voiceprints, so no two speakers get one name and no name is given greedily. A pair is
kept only when its similarity reaches :data:`THRESHOLD`; below it the speaker keeps its
``SPEAKER_xx`` label. Only voiceprints made by the diarizer's own embedding model are compared.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Sequence

import numpy as np

from ..types import Diarization, SpeakerIdentity, Turn
from .voiceprint import Voiceprint

logger = logging.getLogger(__name__)

#: Least cosine similarity between a found speaker's centroid and a voiceprint to give the
#: name. Calibrated on the AMI clips that share people (bench/bench_speakers.py,
#: bench/RESULTS.md, "Speakers by name").
THRESHOLD = 0.5


def identify(diarization: Diarization, voices: Sequence[Voiceprint],
             threshold: float = THRESHOLD) -> tuple[SpeakerIdentity, ...]:
    """Per speaker found (in label order), the name given, or none, and its score."""
    labels = list(diarization.speakers)
    usable = [v for v in voices if v.model == diarization.embedding_model]
    if len(usable) < len(voices):
        logger.warning("%d voiceprint(s) of another embedding model than %r ignored",
                       len(voices) - len(usable), diarization.embedding_model)
    found = [label for label in labels if label in diarization.centroids]
    if not usable or not found:
        return tuple(SpeakerIdentity(label) for label in labels)
    scores = similarities([diarization.centroids[label] for label in found], [v.vector for v in usable])
    named = _assign(scores, threshold)
    best = scores.max(axis=1)
    out = {}
    for row, label in enumerate(found):
        column = named.get(row)
        name = usable[column].name if column is not None else None
        score = scores[row, column] if column is not None else best[row]
        out[label] = SpeakerIdentity(label, name, round(float(score), 4))
    return tuple(out.get(label, SpeakerIdentity(label)) for label in labels)


def similarities(centroids: Sequence[Sequence[float]], vectors: Sequence[Sequence[float]]) -> np.ndarray:
    """Cosine similarity, (num_centroids, num_vectors)."""
    a = _unit(np.asarray(centroids, dtype=np.float64))
    b = _unit(np.asarray(vectors, dtype=np.float64))
    return a @ b.T


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def _assign(scores: np.ndarray, threshold: float) -> dict[int, int]:
    """Row -> column of the optimal one-to-one assignment, pairs below ``threshold`` dropped."""
    from scipy.optimize import linear_sum_assignment

    rows, columns = linear_sum_assignment(scores, maximize=True)
    return {int(r): int(c) for r, c in zip(rows, columns) if scores[r, c] >= threshold}


def rename(diarization: Diarization, identities: Sequence[SpeakerIdentity]) -> Diarization:
    """A new diarization whose turns and centroids carry each identity's ``speaker``."""
    return relabel(diarization, {i.label: i.speaker for i in identities})


def relabel(diarization: Diarization, names: dict[str, str]) -> Diarization:
    """A new diarization whose turns and centroids carry ``names`` (label -> new label; a label
    not in it stays)."""
    if all(old == new for old, new in names.items()):
        return diarization

    def turns(items: Sequence[Turn]) -> tuple[Turn, ...]:
        return tuple(replace(t, speaker=names.get(t.speaker, t.speaker)) for t in items)

    centroids = {names.get(k, k): v for k, v in diarization.centroids.items()}
    return replace(diarization, turns=turns(diarization.turns), exclusive=turns(diarization.exclusive),
                   centroids=centroids)
