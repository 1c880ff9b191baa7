"""Plain dataclasses passed between the pipeline stages.

Every stage takes these and returns new ones; no stage mutates its input.
Times are seconds from the start of the recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable, Optional

import numpy as np

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Notice:
    """Something a caller should know about a result that is still usable (a warning).

    ``code`` is stable and listed in SPECS.md ("Warnings"); ``start``/``end`` (seconds) say
    which part of the recording it concerns, when it concerns one.
    """

    code: str
    message: str
    start: Optional[float] = None
    end: Optional[float] = None


@dataclass(frozen=True)
class Audio:
    """Decoded audio: 16 kHz mono float32 in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int = SAMPLE_RATE
    #: what decoding had to work around (e.g. damaged stretches skipped)
    notices: tuple[Notice, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: Optional[float] = None
    speaker: Optional[str] = None
    # True when the word was given to the nearest speaker turn because
    # diarization found no speech under it.
    speaker_inferred: bool = False
    # True when the word lies (mostly) in a region where two or more speakers overlap.
    overlap: bool = False


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: Optional[str] = None
    #: the language Whisper transcribed this segment in (None: the transcript's language)
    language: Optional[str] = None
    #: True when Whisper looped on a phrase here, decoding again did not cure it, and the
    #: repeats were cut to one occurrence (a ``repetition_loop`` warning says where)
    loop_collapsed: bool = False


@dataclass(frozen=True)
class Transcript:
    """Output of ASR (+ alignment): segments with words, no speakers yet."""

    segments: tuple[Segment, ...]
    language: str
    language_probability: Optional[float] = None
    #: what recognition or alignment had to work around
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Diarization:
    """Speaker turns.

    ``turns`` may overlap (two people talking at once); ``exclusive`` holds at
    most one speaker at any time and is what words are assigned from.
    Speaker labels are ``SPEAKER_00``, ``SPEAKER_01``, … in order of first speech.
    """

    turns: tuple[Turn, ...]
    exclusive: tuple[Turn, ...]
    #: each speaker's centroid (mean of its chunk embeddings), by label; empty if not known
    centroids: dict[str, tuple[float, ...]] = field(default_factory=dict, compare=False)
    #: the embedding model that made ``centroids`` (only compared with voices of that model)
    embedding_model: Optional[str] = None
    #: what clustering started from (hearback.diarize.inputs.ClusteringInputs), so that a
    #: stored job can be diarized again without its audio; None when not kept
    inputs: Optional[object] = field(default=None, compare=False, repr=False)

    @property
    def speakers(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in sorted(self.turns, key=lambda t: t.start):
            seen.setdefault(t.speaker, None)
        return list(seen)


@dataclass(frozen=True)
class SpeakerIdentity:
    """A speaker diarization found, and the known voice it was matched to (hearback.speakers)."""

    #: the label diarization gave, SPEAKER_00, SPEAKER_01, …
    label: str
    #: the known person's name, or None when no known voice was close enough
    name: Optional[str] = None
    #: cosine similarity with the known voice it was best matched to (None: nothing compared)
    score: Optional[float] = None

    @property
    def speaker(self) -> str:
        """What segments and words carry as ``speaker``: the name, else the label."""
        return self.name or self.label


@dataclass(frozen=True)
class Result:
    """The finished job: what the writers turn into JSON, SRT, VTT or text."""

    segments: tuple[Segment, ...]
    language: str
    duration: float
    speakers: tuple[str, ...] = ()
    language_probability: Optional[float] = None
    diarization: Optional[Diarization] = None
    timings: dict[str, float] = field(default_factory=dict)
    #: every stage's notices, in stage order
    warnings: tuple[Notice, ...] = ()
    #: per speaker found, the name given (or none) and the score; empty without known voices
    identities: tuple[SpeakerIdentity, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(frozen=True)
class Options:
    """What one job asks for. Validated by ``hearback.schema``."""

    language: Optional[str] = None  # None = detect
    diarize: bool = True
    word_timestamps: bool = True
    initial_prompt: Optional[str] = None
    num_speakers: Optional[int] = None
    min_speakers: Optional[int] = None
    max_speakers: Optional[int] = None


class Stage(StrEnum):
    """The pipeline's stages, in the order they run (progress is reported per stage)."""

    DOWNLOAD = "download"  # fetching audio_url (jobs given a URL only)
    DECODE = "decode"
    TRANSCRIBE = "transcribe"
    ALIGN = "align"
    DIARIZE = "diarize"
    ASSIGN = "assign"


#: the stage a job shows once it succeeded (after :class:`Stage`'s last)
DONE = "done"


#: One progress-hook signature for every stage: ``hook(stage, fraction)`` where ``stage`` is a
#: :class:`Stage` and ``fraction`` goes from 0.0 to 1.0 within that stage.
ProgressHook = Callable[[Stage, float], None]


def no_progress(stage: Stage, fraction: float) -> None:
    """The default progress hook: does nothing."""
