"""A corpus of awkward and hostile files, built here with ffmpeg, through the RunPod handler.

Each gets a transcript or a clear error with a stable code; the worker survives every one
and no temporary file remains. Real models (tiny.en + embedded diarization).
"""

from __future__ import annotations

import base64
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from hearback import worker
from hearback.errors import ErrorCode
from hearback.invariants import check

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"  # a README prerequisite; .ci/run installs it


pytestmark = pytest.mark.usefixtures("tiny_worker", "no_temp_left")


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, testdata) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpus")
    speech = testdata / "asr" / "misc" / "jfk-en.flac"
    files = {}
    files["empty"] = d / "empty.mp3"
    files["empty"].write_bytes(b"")
    files["text_as_mp3"] = d / "notes.mp3"
    files["text_as_mp3"].write_text("Minutes of the meeting\n" * 50)
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", "-c:a", "pcm_s16le", str(d / "zero.wav"))
    files["zero_length"] = d / "zero.wav"
    ffmpeg("-i", str(speech), "-c:a", "libmp3lame", "-b:a", "64k", str(d / "full.mp3"))
    data = (d / "full.mp3").read_bytes()
    files["truncated_mp3"] = d / "truncated.mp3"
    files["truncated_mp3"].write_bytes(data[: len(data) // 2])
    # A WAV whose header claims ~3 hours but holds 2 seconds.
    ffmpeg("-i", str(speech), "-t", "2", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(d / "short.wav"))
    raw = bytearray((d / "short.wav").read_bytes())
    data_at = raw.index(b"data")
    claimed = 16000 * 2 * 3 * 3600
    raw[data_at + 4: data_at + 8] = struct.pack("<I", claimed)
    raw[4:8] = struct.pack("<I", claimed + data_at)
    files["lying_header"] = d / "lying.wav"
    files["lying_header"].write_bytes(bytes(raw))
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "10", str(d / "silence.wav"))
    files["silence"] = d / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=r=16000:a=0.05:c=white", "-t", "8", str(d / "noise.wav"))
    files["noise"] = d / "noise.wav"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "3", "-c:v", "mpeg4", str(d / "video.mp4"))
    files["video_no_audio"] = d / "video.mp4"
    ffmpeg("-i", str(speech), "-ac", "6", "-c:a", "pcm_s16le", str(d / "six.wav"))
    files["six_channels"] = d / "six.wav"
    ffmpeg("-i", str(speech), "-ar", "8000", str(d / "8k.wav"))
    files["8khz"] = d / "8k.wav"
    ffmpeg("-i", str(speech), "-ar", "48000", "-c:a", "libopus", str(d / "48k.webm"))
    files["48khz_webm"] = d / "48k.webm"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-i", str(speech), "-t", "11",
           "-c:v", "mpeg4", "-c:a", "aac", "-shortest", str(d / "talk.mp4"))
    files["video_with_speech"] = d / "talk.mp4"
    return files


def run(path: Path, **extra) -> dict:
    data = base64.b64encode(path.read_bytes()).decode()
    return worker.handler({"id": "hostile", "input": {"audio_base64": data, **extra}})


@pytest.mark.parametrize("name", ["empty", "text_as_mp3", "zero_length", "video_no_audio"])
def test_unusable_files_give_invalid_audio(corpus, name):
    out = run(corpus[name])
    assert out.get("error_code") == ErrorCode.INVALID_AUDIO, out


@pytest.mark.parametrize("name", ["six_channels", "8khz", "48khz_webm", "video_with_speech", "truncated_mp3"])
def test_odd_but_valid_files_are_transcribed(corpus, name):
    out = run(corpus[name])
    assert "error" not in out, out
    assert check(out) == []
    text = out["transcription"]["text"].lower()
    assert "country" in text or "ask not" in text or "fellow" in text, text


def test_lying_header_is_measured_by_what_decodes(corpus):
    out = run(corpus["lying_header"], diarize=False)
    assert "error" not in out, out
    assert out["duration"] == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("name", ["silence", "noise"])
def test_silence_and_noise_give_an_empty_or_tiny_transcript_not_an_error(corpus, name):
    out = run(corpus[name])
    assert "error" not in out, out
    assert len(out["transcription"]["text"].split()) <= 3
    assert check(out) == []
    for seg in out["transcription"]["segments"]:  # anything heard still has a speaker
        assert seg["speaker"] in out["speakers"]


def test_duration_over_the_maximum(corpus, pipeline_tiny, monkeypatch):
    monkeypatch.setattr(pipeline_tiny.settings, "max_duration", 5.0)
    out = run(corpus["six_channels"])
    assert out.get("error_code") == ErrorCode.AUDIO_TOO_LONG, out


def test_base64_over_the_byte_cap(corpus, pipeline_tiny, monkeypatch):
    monkeypatch.setattr(pipeline_tiny.settings, "max_download_bytes", 1000)
    out = run(corpus["six_channels"])
    assert out.get("error_code") == ErrorCode.AUDIO_TOO_LARGE, out


@pytest.fixture(scope="module")
def api(pipeline_tiny, tmp_path_factory):
    """The HTTP API on loopback, sharing the tiny.en pipeline."""
    from tests.httpserver import hearback_server

    with hearback_server(pipeline_tiny, tmp_path_factory.mktemp("hostile")) as url:
        yield url


@pytest.mark.parametrize("name, status, code", [
    ("empty", 400, ErrorCode.INVALID_AUDIO),
    ("text_as_mp3", 400, ErrorCode.INVALID_AUDIO),
    ("zero_length", 400, ErrorCode.INVALID_AUDIO),
    ("video_no_audio", 400, ErrorCode.INVALID_AUDIO),
    ("truncated_mp3", 200, None),
    ("six_channels", 200, None),
    ("8khz", 200, None),
    ("48khz_webm", 200, None),
    ("silence", 200, None),
])
def test_corpus_through_the_http_api(api, corpus, name, status, code):
    import httpx

    with corpus[name].open("rb") as fh:
        answer = httpx.post(f"{api}/v1/audio/transcriptions", files={"file": (corpus[name].name, fh)},
                            data={"response_format": "diarized_json"}, timeout=120)
    assert answer.status_code == status, answer.text
    if code:
        assert answer.json()["error"]["code"] == code
    else:
        assert set(answer.json()) >= {"text", "segments", "duration"}
