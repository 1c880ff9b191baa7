"""The job input contract, validated with pydantic (strict types, unknown fields refused).

Shared by the RunPod handler, the HTTP API and the CLI, so the same input gets
the same error code everywhere. runpod's own ``rp_validator`` is not used: it
skips constraints whose value has the default's type.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .errors import ErrorCode, HearbackError
from .languages import CODES as LANGUAGE_CODES
from .types import Options
from .writers import DEFAULT_PRESET, FORMATS, SPEAKER_LABELS, ExportOptions

MAX_SPEAKERS = 50
#: most known voices given as embeddings in one request (``known_voices``: a whole library)
MAX_KNOWN_VOICES = 1000
#: longest embedding a known voice may have (CAM++: 192; pyannote's WeSpeaker: 256)
MAX_DIMENSION = 4096
#: what a transcription may ask the worker to send back beyond the document (``extras``; the
#: shapes are ``hearback.remote.wire``'s)
EXTRAS = ("speaker_embeddings", "diarization_inputs", "voiceprints")


def check_bounds(lo: Optional[int], hi: Optional[int], n: Optional[int]) -> None:
    """``invalid_speaker_bounds`` unless each bound is in 1–50 and ``lo ≤ n ≤ hi``."""
    for name, value in (("min_speakers", lo), ("max_speakers", hi), ("num_speakers", n)):
        if value is not None and not 1 <= value <= MAX_SPEAKERS:
            raise PydanticCustomError(
                ErrorCode.INVALID_SPEAKER_BOUNDS,
                "{name} must be between 1 and {max}, got {value}",
                {"name": name, "max": MAX_SPEAKERS, "value": value},
            )
    if lo is not None and hi is not None and lo > hi:
        raise PydanticCustomError(
            ErrorCode.INVALID_SPEAKER_BOUNDS,
            "min_speakers ({lo}) is greater than max_speakers ({hi})", {"lo": lo, "hi": hi},
        )
    if n is not None and ((lo is not None and n < lo) or (hi is not None and n > hi)):
        raise PydanticCustomError(
            ErrorCode.INVALID_SPEAKER_BOUNDS,
            "num_speakers ({n}) is outside min_speakers..max_speakers", {"n": n},
        )


class JobOptions(BaseModel):
    """Options every entry point accepts."""

    model_config = ConfigDict(extra="forbid", strict=True)

    language: Optional[str] = Field("auto", description="'auto' to detect, or an ISO 639-1 code")
    min_speakers: Optional[int] = Field(None, description="at least this many speakers")
    max_speakers: Optional[int] = Field(None, description="at most this many speakers")
    num_speakers: Optional[int] = Field(None, description="exactly this many speakers")
    diarize: bool = True
    word_timestamps: bool = True
    initial_prompt: Optional[str] = Field(None, max_length=2000)

    @field_validator("language")
    @classmethod
    def _language(cls, value: Optional[str]) -> Optional[str]:
        if value is None or value.strip().lower() in ("", "auto"):
            return "auto"
        code = value.strip().lower()
        if code not in LANGUAGE_CODES:
            raise PydanticCustomError(
                ErrorCode.UNSUPPORTED_LANGUAGE,
                "unknown language {value}: use 'auto' or an ISO 639-1 code such as en or fr",
                {"value": repr(value)},
            )
        return code

    @model_validator(mode="after")
    def _speaker_bounds(self) -> "JobOptions":
        check_bounds(self.min_speakers, self.max_speakers, self.num_speakers)
        return self

    def to_options(self) -> Options:
        return Options(
            language=None if self.language == "auto" else self.language,
            diarize=self.diarize,
            word_timestamps=self.word_timestamps,
            initial_prompt=self.initial_prompt,
            num_speakers=self.num_speakers,
            min_speakers=self.min_speakers,
            max_speakers=self.max_speakers,
        )


class KnownSpeakerInput(BaseModel):
    """A person to name in this job: a name and a recording of them alone (as the main audio)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=200)
    audio_url: Optional[str] = Field(None, max_length=8192)
    audio_base64: Optional[str] = None


class KnownVoiceInput(BaseModel):
    """A person to name in this job, given as an embedding (a voice library kept elsewhere, e.g.
    by ``hearback serve``): compared only with speakers found by the same embedding ``model``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=200)
    model: str = Field(min_length=1, max_length=200)
    vector: list[float] = Field(min_length=1, max_length=MAX_DIMENSION)

    @field_validator("vector")
    @classmethod
    def _finite(cls, value: list[float]) -> list[float]:
        if not all(math.isfinite(x) for x in value):
            raise PydanticCustomError(ErrorCode.INVALID_INPUT, "a known voice's vector holds finite numbers only")
        return value


class ReferenceInput(BaseModel):
    """One recording of a person alone (as the main audio: a URL or base64)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    audio_url: Optional[str] = Field(None, max_length=8192)
    audio_base64: Optional[str] = None


class ExportFields(BaseModel):
    """How exports look: the subtitle preset, its limits overridden, SRT labels, karaoke VTT."""

    model_config = ConfigDict(extra="forbid", strict=True)

    subtitle_style: str = Field(DEFAULT_PRESET, description="a subtitle preset: netflix or bbc")
    max_line_chars: Optional[int] = Field(None, ge=10, le=200)
    max_lines: Optional[int] = Field(None, ge=1, le=5)
    min_cue_seconds: Optional[float] = Field(None, ge=0, le=10)
    max_cue_seconds: Optional[float] = Field(None, ge=1, le=60)
    max_cps: Optional[float] = Field(None, ge=1, le=100)
    min_gap_seconds: Optional[float] = Field(None, ge=0, le=2)
    speaker_labels: str = Field("bracket", description="SRT speaker labels: bracket, colon or none")
    highlight_words: bool = False

    @field_validator("subtitle_style", "speaker_labels")
    @classmethod
    def _choice(cls, value: str, info) -> str:
        key = value.strip().lower()
        if info.field_name == "speaker_labels" and key not in SPEAKER_LABELS:
            raise PydanticCustomError(ErrorCode.INVALID_INPUT, "unknown {field} {value}: use one of {choices}",
                                      {"field": info.field_name, "value": repr(value),
                                       "choices": ", ".join(SPEAKER_LABELS)})
        return key  # a preset's name is checked with the limits, by ExportOptions

    @model_validator(mode="after")
    def _limits(self) -> "ExportFields":
        try:
            self.to_export()
        except ValueError as exc:
            raise PydanticCustomError(ErrorCode.INVALID_INPUT, "{error}", {"error": str(exc)}) from None
        return self

    def to_export(self, title: str = "transcript") -> ExportOptions:
        overrides = {name: getattr(self, name) for name in LIMIT_FIELDS if getattr(self, name) is not None}
        return ExportOptions(self.subtitle_style, overrides, self.speaker_labels, self.highlight_words, title)


#: the preset limits a caller may override: the export fields :class:`ExportOptions` has no
#: field of its own for (each one of :data:`hearback.subtitles.presets.OVERRIDES`)
LIMIT_FIELDS: tuple[str, ...] = tuple(name for name in ExportFields.model_fields
                                      if name not in {f.name for f in fields(ExportOptions)})


class HandlerInput(JobOptions, ExportFields):
    """The RunPod job input."""

    audio_url: Optional[str] = Field(None, max_length=8192)
    audio_base64: Optional[str] = None
    task: Literal["transcribe"] = "transcribe"
    known_speakers: list[KnownSpeakerInput] = Field(default_factory=list)
    known_voices: list[KnownVoiceInput] = Field(default_factory=list)
    use_library: bool = True
    output_format: str = "json"
    extras: list[str] = Field(default_factory=list)

    @field_validator("known_voices")
    @classmethod
    def _voices(cls, value: list[KnownVoiceInput]) -> list[KnownVoiceInput]:
        if len(value) > MAX_KNOWN_VOICES:
            raise PydanticCustomError(ErrorCode.INVALID_KNOWN_SPEAKERS,
                                      "{count} known voices; at most {max} per request",
                                      {"count": len(value), "max": MAX_KNOWN_VOICES})
        return value

    @field_validator("extras")
    @classmethod
    def _extras(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in EXTRAS]
        if unknown:
            raise PydanticCustomError(ErrorCode.INVALID_INPUT, "unknown extras {names}: use any of {choices}",
                                      {"names": ", ".join(map(repr, unknown)), "choices": ", ".join(EXTRAS)})
        return list(dict.fromkeys(value))

    @field_validator("output_format")
    @classmethod
    def _format(cls, value: str) -> str:
        fmt = value.strip().lower()
        if fmt not in FORMATS:
            raise PydanticCustomError(
                ErrorCode.UNSUPPORTED_FORMAT,
                "unknown output_format {value}: use one of {formats}",
                {"value": repr(value), "formats": ", ".join(FORMATS)},
            )
        return fmt


class EnrolInput(BaseModel):
    """Task ``enrol``: one person's voiceprint from recordings of them alone (no main audio)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    task: Literal["enrol"]
    name: str = Field(max_length=200)
    references: list[ReferenceInput] = Field(min_length=1, max_length=20)


class DiarizationInputsField(BaseModel):
    """A ``diarization_inputs`` extra sent back (``{"format": "npz", "data": base64}``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    format: Literal["npz"]
    data: str


class RediarizeInput(BaseModel):
    """Task ``rediarize``: speakers found again from a transcription's ``diarization_inputs``
    with new bounds (clustering only: no audio, no speech recognition)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    task: Literal["rediarize"]
    diarization_inputs: DiarizationInputsField
    num_speakers: Optional[int] = None
    min_speakers: Optional[int] = None
    max_speakers: Optional[int] = None

    @model_validator(mode="after")
    def _speaker_bounds(self) -> "RediarizeInput":
        check_bounds(self.min_speakers, self.max_speakers, self.num_speakers)
        return self


#: every task a RunPod job may name (``task``, default ``transcribe``) -> its input
TASKS: dict[str, type[BaseModel]] = {"transcribe": HandlerInput, "enrol": EnrolInput, "rediarize": RediarizeInput}


def parse_task(data: object) -> BaseModel:
    """A RunPod job's input, validated as the input of the task it names."""
    if not isinstance(data, dict):
        raise HearbackError(ErrorCode.INVALID_INPUT, "the input must be a JSON object")
    task = data.get("task", "transcribe")
    if not isinstance(task, str) or task not in TASKS:
        raise HearbackError(ErrorCode.INVALID_INPUT, f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    return parse(TASKS[task], data)


def parse(model: type[BaseModel], data: object) -> BaseModel:
    """Validate ``data`` into ``model`` or raise one :class:`HearbackError` with a stable code."""
    if not isinstance(data, dict):
        raise HearbackError(ErrorCode.INVALID_INPUT, "the input must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _to_error(exc) from None


def _to_error(exc: ValidationError) -> HearbackError:
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in first["loc"]) or "input"
    kind = first["type"]
    if kind in ErrorCode.__members__.values():
        return HearbackError(ErrorCode(kind), first["msg"])
    if kind == "extra_forbidden":
        return HearbackError(ErrorCode.UNKNOWN_FIELD, f"unknown field {field!r}")
    return HearbackError(ErrorCode.INVALID_INPUT, f"{field}: {first['msg']}")
