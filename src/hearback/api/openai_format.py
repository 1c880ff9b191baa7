"""OpenAI's transcription response formats, from a :class:`~hearback.types.Result`.

``json`` and ``text`` as OpenAI gives them; ``srt``/``vtt`` from Hearback's writers;
``verbose_json`` with OpenAI's segment fields plus ``speaker`` (and ``words[]`` when asked);
``diarized_json`` as ``gpt-4o-transcribe-diarize`` returns it; Hearback's own exports
``tsv``, ``rttm`` and ``docx`` where OpenAI's list leaves room.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import PlainTextResponse, Response

from .. import languages
from ..errors import ErrorCode, HearbackError
from ..types import Result
from ..writers import FORMATS, ExportOptions, get_writer

#: the writers' formats the endpoint answers with as they are (OpenAI's own json and text
#: are other shapes: the text alone)
EXPORTS = tuple(f for f in FORMATS if f not in ("json", "txt"))
#: Formats whose answer shows speakers: diarization is on for them unless the request says.
WITH_SPEAKERS = ("diarized_json", "verbose_json", *EXPORTS)
RESPONSE_FORMATS = ("json", "text", *WITH_SPEAKERS)


def check_format(response_format: str) -> None:
    if response_format not in RESPONSE_FORMATS:
        raise HearbackError(ErrorCode.UNSUPPORTED_FORMAT,
                            f"response_format must be one of {', '.join(RESPONSE_FORMATS)}")


def respond(result: Result, response_format: str, granularities: set[str],
            export: ExportOptions) -> Response | dict[str, Any]:
    if response_format == "text":
        return PlainTextResponse(result.text + "\n")
    if response_format in EXPORTS:
        return export_response(result, response_format, export)
    if response_format == "json":
        return {"text": result.text}
    if response_format == "diarized_json":
        return _diarized(result)
    return _verbose(result, granularities)


def _diarized(result: Result) -> dict[str, Any]:
    return {
        "task": "transcribe", "duration": result.duration, "text": result.text,
        "segments": [
            {"type": "transcript.text.segment", "id": f"seg_{i}", "start": s.start, "end": s.end,
             "text": s.text, "speaker": s.speaker or "SPEAKER_00"}
            for i, s in enumerate(result.segments)],
        "usage": {"type": "duration", "seconds": result.duration},
    }


def _verbose(result: Result, granularities: set[str]) -> dict[str, Any]:
    verbose: dict[str, Any] = {
        "task": "transcribe", "language": languages.name(result.language),
        "duration": result.duration, "text": result.text,
    }
    if "segment" in granularities:
        verbose["segments"] = [
            {"id": i, "seek": 0, "start": s.start, "end": s.end, "text": s.text, "tokens": [],
             "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0, "no_speech_prob": 0.0,
             "speaker": s.speaker}
            for i, s in enumerate(result.segments)]
    if "word" in granularities:
        verbose["words"] = [{"word": w.word, "start": w.start, "end": w.end, "speaker": w.speaker}
                            for s in result.segments for w in s.words]
    return verbose


def export_response(result: Result, fmt: str, export: ExportOptions) -> Response:
    """One of the writers' formats, with its media type (a binary one as an attachment)."""
    writer = get_writer(fmt, export)
    headers = ({"Content-Disposition": f'attachment; filename="{export.title}.{writer.extension}"'}
               if writer.binary else None)
    return Response(writer.to_bytes(result), media_type=writer.media_type, headers=headers)
