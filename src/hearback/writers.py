"""Turn a :class:`~hearback.types.Result` into JSON, SRT, WebVTT, text, TSV, RTTM or DOCX.

Modelled on openai-whisper's ``whisper/utils.py``: one writer class per format, and (as
whisperX's ``get_writer``) one registry of them, :data:`WRITERS`, which is the list of
output formats every entry point uses. Where subtitles break and when they show is
decided by the subtitle engine (:mod:`hearback.subtitles`) within a preset; this module only
formats, and imports the engine only when a subtitle or turn format is written, so validating
export options (:class:`ExportOptions`) loads no layout code.
Text formats write to a text file object; a binary one (``binary = True``: DOCX) to a
binary file object. Every time is rounded once to a whole millisecond
(:func:`~hearback.document.to_ms`), so the JSON document and the exports never disagree.

A new format is one :class:`ResultWriter` subclass, one line in :data:`WRITERS`, and its
description in SPECS.md.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, BinaryIO, Mapping, Optional, TextIO

from .document import result_to_dict, to_ms
from .types import Result

if TYPE_CHECKING:
    from .subtitles.cues import Cue, CueLine
    from .subtitles.lint import LintReport
    from .subtitles.presets import CueLimits

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_PRESET", "ExportOptions", "FORMATS", "WRITERS", "SPEAKER_LABELS", "expand_formats",
           "get_writer", "render", "render_bytes", "speaker_turns"]

#: the subtitle preset exports follow when the caller names none (a key of
#: :data:`hearback.subtitles.presets.PRESETS`)
DEFAULT_PRESET = "netflix"

#: how SRT shows a speaker where the speaker changes: a template, or None for no label
SPEAKER_LABELS: dict[str, Optional[str]] = {"bracket": "[{}] ", "colon": "{}: ", "none": None}


@dataclass(frozen=True)
class ExportOptions:
    """How a result is exported (every field has the default the service uses)."""

    #: the subtitle preset (``presets.PRESETS``)
    subtitle_style: str = DEFAULT_PRESET
    #: limits that replace the preset's (``presets.OVERRIDES``)
    overrides: Mapping[str, float] = field(default_factory=dict)
    #: how SRT labels a speaker where the speaker changes (a key of :data:`SPEAKER_LABELS`)
    speaker_labels: str = "bracket"
    #: karaoke WebVTT: a timestamp before every word after a cue's first
    highlight_words: bool = False
    #: the recording's name: the DOCX title and the RTTM file id
    title: str = "transcript"
    #: the date the DOCX shows (None: today)
    on: Optional[date] = None

    def __post_init__(self) -> None:
        if self.speaker_labels not in SPEAKER_LABELS:
            raise ValueError(f"speaker_labels must be one of {', '.join(SPEAKER_LABELS)}")
        self.limits(None)  # fail early on a bad preset or limit

    def limits(self, language: Optional[str]) -> CueLimits:
        from .subtitles.presets import preset_limits  # data only: the engine stays unloaded

        return preset_limits(self.subtitle_style, language, self.overrides)


def _timestamp(ms: int, decimal_marker: str) -> str:
    """``HH:MM:SS<marker>mmm``; hours take as many digits as they need (at least 2)."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{millis:03d}"


def speaker_turns(result: Result) -> list[tuple[Optional[str], int, int, str]]:
    """(speaker, start ms, end ms, text) per speaker turn: consecutive stretches of the same
    speaker joined; without a speaker (diarization off) every segment is a turn of its own."""
    from .subtitles.tokens import segment_runs

    turns: list[tuple[Optional[str], int, int, str]] = []
    for segment in result.segments:
        for speaker, tokens in segment_runs(segment):
            text = "".join(t.sep + t.text for t in tokens).strip()
            start, end = to_ms(tokens[0].start), to_ms(max(t.end for t in tokens))
            if speaker is not None and turns and turns[-1][0] == speaker:
                prev = turns[-1]
                turns[-1] = (speaker, prev[1], max(prev[2], end), f"{prev[3]} {text}")
            else:
                turns.append((speaker, start, end, text))
    return turns


# --------------------------------------------------------------------------- writers


class ResultWriter:
    """Writes a :class:`Result` in one format."""

    #: the file name extension (without the dot) of what it writes
    extension: str = ""
    #: the HTTP media type of what it writes
    media_type: str = "text/plain; charset=utf-8"
    #: True: :meth:`write_binary` to a binary file; False: :meth:`write` to a text file
    binary: bool = False

    def __init__(self, options: Optional[ExportOptions] = None) -> None:
        self.options = options or ExportOptions()

    def write(self, result: Result, file: TextIO) -> None:
        raise NotImplementedError  # abstract: every text format's writer implements it

    def write_binary(self, result: Result, file: BinaryIO) -> None:
        """A text format as UTF-8 bytes; binary formats override this."""
        buffer = io.StringIO()
        self.write(result, buffer)
        file.write(buffer.getvalue().encode("utf-8"))

    def to_text(self, result: Result) -> str:
        """``result`` in this (text) format, as a string (ValueError for a binary format)."""
        if self.binary:
            raise ValueError(f"{self.extension} is a binary format: use to_bytes")
        buffer = io.StringIO()
        self.write(result, buffer)
        return buffer.getvalue()

    def to_bytes(self, result: Result) -> bytes:
        """``result`` in this format as bytes (text formats as UTF-8)."""
        buffer = io.BytesIO()
        self.write_binary(result, buffer)
        return buffer.getvalue()


class JsonWriter(ResultWriter):
    """The JSON document of :func:`result_to_dict`, UTF-8 as is."""

    extension, media_type = "json", "application/json"

    def write(self, result: Result, file: TextIO) -> None:
        json.dump(result_to_dict(result), file, ensure_ascii=False)


class _SubtitleWriter(ResultWriter):
    """A format of timed cues, laid out by :func:`~hearback.subtitles.cues.build_cues` within a preset."""

    def label(self, speaker: str) -> str:
        return ""

    #: (result, its cues) of the last result laid out: writing and linting one result share
    #: the layout (about 4.5 s of one core per hour of speech)
    _laid_out: Optional[tuple[Result, tuple[Cue, ...]]] = None

    def cues(self, result: Result) -> tuple[Cue, ...]:
        if self._laid_out is None or self._laid_out[0] is not result:
            from .subtitles.cues import build_cues

            self._laid_out = (result, tuple(build_cues(result, self.options.limits(result.language), self.label)))
        return self._laid_out[1]

    def lint(self, result: Result) -> LintReport:
        """The cues this writer writes, against the rules of its preset."""
        from .subtitles.lint import lint

        return lint(self.cues(result), self.options.limits(result.language), self.options.subtitle_style)


class SrtWriter(_SubtitleWriter):
    """SubRip: numbered cues, ``HH:MM:SS,mmm``, the speaker's label where the speaker changes."""

    extension, media_type = "srt", "application/x-subrip; charset=utf-8"

    def label(self, speaker: str) -> str:
        template = SPEAKER_LABELS[self.options.speaker_labels]
        return template.format(speaker) if template else ""

    def write(self, result: Result, file: TextIO) -> None:
        for number, cue in enumerate(self.cues(result), start=1):
            # "-->" inside the text would read as a timing line
            body = "\n".join(line.replace("-->", "->") for line in cue.lines)
            file.write(f"{number}\n{_timestamp(cue.start_ms, ',')} --> "
                       f"{_timestamp(cue.end_ms, ',')}\n{body}\n\n")


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class VttWriter(_SubtitleWriter):
    """WebVTT: ``HH:MM:SS.mmm``, every cue in voice spans ``<v SPEAKER_00>text</v>``; with
    ``highlight_words``, a timestamp tag before each word after the first (karaoke)."""

    extension, media_type = "vtt", "text/vtt; charset=utf-8"

    def _spoken(self, line: "CueLine", cue: "Cue", last_ms: int) -> tuple[str, int]:
        """A line's words, escaped; with ``highlight_words`` a timestamp before each word that
        starts strictly after ``last_ms`` and inside the cue. Returns the text and the last
        timestamp written."""
        if not self.options.highlight_words:
            return _vtt_escape(line.spoken), last_ms
        out = []
        for word in line.words:
            if last_ms < word.start_ms < cue.end_ms:  # timestamps rise strictly inside the cue
                out.append(f"{word.sep}<{_timestamp(word.start_ms, '.')}>{_vtt_escape(word.text)}")
                last_ms = word.start_ms
            else:
                out.append(_vtt_escape(word.sep + word.text))
        return "".join(out), last_ms

    def _body(self, cue: Cue) -> str:
        lines, last_ms = [], cue.start_ms
        for part in cue.parts:
            spoken, last_ms = self._spoken(part, cue, last_ms)
            lines.append(_vtt_escape(part.prefix) + spoken)
        if cue.speaker is None:
            return "\n".join(lines)
        if cue.dual:
            return "\n".join(f"<v {_vtt_escape(p.speaker or '')}>{line}</v>" for p, line in zip(cue.parts, lines))
        return f"<v {_vtt_escape(cue.speaker)}>" + "\n".join(lines) + "</v>"

    def write(self, result: Result, file: TextIO) -> None:
        file.write("WEBVTT\n\n")
        for cue in self.cues(result):
            file.write(f"{_timestamp(cue.start_ms, '.')} --> {_timestamp(cue.end_ms, '.')}\n{self._body(cue)}\n\n")


class TxtWriter(ResultWriter):
    """Plain text: one line per speaker turn (:func:`speaker_turns`), ``SPEAKER_00: text``."""

    extension = "txt"

    def write(self, result: Result, file: TextIO) -> None:
        for speaker, _start, _end, text in speaker_turns(result):
            file.write(f"{speaker}: {text}\n" if speaker is not None else f"{text}\n")


class TsvWriter(ResultWriter):
    """Tab-separated, a header then one row per speaker turn: start and end in whole
    milliseconds, speaker ("" when diarization is off), text (CSV-quoted when it must be)."""

    extension, media_type = "tsv", "text/tab-separated-values; charset=utf-8"

    def write(self, result: Result, file: TextIO) -> None:
        rows = csv.writer(file, delimiter="\t", lineterminator="\n")
        rows.writerow(["start", "end", "speaker", "text"])
        for speaker, start, end, text in speaker_turns(result):
            rows.writerow([start, end, speaker or "", text])


class RttmWriter(ResultWriter):
    """RTTM: the diarization's own turns (overlap included), one ``SPEAKER`` line each;
    empty without diarization. The file id (the title) and speaker ids: whitespace made "_"."""

    extension = "rttm"

    def write(self, result: Result, file: TextIO) -> None:
        uri = re.sub(r"\s+", "_", self.options.title.strip()) or "transcript"
        for turn in result_to_dict(result)["turns"]:
            start_ms, end_ms = round(turn["start"] * 1000), round(turn["end"] * 1000)
            speaker = re.sub(r"\s+", "_", turn["speaker"].strip())  # a field holds no space
            file.write(f"SPEAKER {uri} 1 {start_ms / 1000:.3f} {(end_ms - start_ms) / 1000:.3f} "
                       f"<NA> <NA> {speaker} <NA> <NA>\n")


class DocxWriter(ResultWriter):
    """A meeting transcript for people (``docx_export.py``)."""

    extension = "docx"
    media_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    binary = True

    def write(self, result: Result, file: TextIO) -> None:
        raise ValueError("docx is a binary format: use write_binary")

    def write_binary(self, result: Result, file: BinaryIO) -> None:
        from .docx_export import write_docx

        write_docx(result, file, self.options.title, self.options.on or date.today(), speaker_turns(result))


# --------------------------------------------------------------------------- registry

#: every output format and its writer: the one list of formats (CLI, RunPod, jobs)
WRITERS: dict[str, type[ResultWriter]] = {
    "json": JsonWriter,
    "srt": SrtWriter,
    "vtt": VttWriter,
    "txt": TxtWriter,
    "tsv": TsvWriter,
    "rttm": RttmWriter,
    "docx": DocxWriter,
}

#: the output formats, in the order of :data:`WRITERS`
FORMATS: tuple[str, ...] = tuple(WRITERS)

#: the formats laid out in cues, which carry a lint report
SUBTITLE_FORMATS: tuple[str, ...] = tuple(k for k, w in WRITERS.items() if issubclass(w, _SubtitleWriter))

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


def get_writer(fmt: str, options: Optional[ExportOptions] = None) -> ResultWriter:
    """The writer for ``fmt`` (one of :data:`FORMATS`, any case)."""
    return WRITERS[_format_key(fmt)](options)


def render(result: Result, fmt: str, options: Optional[ExportOptions] = None) -> str:
    """``result`` in text format ``fmt``, as a string (ValueError for a binary format)."""
    return get_writer(fmt, options).to_text(result)


def render_bytes(result: Result, fmt: str, options: Optional[ExportOptions] = None) -> bytes:
    """``result`` in format ``fmt`` as bytes (text formats as UTF-8)."""
    return get_writer(fmt, options).to_bytes(result)


def lint_report(result: Result, fmt: str, options: Optional[ExportOptions] = None) -> Optional[dict[str, Any]]:
    """The lint report of subtitle format ``fmt`` (None for a format without cues)."""
    writer = get_writer(fmt, options)
    return writer.lint(result).to_dict() if isinstance(writer, _SubtitleWriter) else None
