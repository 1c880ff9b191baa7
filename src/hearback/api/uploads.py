"""Request bodies to files, under the byte cap."""

from __future__ import annotations

from pathlib import Path

from fastapi import UploadFile

from ..errors import ErrorCode, HearbackError


def save_upload(upload: UploadFile, target: Path, cap: int) -> None:
    """Copy ``upload`` to ``target``; ``audio_too_large`` past ``cap`` bytes, ``invalid_audio`` if empty."""
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > cap:
                raise HearbackError(ErrorCode.AUDIO_TOO_LARGE, f"the upload is larger than {cap} bytes")
            out.write(chunk)
    if written == 0:
        raise HearbackError(ErrorCode.INVALID_AUDIO, "the uploaded file is empty")
