"""Long and crowded recordings built from the shared clips, with every reference shifted to match.

Not one meeting repeated: each round of clips is shuffled again and every pause is drawn
(0.3-3 s by default), so a 30-minute file holds the clips in three different orders with
different gaps. The sets the benchmarks use (``bench/bench_peers.py``, ``bench_diarization``):

* ``en-30min``, ``en-60min``: every English recording (pyannote sample, 13 AMI excerpts,
  falcon, 10 FLEURS-en, 2 misc);
* ``fr+en-30min``: those and the French ones (10 FLEURS-fr, Common Voice), both languages;
* ``crowded-30min``: only the recordings with speaker turns (sample, AMI, falcon): 32
  reference speakers, the same AMI person under one id wherever they speak;
* the crowded files of :data:`CROWDED`, each clip once: people from several AMI meetings
  joined into one "meeting", one set to calibrate the diarizer on and one held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from pyannote.core import Annotation, Timeline

from evaluation.testdata import english_clips, fleurs_clips
from evaluation.variants import shifted_reference, transcode
from hearback.audio.decode import decode
from hearback.types import Audio

#: Pauses between clips (s), drawn uniformly.
PAUSES = (0.3, 3.0)
#: Crowded meetings joined from whole AMI clips of several meetings (ami.rttm ids keep the
#: same person across clips). "calibrate": tuned on; "held-out": reported, never tuned on —
#: 13 people from 4 meetings, each with 3 s of speech or more in the file.
CROWDED = {
    "crowded-calibrate": ("trn01", "trn02", "trn03", "trn05", "trn06", "trn09", "sample", "falcon"),
    "crowded-held-out": ("tst00", "tst01", "trn07", "trn08", "dev00", "dev01", "trn04"),
}


@dataclass(frozen=True)
class Clip:
    """One shared recording and what is known about it."""

    uri: str
    audio: Audio
    language: str
    text: Optional[str] = None          # its transcript, when it has one
    rttm: Optional[Path] = None         # its speaker turns, when it has them
    uem: Optional[Timeline] = None      # where those turns are complete (None: everywhere)


@dataclass(frozen=True)
class Part:
    """Where one clip landed in a built file."""

    start: float
    end: float
    uri: str
    language: str
    text: Optional[str]


@dataclass(frozen=True)
class LongFile:
    name: str
    audio: Audio
    parts: tuple[Part, ...]
    reference: Annotation               # speaker turns (AMI people keep their corpus ids)
    scored: Timeline                    # where the reference is complete

    @property
    def people(self) -> list[str]:
        return sorted(self.reference.labels())


def english(testdata: Path) -> list[Clip]:
    return [Clip(uri, decode(path), "en", text, rttm, uem)
            for uri, path, rttm, text, uem in english_clips(testdata)]


def french(testdata: Path) -> list[Clip]:
    out = [Clip(path.stem, decode(path), "fr", text) for path, text in fleurs_clips(testdata, "fr")]
    misc = testdata / "asr" / "misc" / "commonvoice-fr.wav"
    return out + [Clip(misc.stem, decode(misc), "fr", misc.with_suffix(".txt").read_text(encoding="utf-8").strip())]


def diarized(testdata: Path) -> list[Clip]:
    """The clips with speaker turns: the public set and falcon."""
    return [c for c in english(testdata) if c.rttm is not None]


def build(name: str, clips: Sequence[Clip], seed: int, minutes: float = 0.0,
          pauses: tuple[float, float] = PAUSES) -> LongFile:
    """``clips`` end to end in a shuffled order, a pause drawn from ``pauses`` after each,
    reshuffled each round until the file is at least ``minutes`` long (one round when 0)."""
    rng = np.random.default_rng(seed)
    pieces, parts, turns, scored = [], [], [], []
    offset = 0.0
    while not parts or offset < minutes * 60:
        for i in rng.permutation(len(clips)):
            clip = clips[i]
            if clip.rttm is not None:
                shifted, regions = shifted_reference(clip.uri, clip.rttm, clip.uem, clip.audio.duration, offset)
                turns += shifted
                scored += regions
            parts.append(Part(offset, offset + clip.audio.duration, clip.uri, clip.language, clip.text))
            pause = float(rng.uniform(*pauses))
            pieces += [clip.audio.samples, np.zeros(int(round(pause * 16000)), dtype=np.float32)]
            offset += clip.audio.duration + pause
            if minutes and offset >= minutes * 60:
                break
    reference = Annotation(uri=name)
    for segment, label in turns:
        reference[segment, reference.new_track(segment)] = label
    return LongFile(name, Audio(np.concatenate(pieces)), tuple(parts), reference, Timeline(scored).support())


def crowded(testdata: Path, name: str, seed: int = 7) -> LongFile:
    """One of the :data:`CROWDED` meetings, each of its clips once, shuffled."""
    by_uri = {c.uri: c for c in diarized(testdata)}
    return build(name, [by_uri[uri] for uri in CROWDED[name]], seed)


def peer_files(testdata: Path, scale: float = 1.0) -> list[LongFile]:
    """The long files of the peers benchmark, ``scale`` × their lengths (development runs)."""
    en, fr, turns = english(testdata), french(testdata), diarized(testdata)
    return [
        build("en-30min", en, 21, 30 * scale),
        build("en-60min", en, 22, 60 * scale),
        build("fr+en-30min", en + fr, 23, 30 * scale),
        build("crowded-30min", turns, 24, 30 * scale),
    ]


def as_opus(audio: Audio, folder: Path, name: str, bitrate: str = "32k") -> Path:
    """``audio`` written as Opus (libopus, ``bitrate``), as a user would send a long recording."""
    import soundfile

    wav = folder / f"{name}.wav"
    soundfile.write(wav, audio.samples, audio.sample_rate)
    try:
        return transcode(wav, folder / f"{name}.opus", ["-c:a", "libopus", "-b:a", bitrate])
    finally:
        wav.unlink()


def text_by_part(parts: Sequence[Part], pieces: Sequence[tuple[float, float, str]]) -> list[str]:
    """Hypothesis text per part: each timed piece (a word, or a segment's words spread evenly
    over it, :func:`spread`) goes to the part holding its midpoint; pieces in pauses are lost."""
    starts = np.array([p.start for p in parts])
    out: list[list[str]] = [[] for _ in parts]
    for start, end, text in pieces:
        middle = (start + end) / 2
        i = int(np.searchsorted(starts, middle, side="right")) - 1
        if i >= 0 and middle <= parts[i].end:
            out[i].append(text)
    return [" ".join(t) for t in out]


def spread(segments: Sequence[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Segments without word times → one piece per word, evenly over the segment (so a
    segment that spans two clips gives each its share)."""
    out = []
    for start, end, text in segments:
        words = text.split()
        step = (end - start) / max(len(words), 1)
        out += [(start + i * step, start + (i + 1) * step, w) for i, w in enumerate(words)]
    return out


def wer_by_language(parts: Sequence[Part], hypotheses: Sequence[str]) -> dict[str, tuple[float, int]]:
    """(WER, reference words) per language over the parts with a transcript."""
    from evaluation.wer import normalize, wer

    out = {}
    for language in dict.fromkeys(p.language for p in parts if p.text):
        scored = [(p.text, h) for p, h in zip(parts, hypotheses) if p.text and p.language == language]
        words = sum(len(normalize(r, language).split()) for r, _h in scored)
        out[language] = (wer([r for r, _ in scored], [h for _, h in scored], language), words)
    return out


def found_people(reference: Annotation, hypothesis: Annotation, uem: Timeline) -> tuple[list[str], dict]:
    """Reference people the optimal one-to-one mapping gives a hypothesis speaker (pyannote's
    DER mapping), and that mapping (reference → hypothesis)."""
    from pyannote.metrics.diarization import DiarizationErrorRate

    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    mapping = metric.optimal_mapping(reference.crop(uem), hypothesis.crop(uem))
    inverse = {ref: hyp for hyp, ref in mapping.items()}
    return sorted(inverse), inverse
