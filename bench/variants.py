"""Harder versions of the shared recordings, built on the fly: transcodes, added noise, and
clips concatenated into one long "meeting" with the reference turns shifted to match."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Optional

import numpy as np
from pyannote.core import Annotation, Segment, Timeline

from bench.der import public_set, read_rttm
from hearback.decode import decode
from hearback.types import Audio


def transcode(source: Path, target: Path, codec_args: list[str]) -> Path:
    """ffmpeg ``source`` → ``target`` with the given codec arguments."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is needed to build the variants")
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(source), *codec_args, str(target)], check=True)
    return target


def as_mp3(source: Path, folder: Path) -> Path:
    return transcode(source, folder / f"{source.stem}.mp3", ["-c:a", "libmp3lame", "-b:a", "64k"])


def as_opus(source: Path, folder: Path) -> Path:
    return transcode(source, folder / f"{source.stem}.opus", ["-c:a", "libopus", "-b:a", "24k"])


def with_noise(audio: Audio, snr_db: float = 20.0, seed: int = 0) -> Audio:
    """White noise added at ``snr_db`` relative to the signal's power."""
    signal = audio.samples.astype(np.float64)
    power = np.mean(signal**2) or 1e-12
    noise = np.random.default_rng(seed).standard_normal(len(signal)) * np.sqrt(power / 10 ** (snr_db / 10))
    return Audio(np.clip(signal + noise, -1, 1).astype(np.float32))


def concatenated_meeting(testdata: Path, repeat: int = 1,
                         gap: float = 0.5) -> tuple[Audio, Annotation, Timeline]:
    """The public set's clips end to end (``repeat`` times), ``gap`` s of silence between them.

    Returns the audio, the reference with each clip's turns shifted by its offset (speakers keep
    their corpus names, so the same AMI speaker in two clips is one speaker), and the scored
    regions (each clip's UEM, shifted).
    """
    pieces, reference, scored = [], Annotation(uri="meeting"), []
    offset = 0.0
    silence = np.zeros(int(gap * 16000), dtype=np.float32)
    for _ in range(repeat):
        for uri, path, rttm, uem in public_set(testdata):
            audio = decode(path)
            for segment, _track, label in read_rttm(rttm, None if uri == "sample" else uri).itertracks(yield_label=True):
                shifted = Segment(segment.start + offset, segment.end + offset)
                reference[shifted, reference.new_track(shifted)] = f"{uri}:{label}" if uri == "sample" else label
            region = uem if uem is not None else Timeline([Segment(0, audio.duration)])
            scored.extend(Segment(s.start + offset, min(s.end, audio.duration) + offset) for s in region)
            pieces += [audio.samples, silence]
            offset += audio.duration + gap
    return Audio(np.concatenate(pieces)), reference, Timeline(scored)


def clip_audio(path: Path, variant: Optional[str], folder: Path) -> Audio:
    """One clip as the variant asks: None (as is), "mp3", "opus" or "noise20"."""
    if variant == "mp3":
        return decode(as_mp3(path, folder))
    if variant == "opus":
        return decode(as_opus(path, folder))
    if variant == "noise20":
        return with_noise(decode(path), 20.0)
    return decode(path)
