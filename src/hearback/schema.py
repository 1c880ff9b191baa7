"""The job input contract, validated with pydantic (strict types, unknown fields refused).

Shared by the RunPod handler, the HTTP API and the CLI, so the same input gets
the same error code everywhere. runpod's own ``rp_validator`` is not used: it
skips constraints whose value has the default's type.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .errors import ErrorCode, HearbackError
from .languages import CODES as LANGUAGE_CODES
from .types import Options
from .writers import DEFAULT_PRESET, FORMATS, SPEAKER_LABELS, ExportOptions

MAX_SPEAKERS = 50


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
        for name in ("min_speakers", "max_speakers", "num_speakers"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= MAX_SPEAKERS:
                raise PydanticCustomError(
                    ErrorCode.INVALID_SPEAKER_BOUNDS,
                    "{name} must be between 1 and {max}, got {value}",
                    {"name": name, "max": MAX_SPEAKERS, "value": value},
                )
        lo, hi, n = self.min_speakers, self.max_speakers, self.num_speakers
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
    known_speakers: list[KnownSpeakerInput] = Field(default_factory=list)
    use_library: bool = True
    output_format: str = "json"

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
