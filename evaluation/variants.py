"""Harder versions of the test recordings, built on the fly: transcodes, added noise, and
clips concatenated into one long "meeting" with the reference turns shifted to match."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from pyannote.core import Annotation, Segment, Timeline

from evaluation.testdata import english_clips, public_set, read_rttm
from hearback.audio.decode import decode
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


def shifted_reference(uri: str, rttm: Path, uem: Optional[Timeline], duration: float,
                      offset: float) -> tuple[list[tuple[Segment, str]], list[Segment]]:
    """One clip's reference turns (segment, speaker) and scored regions, moved ``offset`` s later.

    AMI speakers keep their corpus names (the same person in two clips is one speaker); the
    pyannote sample's and falcon's, each in an RTTM of its own, are prefixed with the clip's name.
    A clip without a UEM is scored whole.
    """
    own_file = uri in ("sample", "falcon")
    turns = [(Segment(segment.start + offset, segment.end + offset), f"{uri}:{label}" if own_file else label)
             for segment, _track, label in read_rttm(rttm, None if own_file else uri).itertracks(yield_label=True)]
    region = uem if uem is not None else Timeline([Segment(0, duration)])
    return turns, [Segment(s.start + offset, min(s.end, duration) + offset) for s in region]


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
            turns, regions = shifted_reference(uri, rttm, uem, audio.duration, offset)
            for segment, label in turns:
                reference[segment, reference.new_track(segment)] = label
            scored.extend(regions)
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


@dataclass(frozen=True)
class Meeting:
    """A long recording built from the test clips, with every reference shifted to match."""

    audio: Audio
    reference: Annotation      # speaker turns; AMI speakers keep their corpus names across clips
    scored: Timeline           # regions where the reference turns are complete
    transcripts: tuple         # (start, end, text) of each clip that has a transcript


def english_meeting(testdata: Path, minutes: float = 10.0, gap: float = 2.0) -> Meeting:
    """The English clips end to end, ``gap`` s of silence after each, repeated until the
    recording is at least ``minutes`` long. 10 minutes = every clip once."""
    clips = [(uri, decode(path), rttm, text, uem) for uri, path, rttm, text, uem in english_clips(testdata)]
    silence = np.zeros(int(gap * 16000), dtype=np.float32)
    pieces, reference, scored, transcripts = [], Annotation(uri="meeting"), [], []
    offset, rounds = 0.0, 0
    while offset < minutes * 60:
        rounds += 1
        for uri, audio, rttm, text, uem in clips:
            if rttm is not None:
                turns, regions = shifted_reference(uri, rttm, uem, audio.duration, offset)
                for segment, label in turns:
                    reference[segment, reference.new_track(segment)] = label
                scored.extend(regions)
            if text is not None:
                transcripts.append((offset, offset + audio.duration, text))
            pieces += [audio.samples, silence]
            offset += audio.duration + gap
            if rounds > 1 and offset >= minutes * 60:
                break
    return Meeting(Audio(np.concatenate(pieces)), reference, Timeline(scored), tuple(transcripts))


def words_by_clip(meeting: Meeting, timed_texts) -> list[str]:
    """Hypothesis text per transcribed clip: each (start, end, text) piece goes to the clip
    holding its midpoint (pieces in the gaps or in clips without a transcript are not scored)."""
    out = [[] for _ in meeting.transcripts]
    for start, end, text in timed_texts:
        middle = (start + end) / 2
        for i, (lo, hi, _ref) in enumerate(meeting.transcripts):
            if lo <= middle <= hi:
                out[i].append(text)
                break
    return [" ".join(parts) for parts in out]
