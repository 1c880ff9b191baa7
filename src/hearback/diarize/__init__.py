"""Speaker diarization: who spoke when. The whole extension surface, light to import.

* :class:`Diarizer`: what every backend returns: ``diarize``, ``rediarize`` (clustering again
  from what ``diarize`` kept) and ``embed``.
* :data:`BACKENDS`: backend name -> its loader, named lazily (``"module:function"``), so
  that neither torch nor pyannote.audio is imported before a diarizer is loaded.
* :func:`load_diarizer`: the backend the settings ask for (``auto`` resolved by
  :attr:`~hearback.settings.Settings.resolved_diarization_backend`), loaded once.

The backends (SPECS.md, "Settings", ``DIARIZATION_BACKEND``):

* ``embedded`` (:mod:`hearback.diarize.embedded`): token-free, bundled weights, pyannote's
  pipeline tuned for overlap and for long recordings;
* ``pyannote`` (:mod:`hearback.diarize.hub`): a pyannote pipeline from the hub or a local
  directory.

Both run through :class:`~hearback.diarize.runner.PipelineDiarizer`, which turns pyannote's
output into :class:`~hearback.types.Diarization` with labels ``SPEAKER_00``, ``SPEAKER_01``,
… in order of first speech.

A new backend is one module with a ``load(settings) -> Diarizer`` function, its line in
:data:`BACKENDS`, its row in SPECS.md and a test. May import only the floor (types, errors,
settings) and :mod:`hearback.runtime`; the CAM++ embedding it runs is
:mod:`hearback.diarize.campplus`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable, Optional, Protocol, Union

if TYPE_CHECKING:  # at run time this module imports nothing heavy, nor the settings
    import numpy as np
    import torch

    from ..settings import Settings
    from ..types import Audio, Diarization, ProgressHook
    from .inputs import ClusteringInputs


class Diarizer(Protocol):
    """A loaded diarization backend. ``diarize`` takes decoded audio in memory and returns
    turns labelled ``SPEAKER_00``, ``SPEAKER_01``, … in order of first speech; ``progress``
    defaults to :func:`hearback.types.no_progress` and is called with the "diarize" stage."""

    #: the backend's name, a key of :data:`BACKENDS`
    name: str
    #: the speaker embedding model's id (voiceprints are compared only within one model)
    embedding_model: str

    def diarize(self, audio: Audio, *, num_speakers: Optional[int] = None,
                min_speakers: Optional[int] = None, max_speakers: Optional[int] = None,
                progress: ProgressHook = ...) -> Diarization: ...

    def rediarize(self, inputs: ClusteringInputs, *, num_speakers: Optional[int] = None,
                  min_speakers: Optional[int] = None,
                  max_speakers: Optional[int] = None) -> Diarization:
        """Speakers found again from what an earlier ``diarize`` kept
        (:attr:`Diarization.inputs <hearback.types.Diarization.inputs>`), with new bounds:
        clustering only, no audio."""
        ...

    def embed(self, waveforms: "torch.Tensor") -> "np.ndarray":
        """(batch, 1, samples) waveforms of one speaker each -> (batch, dimension) embeddings,
        in the space of :attr:`Diarization.centroids <hearback.types.Diarization.centroids>`."""
        ...


#: Loads a backend from the settings (device, threads, tokens, paths).
Loader = Callable[["Settings"], Diarizer]

#: Every backend: name -> loader, or ``"module:function"`` naming it, imported on first use.
BACKENDS: dict[str, Union[str, Loader]] = {
    "embedded": "hearback.diarize.embedded:load",
    "pyannote": "hearback.diarize.hub:load",
}


def load_diarizer(settings: Settings) -> Diarizer:
    """The backend the settings ask for, loaded once (its module is imported only now)."""
    return _loader(settings.resolved_diarization_backend)(settings)


def _loader(name: str) -> Loader:
    if name not in BACKENDS:
        from ..errors import ErrorCode, HearbackError

        raise HearbackError(ErrorCode.MODEL_UNAVAILABLE, f"unknown diarization backend {name!r}: use one of "
                            f"{', '.join(('auto', *BACKENDS))} (DIARIZATION_BACKEND)")
    entry = BACKENDS[name]
    if callable(entry):
        return entry
    module, _, function = entry.partition(":")
    return getattr(importlib.import_module(module), function)
