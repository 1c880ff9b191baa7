"""Signed, expiring, single-job URLs of ``hearback serve``: the one recording of one job for the
worker to fetch (``GET /v1/remote/audio/{id}``), and RunPod's webhook for that job (``POST
/v1/remote/webhook/{id}``). Neither needs the API key (RunPod sends none): each carries
``expires`` (Unix seconds) and ``sig``, an HMAC-SHA256 of the purpose, the job id and the expiry
under a secret that never leaves the server (``signing.key`` in ``HEARBACK_DATA_DIR``, made once,
mode 0600), so a URL opens only its job's audio (or wakes only its job) until it expires,
restarts included."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

logger = logging.getLogger(__name__)

#: the secret's file in the data directory
KEY_FILE = "signing.key"
#: what a signature may open (each its own route)
AUDIO, WEBHOOK = "audio", "webhook"


class Signer:
    def __init__(self, secret: bytes):
        self._secret = secret

    @classmethod
    def in_folder(cls, folder: Path) -> "Signer":
        """The signer of ``folder``'s ``signing.key``, made (32 random bytes) when absent."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / KEY_FILE
        if not path.is_file():
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(secrets.token_bytes(32))
        return cls(path.read_bytes())

    def _mac(self, purpose: str, job_id: str, expires: int) -> str:
        message = f"{purpose}\n{job_id}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def query(self, purpose: str, job_id: str, ttl: float) -> str:
        """``expires=…&sig=…`` for ``job_id``, valid ``ttl`` seconds."""
        expires = int(time.time() + ttl)
        return urlencode({"expires": expires, "sig": self._mac(purpose, job_id, expires)})

    def url(self, base: str, path: str, purpose: str, job_id: str, ttl: float) -> str:
        return f"{base.rstrip('/')}{path}?{self.query(purpose, job_id, ttl)}"

    def check(self, purpose: str, job_id: str, expires: str, sig: str) -> bool:
        """Whether ``sig`` is this server's for ``job_id`` and ``expires`` has not passed."""
        try:
            when = int(expires)
        except (TypeError, ValueError):
            return False
        return when >= time.time() and hmac.compare_digest(self._mac(purpose, job_id, when), str(sig))
