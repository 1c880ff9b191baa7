"""Settings of the HTTP server, on top of the pipeline's (environment variables)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, Optional

from pydantic import Field

from ..settings import Settings


#: where a job's GPU work runs: this process's models, or a RunPod endpoint (hearback.remote)
BACKENDS = ("local", "runpod")


class ServerSettings(Settings):
    hearback_backend: Literal[BACKENDS] = Field(
        "local", description="local: models load here; runpod: jobs go to RUNPOD_ENDPOINT_URL, no model loads")
    hearback_public_url: Optional[str] = Field(
        None, description="This server's address as the internet reaches it (https://…): RunPod's webhook, "
                          "and signed single-job audio URLs for recordings too large to send inline")
    hearback_api_key: Optional[str] = Field(None, description="Bearer token; unset = no auth")
    hearback_host: Optional[str] = Field(
        None, description="Bind address; default 127.0.0.1 without an API key, 0.0.0.0 with one")
    hearback_port: int = 8080
    hearback_allowed_hosts: Optional[str] = Field(
        None, description="host names the server answers to besides localhost, 127.0.0.1 and ::1, "
                          "comma-separated; * = any (api.guard)")
    hearback_workers: int = Field(1, ge=1, description="jobs run at once; the rest queue")
    # Beside the model cache (MODEL_CACHE_DIR) unless set.
    hearback_body_timeout: float = Field(
        30.0, gt=0, description="seconds a request body may stall between chunks (408 request_timeout)")
    hearback_max_uploads: int = Field(
        16, ge=1, description="request bodies read at once; more get 503 server_busy")
    hearback_retention: float = Field(
        7 * 24 * 3600.0, ge=0, description="seconds an ended job (result, error) is kept; 0 = forever")
    hearback_audio_retention: Optional[float] = Field(
        None, ge=0, description="seconds a succeeded job keeps its audio for playback; 0 = none; "
                                "unset = as long as the job (HEARBACK_RETENTION)")
    hearback_db: Path = Field(default_factory=lambda data: data["model_cache_dir"] / "jobs.sqlite3")
    hearback_data_dir: Path = Field(default_factory=lambda data: data["model_cache_dir"] / "job-audio")

    @property
    def audio_retention(self) -> float:
        """Seconds playback audio is kept (``math.inf``: as long as its job)."""
        if self.hearback_audio_retention is not None:
            return self.hearback_audio_retention
        return self.hearback_retention or math.inf

    @property
    def bind_host(self) -> str:
        if self.hearback_host:
            return self.hearback_host
        return "0.0.0.0" if self.hearback_api_key else "127.0.0.1"
