"""The ``pyannote`` diarization backend: a pyannote.audio pipeline as published.

From the hub (``pyannote/speaker-diarization-3.1``, ``pyannote/speaker-diarization-community-1``;
gated, needs ``HF_TOKEN``) or from a local directory holding its ``config.yaml``
(``PYANNOTE_PIPELINE``). Run as is, through :class:`~hearback.diarize.runner.PipelineDiarizer`.
"""

from __future__ import annotations

import logging
from typing import Optional

from pyannote.audio import Pipeline

from ..errors import ErrorCode, HearbackError
from ..settings import Settings
from .runner import PipelineDiarizer, prepare_torch

logger = logging.getLogger(__name__)


def load(settings: Settings) -> PipelineDiarizer:
    """The pipeline ``PYANNOTE_PIPELINE`` names, on the configured device."""
    device = prepare_torch(settings)
    pipeline = load_pipeline(settings.pyannote_pipeline, settings.hf_token)
    pipeline.to(device)
    logger.info("diarization: pyannote on %s", device)
    # pyannote.audio 4.0.7: the pipeline keeps the embedding it was built with as ``embedding``.
    model = str(getattr(pipeline, "embedding", name_of(settings)))
    return PipelineDiarizer("pyannote", pipeline, embedding_model=model)


def name_of(settings: Settings) -> str:
    """A fallback embedding id: the pipeline's own name."""
    return f"{settings.pyannote_pipeline} embedding"


def load_pipeline(name: str, token: Optional[str]) -> Pipeline:
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
