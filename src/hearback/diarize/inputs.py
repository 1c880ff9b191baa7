"""What a diarization's clustering started from, kept with a finished job so that its speakers
can be found again (``POST /v1/jobs/{id}/rediarize``) without the audio and without running the
segmentation and embedding models again: pyannote's per-chunk segmentations and per-chunk,
per-local-speaker embeddings, and the recording's length (which picks the pipeline).

Stored as one compressed NumPy archive (``np.savez_compressed``, no pickle): for a 10-minute
recording on the embedded backend about 200 chunks × 589 frames × 3 speakers of 0/1 and
200 × 3 × 192 float32 numbers.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from pyannote.core import SlidingWindow, SlidingWindowFeature

logger = logging.getLogger(__name__)

#: The file, in a job's kept folder.
FILENAME = "diarization.npz"


@dataclass(frozen=True, eq=False)
class ClusteringInputs:
    """The two expensive steps' outputs of pyannote's ``SpeakerDiarization.apply``."""

    #: (num_chunks, num_frames, local_num_speakers) segmentation, chunks on their sliding window
    segmentations: SlidingWindowFeature
    #: (num_chunks, local_num_speakers, dimension) embeddings; NaN for an inactive speaker
    embeddings: np.ndarray
    #: seconds of audio diarized (picks the short or the long pipeline, as the first time)
    duration: float


def inputs_to_bytes(inputs: ClusteringInputs) -> bytes:
    """``inputs`` as the compressed NumPy archive (the file's bytes; also what the RunPod worker
    sends back, ``hearback.remote.wire``)."""
    window = inputs.segmentations.sliding_window
    buffer = io.BytesIO()
    np.savez_compressed(buffer, segmentations=inputs.segmentations.data.astype(np.float32),
                        window=np.array([window.start, window.duration, window.step]),
                        embeddings=inputs.embeddings.astype(np.float32),
                        duration=np.array(inputs.duration))
    return buffer.getvalue()


def inputs_from_bytes(data: bytes) -> ClusteringInputs:
    """The inputs an archive of :func:`inputs_to_bytes` holds; ``ValueError`` when it is not one."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            start, duration, step = (float(x) for x in archive["window"])
            window = SlidingWindow(start=start, duration=duration, step=step)
            segmentations, embeddings = archive["segmentations"], archive["embeddings"]
            length = float(archive["duration"])
    except (OSError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"not a diarization inputs archive ({type(exc).__name__})") from exc
    if segmentations.ndim != 3 or embeddings.ndim != 3 or len(segmentations) != len(embeddings):
        raise ValueError("diarization inputs of mismatched shapes")
    return ClusteringInputs(SlidingWindowFeature(segmentations, window), embeddings, length)


def save_inputs(folder: Path, inputs: ClusteringInputs) -> Path:
    """Write ``inputs`` into ``folder`` (created); the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILENAME
    partial = path.with_suffix(".partial.npz")
    partial.write_bytes(inputs_to_bytes(inputs))
    partial.replace(path)  # whole or absent, never half written
    return path


def load_inputs(folder: Optional[Path]) -> Optional[ClusteringInputs]:
    """The inputs kept in ``folder``; None when nothing (readable) was kept there."""
    path = folder / FILENAME if folder is not None else None
    if path is None or not path.is_file():
        return None
    try:
        return inputs_from_bytes(path.read_bytes())
    except (OSError, ValueError):
        logger.exception("unreadable diarization inputs in %s", folder)
        return None
