"""Request bodies read as they stream in: the form's file part goes straight to its one file on
disk (no spooled copy), counted against the byte cap, refused the moment it passes it.

Starlette's own form parser spools every file part to a temporary file (in memory up to
1 MB, then on disk) before a route sees it, so a route that keeps the upload holds two copies
and the cap is only checked after the whole body arrived. This module feeds python-multipart
(the parser Starlette uses) itself instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Optional
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.requests import ClientDisconnect
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from ..errors import ErrorCode, HearbackError
from ..schema import JobOptions

logger = logging.getLogger(__name__)

#: the form part that holds the audio
FILE_FIELD = "file"
#: limits on the text fields around it
MAX_FIELDS = 50
MAX_FIELD_BYTES = 64 * 1024
#: Known-speaker reference clips come as data URLs in form fields: each may be this large.
MAX_REFERENCE_BYTES = 8 * 1024 * 1024
REFERENCE_FIELDS = ("known_speaker_references", "known_speaker_references[]")


#: The options fields both transcription routes take (``api.deps.form_options``): form name ->
#: :class:`~hearback.schema.JobOptions` field. OpenAI calls ``initial_prompt`` ``prompt``;
#: ``word_timestamps`` is no form field: over HTTP words are always timed (speakers are given
#: word by word, the editor edits words).
OPTION_FIELDS = {{"initial_prompt": "prompt"}.get(name, name): name
                 for name in JobOptions.model_fields if name != "word_timestamps"}


def form_schema(*fields: str, file_required: bool) -> dict:
    """OpenAPI's description of a form read by :func:`read_form` (FastAPI cannot see it: the
    route takes the raw request), for a route's ``openapi_extra``."""
    properties = {name: {"type": "string"} for name in fields}
    properties[FILE_FIELD] = {"type": "string", "format": "binary"}
    schema = {"type": "object", "properties": properties,
              "required": [FILE_FIELD] if file_required else []}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


@dataclass(frozen=True)
class UploadForm:
    """A form read from a request."""

    fields: dict[str, list[str]]  # every text field's values, in the order sent
    file: Optional[Path]  # where the ``file`` part was written; None when the form had none
    filename: Optional[str] = None  # the ``file`` part's file name as the client sent it

    def value(self, name: str) -> Optional[str]:
        """The field's last value, None when absent."""
        values = self.fields.get(name)
        return values[-1] if values else None

    def values(self, name: str) -> list[str]:
        return self.fields.get(name, [])


async def read_form(request: Request, target: Path, cap: int) -> UploadForm:
    """Read the request's form (multipart, or urlencoded without a file), writing its ``file``
    part to ``target``. ``audio_too_large`` past ``cap`` bytes, ``invalid_audio`` for an empty
    file, ``invalid_input`` for a malformed body. ``target`` may exist (partly) on error: the
    caller removes it."""
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    if kind == b"application/x-www-form-urlencoded":
        return await _read_urlencoded(request)
    if kind != b"multipart/form-data":
        raise HearbackError(ErrorCode.INVALID_INPUT, "send the request as multipart/form-data")
    if not params.get(b"boundary"):
        raise HearbackError(ErrorCode.INVALID_INPUT, "the multipart body has no boundary")
    reader = _MultipartReader(target, cap)
    try:
        parser = MultipartParser(params[b"boundary"], reader.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        raise HearbackError(ErrorCode.INVALID_INPUT, f"malformed multipart body ({exc})") from exc
    except ClientDisconnect:
        raise HearbackError(ErrorCode.INVALID_INPUT, "the client went away mid-body") from None
    finally:
        reader.close()
    return reader.form()


async def _read_urlencoded(request: Request) -> UploadForm:
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FIELD_BYTES:
                raise HearbackError(ErrorCode.INVALID_INPUT, f"the form is over {MAX_FIELD_BYTES} bytes")
    except ClientDisconnect:
        raise HearbackError(ErrorCode.INVALID_INPUT, "the client went away mid-body") from None
    fields: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, []).append(value)
    if len(fields) > MAX_FIELDS:
        raise HearbackError(ErrorCode.INVALID_INPUT, f"more than {MAX_FIELDS} form fields")
    return UploadForm(fields, None)


@dataclass
class _Part:
    """The part being parsed."""

    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str = ""
    data: bytearray = field(default_factory=bytearray)  # a text field's value
    is_file: bool = False


class _MultipartReader:
    """python-multipart callbacks that keep text fields and stream the file part to disk."""

    def __init__(self, target: Path, cap: int):
        self.target, self.cap = target, cap
        self.fields: dict[str, list[str]] = {}
        self.part = _Part()
        self.header = [b"", b""]
        self.out: Optional[BinaryIO] = None
        self.written = 0
        self.saw_file = False
        self.filename: Optional[str] = None

    def callbacks(self) -> dict:
        return {"on_part_begin": self.begin, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_done, "on_part_data": self.data,
                "on_part_end": self.end}

    def begin(self) -> None:
        self.part = _Part()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.header[0] += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self.header[1] += data[start:end]

    def header_end(self) -> None:
        self.part.headers[self.header[0].lower()] = self.header[1]
        self.header = [b"", b""]

    def headers_done(self) -> None:
        _, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise HearbackError(ErrorCode.INVALID_INPUT, "a form part has no name")
        self.part.name = options[b"name"].decode("utf-8", "replace")
        if self.part.name == FILE_FIELD:
            if self.saw_file:
                raise HearbackError(ErrorCode.INVALID_INPUT, "send one file")
            self.saw_file = self.part.is_file = True
            if b"filename" in options:
                self.filename = options[b"filename"].decode("utf-8", "replace")
            self.out = self.target.open("wb", buffering=0)  # chunks are large: no copy in a buffer
        elif sum(len(v) for v in self.fields.values()) >= MAX_FIELDS:
            raise HearbackError(ErrorCode.INVALID_INPUT, f"more than {MAX_FIELDS} form fields")

    def data(self, data: bytes, start: int, end: int) -> None:
        if not self.part.is_file:
            self.part.data += data[start:end]
            cap = MAX_REFERENCE_BYTES if self.part.name in REFERENCE_FIELDS else MAX_FIELD_BYTES
            if len(self.part.data) > cap:
                raise HearbackError(ErrorCode.INVALID_INPUT,
                                    f"form field {self.part.name!r} is over {cap} bytes")
            return
        self.written += end - start
        if self.written > self.cap:
            raise HearbackError(ErrorCode.AUDIO_TOO_LARGE, f"the upload is larger than {self.cap} bytes")
        self.out.write(data[start:end])

    def end(self) -> None:
        if self.part.is_file:
            self.close()
        else:
            self.fields.setdefault(self.part.name, []).append(self.part.data.decode("utf-8", "replace"))

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None

    def form(self) -> UploadForm:
        if self.saw_file and self.written == 0:
            raise HearbackError(ErrorCode.INVALID_AUDIO, "the uploaded file is empty")
        return UploadForm(self.fields, self.target if self.saw_file else None,
                          self.filename if self.saw_file else None)


def save_upload(upload, target: Path, cap: int) -> None:
    """Copy a FastAPI ``UploadFile`` (routes that take several small files: voice references)
    to ``target``; ``audio_too_large`` past ``cap`` bytes, ``invalid_audio`` if empty."""
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > cap:
                raise HearbackError(ErrorCode.AUDIO_TOO_LARGE, f"the upload is larger than {cap} bytes")
            out.write(chunk)
    if written == 0:
        raise HearbackError(ErrorCode.INVALID_AUDIO, "the uploaded file is empty")
