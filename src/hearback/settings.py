"""Settings, read from environment variables (and a ``.env`` file if present).

Every setting has an environment variable of the same name in upper case,
e.g. ``WHISPER_MODEL=tiny.en``. SPECS.md lists them all.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hearback"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # --- models -----------------------------------------------------------
    device: Literal["auto", "cpu", "cuda"] = "auto"
    whisper_model: Optional[str] = Field(
        None, description="Model name or local path; default large-v3 on CUDA, base on CPU."
    )
    compute_type: Optional[str] = Field(None, description="Default float16 on CUDA, int8 on CPU.")
    batch_size: int = Field(8, ge=1, description="ASR batch size (VAD chunks decoded at once).")
    beam_size: int = Field(5, ge=1)
    cpu_threads: int = Field(
        0, ge=0, description="0 = the cores this container may use (cgroup CPU quota, affinity).")
    model_cache_dir: Path = Field(default_factory=_default_cache_dir)
    alignment_model_dir: Optional[Path] = Field(
        None,
        description="Directory holding wav2vec2 alignment models, one sub-directory per language "
        "code (en, fr, ...). When a language has one, words are aligned with it.",
    )

    # --- diarization --------------------------------------------------------
    diarization_backend: str = Field(
        "auto", description='"auto" or a key of hearback.diarize.BACKENDS (checked when the diarizer loads).')
    hf_token: Optional[str] = None
    pyannote_pipeline: str = Field(
        "pyannote/speaker-diarization-community-1",
        description="Hub name (needs HF_TOKEN) or a local directory holding config.yaml. "
        "community-1 by default: it needs only its own terms accepted, while pyannote.audio 4 "
        "loads community-1's PLDA for 3.1 too (pyannote-audio #2044).",
    )

    # --- inputs -------------------------------------------------------------
    allow_local_files: bool = Field(
        False, description="Let audio_url be a local path or file:// URL (development only)."
    )
    max_download_bytes: int = Field(2 * 1024**3, ge=1)
    download_connect_timeout: float = Field(10.0, gt=0)
    download_read_timeout: float = Field(60.0, gt=0)
    download_deadline: float = Field(1800.0, gt=0)
    max_duration: float = Field(6 * 3600.0, gt=0, description="Longest accepted recording, seconds.")
    max_concurrent_decodes: int = Field(
        2, ge=1, description="Decodes run at once per process; more wait (each holds up to "
        "MAX_DURATION of 16 kHz float32 audio).")
    speaker_library: Optional[Path] = Field(
        None, description="SQLite voice library (hearback.speakers.library); none: no library.")
    speaker_library_readonly: bool = Field(
        False, description="Open the library read-only (RunPod workers on a network volume).")

    # --- a RunPod endpoint as the compute backend (hearback.remote) ------------
    runpod_endpoint_url: Optional[str] = Field(
        None, description="The endpoint's base URL, https://api.runpod.ai/v2/<id> (or a local server).")
    runpod_api_key: Optional[SecretStr] = Field(None, description="RunPod API key; never logged, never in a URL.")
    runpod_api_key_file: Optional[Path] = Field(None, description="A file holding the key (e.g. a secret mount).")
    runpod_max_payload: int = Field(
        10_000_000, ge=1000, description="Largest /run request body, bytes (RunPod documents 10 MB).")
    runpod_poll_interval: float = Field(2.0, gt=0, description="Seconds between /status calls at first.")
    runpod_poll_max: float = Field(15.0, gt=0, description="Longest wait between /status calls.")
    runpod_status_wait: float = Field(
        3600.0, gt=0, description="Read timeout of a /status answered by POST (runpod's local server runs "
                                  "the job inside that request).")
    runpod_execution_timeout: Optional[float] = Field(
        None, gt=0, description="Seconds a remote job may run (RunPod's policy.executionTimeout); unset: the endpoint's.")
    runpod_price_per_second: Optional[float] = Field(
        None, ge=0, description="USD per second of execution, for a job's estimated cost; unset: no estimate.")
    s3_bucket: Optional[str] = Field(None, description="An S3-compatible bucket for audio too large to send inline.")
    s3_endpoint_url: Optional[str] = Field(None, description="The bucket's S3 API URL (R2, MinIO, …); unset: AWS.")
    s3_region: Optional[str] = Field(None, description="The bucket's region (AWS); unset: boto3's default.")
    s3_access_key_id: Optional[str] = None
    s3_secret_access_key: Optional[SecretStr] = None
    s3_prefix: str = Field("hearback/", description="Key prefix of the uploaded recordings.")
    audio_url_expiry: float = Field(3600.0, ge=60, le=7 * 24 * 3600,
                                    description="Seconds a presigned or signed audio URL stays valid.")

    @property
    def runpod_key(self) -> Optional[str]:
        """The RunPod API key: RUNPOD_API_KEY, else the first line of RUNPOD_API_KEY_FILE."""
        if self.runpod_api_key is not None:
            return self.runpod_api_key.get_secret_value()
        if self.runpod_api_key_file is not None:
            return self.runpod_api_key_file.read_text().strip() or None
        return None

    # --- derived ------------------------------------------------------------
    @property
    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        try:
            import ctranslate2

            return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        except Exception:  # pragma: no cover - ctranslate2 always importable here
            return "cpu"

    @property
    def resolved_whisper_model(self) -> str:
        if self.whisper_model:
            return self.whisper_model
        return "large-v3" if self.resolved_device == "cuda" else "base"

    @property
    def resolved_compute_type(self) -> str:
        if self.compute_type:
            return self.compute_type
        return "float16" if self.resolved_device == "cuda" else "int8"

    @property
    def resolved_cpu_threads(self) -> int:
        """CPU_THREADS, or the container's CPU quota: inside a container ``os.cpu_count()``
        reports the host's cores, and that many threads against a quota of a few thrash."""
        from .runtime.device import available_cpus

        return self.cpu_threads or available_cpus()

    @property
    def resolved_diarization_backend(self) -> str:
        """pyannote when a token or a local pipeline directory is configured, else embedded."""
        if self.diarization_backend != "auto":
            return self.diarization_backend
        if self.hf_token or Path(self.pyannote_pipeline).is_dir():
            return "pyannote"
        return "embedded"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
