"""Builders for hostile inputs (made here with ffmpeg, never stored) and hostile peers: a
server that trickles bytes, a client that stalls mid-body. Shared by the hostile test files."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"  # a README prerequisite; .ci/run installs it

#: container → (extension, ffmpeg audio codec)
CODECS = {"mp3": ("mp3", "libmp3lame"), "m4a": ("m4a", "aac"), "opus": ("ogg", "libopus"),
          "flac": ("flac", "flac"), "wav": ("wav", "pcm_s16le")}


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)


def speech(testdata: Path, folder: Path, clips: int = 2) -> Path:
    """``clips`` AMI meeting excerpts of 30 s each, one after another, as 16 kHz mono WAV."""
    names = ["dev00", "dev01", "trn01", "trn02", "trn03", "trn04"][:clips]
    inputs = [arg for n in names for arg in ("-i", str(testdata / "diarization" / "ami" / f"{n}.flac"))]
    out = folder / f"speech-{clips}.wav"
    ffmpeg(*inputs, "-filter_complex", f"concat=n={clips}:v=0:a=1", "-ac", "1", "-ar", "16000", str(out))
    return out


def encode(source: Path, container: str, folder: Path) -> Path:
    ext, codec = CODECS[container]
    out = folder / f"{source.stem}-{container}.{ext}"
    ffmpeg("-i", str(source), "-c:a", codec, str(out))
    return out


def damaged(source: Path, at: float, size: int, folder: Path, seed: int = 7) -> Path:
    """A copy of ``source`` with ``size`` random bytes written at ``at`` (a fraction) of the file."""
    data = bytearray(source.read_bytes())
    start = int(len(data) * at)
    end = min(start + size, len(data))
    data[start:end] = random.Random(seed).randbytes(end - start)
    out = folder / f"{source.stem}-bad{size}@{at}{source.suffix}"
    out.write_bytes(bytes(data))
    return out


def silence(folder: Path, seconds: float, container: str) -> Path:
    """``seconds`` of silence, compressed: a decode bomb when long."""
    ext, codec = CODECS[container]
    out = folder / f"silence-{seconds:.0f}s.{ext}"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", str(seconds), "-c:a", codec, str(out))
    return out


def lying_flac(folder: Path, seconds: float, claims: float) -> Path:
    """A FLAC of ``seconds`` of silence whose STREAMINFO says it holds ``claims`` seconds."""
    data = bytearray(silence(folder, seconds, "flac").read_bytes())
    assert data[:4] == b"fLaC"
    total = int(claims * 16000)
    info = 8  # "fLaC", then a 4-byte block header; total samples: 36 bits from bit 108
    data[info + 13] = (data[info + 13] & 0xF0) | ((total >> 32) & 0x0F)
    data[info + 14:info + 18] = (total & 0xFFFFFFFF).to_bytes(4, "big")
    out = folder / f"lying-{seconds:.0f}s-claims-{claims:.0f}s.flac"
    out.write_bytes(bytes(data))
    return out


@contextmanager
def trickling_server(*, headers_too: bool = False, every: float = 1.0) -> Iterator[str]:
    """An HTTP server on loopback that sends one byte per ``every`` seconds: the body only
    (after prompt headers claiming 1 MB), or the headers too. Yields a URL on it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: 1000000\r\n\r\n"
                if not headers_too:
                    conn.sendall(head)
                for byte in (head if headers_too else b"\0" * 1000000):
                    if stop.wait(every):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/slow.mp3"
    finally:
        stop.set()
        listener.close()


def stalled_upload(url: str, path: str, sent: bytes, *, content_length: int,
                   boundary: str = "hb") -> socket.socket:
    """Open a connection, send a multipart request's headers and ``sent`` bytes of its body,
    then stall. Returns the socket (the caller reads the answer and closes it)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {content_length}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n").encode()
    sock.sendall(head + sent)
    return sock


def multipart_head(boundary: str = "hb", name: str = "file") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"a.mp3\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()


def read_answer(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes the connection or ``timeout`` passes."""
    sock.settimeout(0.2)
    data, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            if b"\r\n\r\n" in data and _complete(data):
                return data
            continue
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk
    return data


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False
