"""Turn a :class:`~hearback.types.Result` into JSON, SRT, WebVTT or plain text.

Modelled on openai-whisper's ``whisper/utils.py``: one writer class per format,
each writing to any text file object, and (as whisperX's ``get_writer``) one
registry of them, :data:`WRITERS`, which is the list of output formats every entry
point uses. Where subtitles break is decided in ``cues.py``; this module only
formats. Every time is rounded once to a whole millisecond
(:func:`~hearback.cues.to_ms`) and then formatted, so the JSON document and the
subtitles never disagree by a millisecond.

A new format is one :class:`ResultWriter` subclass, one line in :data:`WRITERS`,
and its description in SPECS.md.
"""

from __future__ import annotations

import io
import json
import logging
import math
from typing import Any, Optional, TextIO

from .cues import Cue, CueLimits, build_cues, speaker_runs, to_ms
from .types import Notice, Result, Segment, SpeakerIdentity, Word

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- times


def _seconds(seconds: float) -> float:
    """Seconds rounded to the millisecond, as the JSON document carries them."""
    return to_ms(seconds) / 1000.0


def _timestamp(ms: int, decimal_marker: str) -> str:
    """``HH:MM:SS<marker>mmm``; hours take as many digits as they need (at least 2)."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"


# --------------------------------------------------------------------------- JSON


def _round_probability(value: Optional[float]) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None


def result_to_dict(result: Result) -> dict[str, Any]:
    """The JSON document of the service contract (see SPECS.md), without the caller's extras."""
    segments = []
    for seg in result.segments:
        segments.append({
            "start": _seconds(seg.start),
            "end": _seconds(seg.end),
            "text": seg.text.strip(),
            "speaker": seg.speaker,
            "words": [
                {
                    "word": w.word.strip(),
                    "start": _seconds(w.start),
                    "end": _seconds(w.end),
                    "speaker": w.speaker,
                    "probability": _round_probability(w.probability),
                    "speaker_inferred": bool(w.speaker_inferred),
                    "overlap": bool(w.overlap),
                }
                for w in seg.words
            ],
        })
    document = {
        "transcription": {"text": result.text, "segments": segments},
        "speakers": list(result.speakers),
        "language": result.language,
        "language_probability": _round_probability(result.language_probability),
        "duration": _seconds(result.duration),
        "warnings": [_notice(n) for n in result.warnings],
    }
    if result.identities:  # only when known voices were compared (hearback.speakers)
        document["speaker_identities"] = [
            {"speaker": i.speaker, "label": i.label, "name": i.name, "score": i.score}
            for i in result.identities]
    return document


def _notice(notice: Notice) -> dict[str, Any]:
    out: dict[str, Any] = {"code": notice.code, "message": notice.message}
    if notice.start is not None:
        out["start"] = _seconds(notice.start)
    if notice.end is not None:
        out["end"] = _seconds(notice.end)
    return out


def result_from_dict(document: dict[str, Any]) -> Result:
    """The :class:`Result` a JSON document (:func:`result_to_dict`) describes: every format
    renders from it exactly as from the original (times are already whole milliseconds).
    Stored jobs keep the document and render exports from it on demand."""
    segments = tuple(
        Segment(seg["start"], seg["end"], seg["text"], speaker=seg["speaker"], words=tuple(
            Word(w["word"], w["start"], w["end"], w["probability"], w["speaker"],
                 w["speaker_inferred"], w["overlap"])
            for w in seg["words"]))
        for seg in document["transcription"]["segments"])
    return Result(
        segments=segments, language=document["language"], duration=document["duration"],
        speakers=tuple(document["speakers"]), language_probability=document["language_probability"],
        warnings=tuple(Notice(n["code"], n["message"], n.get("start"), n.get("end"))
                       for n in document.get("warnings", ())),
        identities=tuple(SpeakerIdentity(i["label"], i["name"], i["score"])
                         for i in document.get("speaker_identities", ())),
    )


# --------------------------------------------------------------------------- writers


class ResultWriter:
    """Writes a :class:`Result` in one format to a text file object."""

    #: the file name extension (without the dot) of what it writes
    extension: str = ""

    def write(self, result: Result, file: TextIO) -> None:
        raise NotImplementedError  # abstract: every format's writer below implements it


class JsonWriter(ResultWriter):
    """The JSON document of :func:`result_to_dict`, UTF-8 as is."""

    extension = "json"

    def write(self, result: Result, file: TextIO) -> None:
        json.dump(result_to_dict(result), file, ensure_ascii=False)


class _SubtitleWriter(ResultWriter):
    """A format of timed cues, laid out by :func:`~hearback.cues.build_cues`."""

    def __init__(self, limits: CueLimits = CueLimits()) -> None:
        self.limits = limits

    def cues(self, result: Result) -> list[Cue]:
        return build_cues(result, self.limits)


class SrtWriter(_SubtitleWriter):
    """SubRip: numbered cues, ``HH:MM:SS,mmm``, ``[SPEAKER_00] text``."""

    extension = "srt"

    def write(self, result: Result, file: TextIO) -> None:
        for number, cue in enumerate(self.cues(result), start=1):
            # "-->" inside the text would read as a timing line
            body = "\n".join(line.replace("-->", "->") for line in cue.lines)
            if cue.speaker is not None:
                body = f"[{cue.speaker}] {body}"
            file.write(f"{number}\n{_timestamp(cue.start_ms, ',')} --> "
                       f"{_timestamp(cue.end_ms, ',')}\n{body}\n\n")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class VttWriter(_SubtitleWriter):
    """WebVTT: ``HH:MM:SS.mmm``, speakers as voice spans ``<v SPEAKER_00>text</v>``."""

    extension = "vtt"

    def write(self, result: Result, file: TextIO) -> None:
        file.write("WEBVTT\n\n")
        for cue in self.cues(result):
            body = "\n".join(_vtt_escape(line) for line in cue.lines)
            if cue.speaker is not None:
                body = f"<v {_vtt_escape(cue.speaker)}>{body}</v>"
            file.write(f"{_timestamp(cue.start_ms, '.')} --> {_timestamp(cue.end_ms, '.')}\n{body}\n\n")


class TxtWriter(ResultWriter):
    """Plain text: one line per speaker turn, ``SPEAKER_00: text``.

    Consecutive stretches of the same speaker are one turn; without a speaker
    (diarization off) every segment is a line of its own.
    """

    extension = "txt"

    def write(self, result: Result, file: TextIO) -> None:
        turns: list[tuple[Optional[str], list[str]]] = []
        for segment in result.segments:
            for speaker, text in speaker_runs(segment):
                if speaker is not None and turns and turns[-1][0] == speaker:
                    turns[-1][1].append(text)
                else:
                    turns.append((speaker, [text]))
        for speaker, texts in turns:
            text = " ".join(texts)
            file.write(f"{speaker}: {text}\n" if speaker is not None else f"{text}\n")


# --------------------------------------------------------------------------- registry

#: every output format and its writer: the one list of formats (CLI, RunPod, jobs)
WRITERS: dict[str, type[ResultWriter]] = {
    "json": JsonWriter,
    "srt": SrtWriter,
    "vtt": VttWriter,
    "txt": TxtWriter,
}

#: the output formats, in the order of :data:`WRITERS`
FORMATS: tuple[str, ...] = tuple(WRITERS)

#: the name that stands for every format at once
ALL = "all"

#: what a caller may ask for where several formats can be written: a format, or "all"
FORMAT_CHOICES: tuple[str, ...] = (*FORMATS, ALL)


def _format_key(name: str) -> str:
    """A format's name as the registry spells it (any case and surrounding spaces accepted)."""
    key = str(name).strip().lower()
    if key not in WRITERS:
        raise ValueError(f"unknown output format {name!r}; expected one of {', '.join(FORMATS)}")
    return key


def expand_formats(name: str) -> tuple[str, ...]:
    """The formats ``name`` stands for: :data:`FORMATS` for ``"all"``, else that one format.

    Raises :class:`ValueError` for a name that is neither (as :func:`get_writer` does).
    """
    if str(name).strip().lower() == ALL:
        return FORMATS
    return (_format_key(name),)


def get_writer(fmt: str) -> ResultWriter:
    """The writer for ``fmt`` (one of :data:`FORMATS`, any case)."""
    return WRITERS[_format_key(fmt)]()


def render(result: Result, fmt: str) -> str:
    """``result`` in format ``fmt``, as a string."""
    buffer = io.StringIO()
    get_writer(fmt).write(result, buffer)
    return buffer.getvalue()
