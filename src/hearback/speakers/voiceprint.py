"""A voiceprint: one speaker embedding made from one or more recordings of a person alone.

Each reference recording keeps only the speech Silero VAD finds in it (faster-whisper's
bundled copy, no download); that speech is cut into windows of :data:`WINDOW` seconds, as
long as the diarizer's chunks, each window is embedded with the diarizer's own embedding
model, and the voiceprint is the mean of the windows' embeddings, weighted by their length:
the same kind of vector as a diarized speaker's centroid (the mean of its chunk embeddings).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..diarize import Diarizer
from ..errors import ErrorCode, HearbackError
from ..types import Audio

logger = logging.getLogger(__name__)

#: Least speech (seconds, as VAD counts it: it trims the edges of every stretch) a reference
#: must hold. Ask for 2–30 s of speech per reference; 2 s of speech cut from a conversation
#: often measure 1.5–2 s once VAD has trimmed them.
MIN_SPEECH = 1.5
#: Seconds per embedded window: the diarizer's segmentation chunk.
WINDOW = 10.0
#: A last window shorter than this joins the one before it.
MIN_WINDOW = 2.0
#: Longest name a voice may have.
MAX_NAME = 100
#: Names diarization gives itself, and the library's ids; a known voice may not take one.
_RESERVED = re.compile(r"^(SPEAKER_\d+|voice_[0-9a-f]{16})$")
#: What no name or word may hold: control characters, lone surrogates, line and paragraph
#: separators (they break SRT/VTT cues, TXT lines, RTTM fields and DOCX).
_NOT_TEXT = ("Cc", "Cs", "Zl", "Zp")
#: A name must show something: a letter, a digit, a mark of punctuation or a symbol.
_VISIBLE = ("L", "N", "P", "S")


@dataclass(frozen=True)
class Voiceprint:
    """A known person's voice."""

    #: the person's name, as segments and words will carry it
    name: str
    #: the id of the embedding model that made ``vector`` (compared only with that model's)
    model: str
    #: the embedding: mean of the reference speech's window embeddings
    vector: tuple[float, ...]
    #: seconds of speech it was made from
    seconds: float


def check_name(name: str) -> str:
    """The name as kept: NFC, its runs of spaces made one, stripped; or
    :attr:`ErrorCode.INVALID_SPEAKER_NAME` for one that is empty, too long, reserved
    (``SPEAKER_nn``, a voice id), holds a character that is no text (:func:`not_text`) or
    nothing visible."""
    if not_text(name or ""):
        raise HearbackError(ErrorCode.INVALID_SPEAKER_NAME,
                            f"speaker name {name!r} holds a control, line-break or separator character")
    cleaned = " ".join(unicodedata.normalize("NFC", name or "").split())
    if not cleaned or len(cleaned) > MAX_NAME or _RESERVED.match(cleaned) or \
            not any(unicodedata.category(c)[0] in _VISIBLE for c in cleaned):
        raise HearbackError(ErrorCode.INVALID_SPEAKER_NAME,
                            f"speaker name {name!r} must be 1-{MAX_NAME} characters, show something, "
                            "and be neither SPEAKER_nn nor a voice id")
    return cleaned


def not_text(text: str) -> list[str]:
    """The characters of ``text`` that no name or word may hold (controls, lone surrogates,
    line and paragraph separators), each once, as ``U+XXXX``."""
    return sorted({f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in _NOT_TEXT})


def speech_only(audio: Audio) -> np.ndarray:
    """The samples Silero VAD calls speech, joined end to end."""
    from ..asr.batched import vad_stamps  # faster-whisper's Silero VAD, imported only here

    stamps = vad_stamps(audio.samples, audio.sample_rate)
    if not stamps:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([audio.samples[s["start"]:s["end"]] for s in stamps]).astype(np.float32)


def windows(samples: np.ndarray, sample_rate: int) -> list[np.ndarray]:
    """``samples`` cut into :data:`WINDOW`-second pieces; a short last piece joins the one before."""
    size = int(WINDOW * sample_rate)
    pieces = [samples[i:i + size] for i in range(0, len(samples), size)]
    if len(pieces) > 1 and len(pieces[-1]) < MIN_WINDOW * sample_rate:
        pieces = pieces[:-2] + [np.concatenate(pieces[-2:])]
    return pieces


def enrol(name: str, references: Sequence[Audio], diarizer: Diarizer) -> Voiceprint:
    """``name``'s voiceprint from recordings of them alone (each with at least
    :data:`MIN_SPEECH` seconds of speech)."""
    name = check_name(name)
    elsewhere = getattr(diarizer, "enrol", None)
    if elsewhere is not None:  # a diarizer whose model runs elsewhere (the runpod backend's) enrols there
        return elsewhere(name, references)
    import torch

    vectors, weights = [], []
    for index, audio in enumerate(references):
        speech = _checked_speech(name, index, audio)
        for piece in windows(speech, audio.sample_rate):
            embedding = diarizer.embed(torch.from_numpy(piece).reshape(1, 1, -1))[0]
            if np.all(np.isfinite(embedding)):
                vectors.append(embedding)
                weights.append(len(piece))
    if not vectors:
        raise HearbackError(ErrorCode.REFERENCE_NO_SPEECH, f"no usable speech in {name!r}'s references")
    vector = np.average(np.vstack(vectors), axis=0, weights=weights)
    seconds = sum(weights) / references[0].sample_rate
    logger.info("voiceprint of %r from %.1f s of speech", name, seconds)
    return Voiceprint(name, diarizer.embedding_model, tuple(float(x) for x in vector), round(seconds, 2))


def _checked_speech(name: str, index: int, audio: Audio) -> np.ndarray:
    speech = speech_only(audio)
    seconds = len(speech) / audio.sample_rate
    if seconds == 0:
        raise HearbackError(ErrorCode.REFERENCE_NO_SPEECH,
                            f"reference {index + 1} of {name!r} holds no speech")
    if seconds < MIN_SPEECH:
        raise HearbackError(ErrorCode.REFERENCE_TOO_SHORT,
                            f"reference {index + 1} of {name!r} holds {seconds:.1f} s of speech; "
                            f"at least {MIN_SPEECH} s are needed")
    return speech
