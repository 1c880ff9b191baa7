"""The real servers the runpod backend's tests run against, each a process of its own on
loopback: this project's worker under runpod-python's local API server (``python src/handler.py
--rp_serve_api``, real models), and moto's S3-compatible server (``python -m moto.server``, from
PyPI's moto[server]) for the bucket path. Shared by the tests and bench/bench_remote.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

from tests.httpserver import free_port

REPO = Path(__file__).resolve().parents[1]


def _wait(url: str, proc: subprocess.Popen, log: Path, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.5)


@contextmanager
def runpod_local_server(log: Path, **env: str) -> Iterator[str]:
    """The worker (Whisper tiny.en unless ``env`` says otherwise) under runpod's local API
    server; yields its base URL. Loopback downloads are allowed (the bucket and this server's
    signed URLs live on 127.0.0.1 in the tests)."""
    port = free_port()
    environment = {**os.environ, "WHISPER_MODEL": "tiny.en", "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0",
                   "RUNPOD_ALLOW_PRIVATE_DOWNLOAD_URLS": "1", "UVICORN_LOG_LEVEL": "warning", **env}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "src/handler.py", "--rp_serve_api", "--rp_api_port", str(port)],
                                cwd=REPO, env=environment, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{url}/docs", proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def moto_s3(log: Path, bucket: str = "hearback-audio") -> Iterator[dict[str, str]]:
    """moto's S3 server with one empty bucket; yields the settings (as environment variables)
    that point Hearback at it."""
    import boto3

    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    settings = {"S3_BUCKET": bucket, "S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "S3_REGION": "us-east-1",
                "S3_ACCESS_KEY_ID": "moto-access", "S3_SECRET_ACCESS_KEY": "moto-secret"}
    try:
        _wait(settings["S3_ENDPOINT_URL"], proc, log, 60)
        bucket_objects(settings)  # the client works
        boto3.client("s3", endpoint_url=settings["S3_ENDPOINT_URL"], region_name="us-east-1",
                     aws_access_key_id="moto-access", aws_secret_access_key="moto-secret").create_bucket(Bucket=bucket)
        yield settings
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def bucket_objects(settings: dict[str, str]) -> list[str]:
    """The keys in the bucket now (none when it does not exist yet)."""
    import boto3

    client = boto3.client("s3", endpoint_url=settings["S3_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="moto-access", aws_secret_access_key="moto-secret")
    try:
        return [o["Key"] for o in client.list_objects_v2(Bucket=settings["S3_BUCKET"]).get("Contents", [])]
    except client.exceptions.NoSuchBucket:
        return []
