"""An S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, …) holding a recording while its remote
job runs: uploaded under an unguessable key, fetched by the worker through a presigned GET URL
(``AUDIO_URL_EXPIRY`` seconds), deleted when the job ends. boto3 (runpod-python's own dependency)
is imported only when a bucket is configured."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from ..errors import ErrorCode, HearbackError

logger = logging.getLogger(__name__)


class Bucket:
    def __init__(self, settings):
        import boto3
        from botocore.config import Config

        secret = settings.s3_secret_access_key
        self.name, self.prefix, self.expiry = settings.s3_bucket, settings.s3_prefix, settings.audio_url_expiry
        self._client = boto3.client(
            "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
            config=Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"}))

    def put(self, path: Path) -> str:
        """Upload ``path`` under a new random key; the key."""
        from botocore.exceptions import BotoCoreError, ClientError

        key = f"{self.prefix}{secrets.token_urlsafe(24)}"
        try:
            self._client.upload_file(str(path), self.name, key)
        except (BotoCoreError, ClientError, OSError) as exc:
            raise HearbackError(ErrorCode.ENDPOINT_UNAVAILABLE,
                                f"could not upload the recording to the bucket ({type(exc).__name__})") from None
        logger.info("recording uploaded to bucket %s (%d bytes)", self.name, path.stat().st_size)
        return key

    def url(self, key: str) -> str:
        """A presigned GET URL of ``key``, valid ``AUDIO_URL_EXPIRY`` seconds."""
        return self._client.generate_presigned_url("get_object", Params={"Bucket": self.name, "Key": key},
                                                   ExpiresIn=int(self.expiry))

    def delete(self, key: str) -> None:
        """Delete ``key``; a failure is logged (the bucket's own lifecycle rule is the backstop)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.delete_object(Bucket=self.name, Key=key)
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not delete %s from bucket %s: %s", key, self.name, type(exc).__name__)
