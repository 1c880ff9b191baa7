"""The worker's extras: what a RunPod job sends back beyond the JSON document when asked
(``extras`` in the job input), and the shapes of the other tasks' answers (``enrol``,
``rediarize``). One version number for all of it, :data:`VERSION`; a reader refuses another.

* ``speaker_embeddings``: ``{"model", "speakers": {speaker: [float, …]}}``, each speaker as the
  result shows it (a name or ``SPEAKER_xx``) with its centroid: "this voice is …" and naming;
* ``diarization_inputs``: ``{"format": "npz", "data": base64}``, the clustering inputs
  (``hearback.diarize.inputs``) as their compressed archive: rediarize;
* ``voiceprints``: ``[{"name", "model", "vector", "seconds"}]``, the job's ``known_speakers``
  enrolled from their recordings, so the caller keeps them for rediarize without the audio;
* ``diarization`` (task ``rediarize``): ``{"model", "turns", "exclusive", "centroids"}``, turns as
  ``[start, end, label]``.

Vectors are JSON numbers (float32 precision); ``model`` is the embedding model's id, compared
before any matching. Pure data: no model is needed to read or write it.
"""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import asdict, replace
from typing import Any, Optional, Sequence

from ..document import result_from_dict
from ..errors import ErrorCode, HearbackError
from ..schema import EXTRAS, MAX_DIMENSION
from ..speakers.voiceprint import Voiceprint
from ..types import Diarization, Result, Turn

__all__ = ["EXTRAS", "VERSION"]

#: the extras' version: written by the worker, checked by every reader
VERSION = 1


def _vector(values: Sequence[float]) -> list[float]:
    return [float(x) for x in values]


def voiceprint_to_dict(voice: Voiceprint) -> dict[str, Any]:
    return {**asdict(voice), "vector": _vector(voice.vector)}


def voiceprint_from_dict(data: dict[str, Any]) -> Voiceprint:
    return Voiceprint(str(data["name"]), str(data["model"]), check_vector(data["vector"]),
                      float(data.get("seconds", 0.0)))


def check_vector(values: Any) -> tuple[float, ...]:
    """An embedding as floats: 1–:data:`MAX_DIMENSION` finite numbers, or ``invalid_input``."""
    if not isinstance(values, (list, tuple)) or not 1 <= len(values) <= MAX_DIMENSION:
        raise HearbackError(ErrorCode.INVALID_INPUT, f"a voice vector is a list of 1-{MAX_DIMENSION} numbers")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in values):
        raise HearbackError(ErrorCode.INVALID_INPUT, "a voice vector holds finite numbers only")
    return tuple(float(x) for x in values)


def speaker_embeddings(diarization: Optional[Diarization]) -> dict[str, Any]:
    """The ``speaker_embeddings`` extra of a result's diarization (empty without one)."""
    if diarization is None or not diarization.centroids:
        return {"model": getattr(diarization, "embedding_model", None), "speakers": {}}
    return {"model": diarization.embedding_model,
            "speakers": {speaker: _vector(v) for speaker, v in diarization.centroids.items()}}


def inputs_extra(diarization: Optional[Diarization]) -> Optional[dict[str, str]]:
    """The ``diarization_inputs`` extra (None when the diarization kept none: no speech)."""
    if diarization is None or diarization.inputs is None:
        return None
    from ..diarize.inputs import inputs_to_bytes

    return {"format": "npz", "data": base64.b64encode(inputs_to_bytes(diarization.inputs)).decode("ascii")}


def inputs_from_extra(extra: Optional[dict[str, Any]]):
    """The ClusteringInputs a ``diarization_inputs`` extra holds (None for none)."""
    if extra is None:
        return None
    from ..diarize.inputs import inputs_from_bytes

    if not isinstance(extra, dict) or extra.get("format") != "npz":
        raise HearbackError(ErrorCode.INVALID_INPUT, "diarization_inputs: format must be npz")
    try:
        return inputs_from_bytes(base64.b64decode(str(extra.get("data", "")), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise HearbackError(ErrorCode.INVALID_INPUT, f"diarization_inputs: {exc}") from None


def _turns(turns: Sequence[Turn]) -> list[list]:
    return [[t.start, t.end, t.speaker] for t in turns]


def diarization_to_dict(diarization: Diarization) -> dict[str, Any]:
    """A diarization (task ``rediarize``'s answer): its turns, exclusive turns, centroids, model."""
    return {"model": diarization.embedding_model, "turns": _turns(diarization.turns),
            "exclusive": _turns(diarization.exclusive),
            "centroids": {k: _vector(v) for k, v in diarization.centroids.items()}}


def diarization_from_dict(data: dict[str, Any], inputs=None) -> Diarization:
    def turns(key: str) -> tuple[Turn, ...]:
        return tuple(Turn(float(s), float(e), str(speaker)) for s, e, speaker in data[key])

    return Diarization(turns("turns"), turns("exclusive"),
                       {str(k): check_vector(v) for k, v in data.get("centroids", {}).items()},
                       data.get("model"), inputs=inputs)


def checked(extras: Any) -> dict[str, Any]:
    """The ``extras`` of a worker's output, its version checked (``endpoint_incompatible``)."""
    if not isinstance(extras, dict) or extras.get("version") != VERSION:
        found = extras.get("version") if isinstance(extras, dict) else None
        raise HearbackError(ErrorCode.ENDPOINT_INCOMPATIBLE,
                            f"the endpoint's worker answers extras version {found!r}, this server reads "
                            f"{VERSION}: deploy the same Hearback version on both")
    return extras


def _voiceprints(result, enrolled: Sequence[Voiceprint]) -> list[dict[str, Any]]:
    return [voiceprint_to_dict(v) for v in enrolled]


#: how the worker writes each extra a transcription may ask for (one per name of ``EXTRAS``)
BUILDERS = {
    "speaker_embeddings": lambda result, enrolled: speaker_embeddings(result.diarization),
    "diarization_inputs": lambda result, enrolled: inputs_extra(result.diarization),
    "voiceprints": _voiceprints,
}


def transcription_extras(result, enrolled: Sequence[Voiceprint], wanted: Sequence[str]) -> dict[str, Any]:
    """The ``extras`` of a transcription: each one ``wanted`` (names of ``EXTRAS``)."""
    return {"version": VERSION, **{name: BUILDERS[name](result, enrolled) for name in wanted}}


def task_extras(**values: Any) -> dict[str, Any]:
    """The ``extras`` of another task's answer (``voiceprints`` for enrol, ``diarization`` for rediarize)."""
    return {"version": VERSION, **values}


#: the output fields of a transcription that are not the document
_NOT_DOCUMENT = ("extras", "output_format", "processing_time")


def transcription(output: dict[str, Any]) -> tuple[Result, tuple[Voiceprint, ...]]:
    """The Result a transcription's output describes (its diarization carrying the centroids,
    the embedding model and the clustering inputs), and the voiceprints sent back."""
    extras = checked(output.get("extras"))
    try:
        result = result_from_dict({k: v for k, v in output.items() if k not in _NOT_DOCUMENT})
    except (KeyError, TypeError, ValueError) as exc:
        raise HearbackError(ErrorCode.ENDPOINT_INCOMPATIBLE, f"the endpoint's document is not readable ({exc})") from None
    embeddings = extras.get("speaker_embeddings") or {}
    inputs = inputs_from_extra(extras.get("diarization_inputs"))
    if result.diarization is not None or embeddings.get("speakers"):
        diarization = replace(result.diarization or Diarization((), ()), embedding_model=embeddings.get("model"),
                              centroids={k: check_vector(v) for k, v in embeddings.get("speakers", {}).items()},
                              inputs=inputs)
        result = replace(result, diarization=diarization)
    return result, tuple(voiceprint_from_dict(v) for v in extras.get("voiceprints", ()))
