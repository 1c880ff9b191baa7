"""Mending repetition loops in what the batched pipeline decoded.

The batched pipeline decodes each chunk once, at temperature 0, with no compression-ratio or
log-probability fallback; on short or unclear speech Whisper then loops ("yeah, yeah, yeah,
…"). A chunk whose output loops (``loops.is_loop``) is decoded again the way faster-whisper's
sequential path does: VAD inside the chunk, timestamps, temperature fallback 0.0 → 1.0 on the
compression-ratio (2.4) and log-probability (-1.0) checks, no conditioning on previous text,
pieces Whisper finds to be no speech (no_speech_prob > 0.6 with a low log-probability)
skipped; to bound the cost, BEST_OF samples per temperature and MAX_NEW_TOKENS per window. What still loops keeps one occurrence of the phrase and is flagged
(``Segment.loop_collapsed``); if the second decoding heard nothing, the first one's words are
kept that way: speech is never dropped silently.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Optional

import numpy as np
from faster_whisper import WhisperModel

from ..types import Notice, Segment, Word
from . import loops
from .batched import Chunk

logger = logging.getLogger(__name__)

#: The temperatures faster-whisper's sequential path falls back through.
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: faster-whisper's defaults for the fallback and the no-speech skip.
LOG_PROB_THRESHOLD = -1.0
NO_SPEECH_THRESHOLD = 0.6
#: Samples drawn per fallback temperature (faster-whisper's default is 5): a looping attempt
#: costs a full-length decoding each, and the first attempt (beam search) is the usual cure.
BEST_OF = 2
#: Tokens one 30 s window may produce (Whisper's limit is 448): fast speech gives ~150, a loop
#: runs to the limit, on every attempt.
MAX_NEW_TOKENS = 200


def loops_in(segments: list[Segment]) -> bool:
    return any(_loops(seg) for seg in segments)


def _loops(seg: Segment) -> bool:
    return loops.is_loop(seg.text, [w.word for w in seg.words] if seg.words else None)


def mend(model: WhisperModel, samples: np.ndarray, sample_rate: int, pieces: list[tuple[Segment, int]],
         chunks: dict[int, Chunk], decode_options: dict) -> list[Segment]:
    """Segments of one decoding call (each with its chunk's seek) with looping chunks decoded
    again; ``decode_options`` are passed to ``WhisperModel.transcribe`` (language, beam size,
    word timestamps, initial prompt)."""
    by_chunk: dict[int, list[Segment]] = {}
    for seg, seek in pieces:
        by_chunk.setdefault(seek, []).append(seg)
    out: list[Segment] = []
    for seek, segments in by_chunk.items():
        chunk = chunks.get(seek)
        if chunk is None or not loops_in(segments):
            out += segments
            continue
        logger.info("Whisper looped at %.1f-%.1f s: decoding that piece again", chunk.start, chunk.end)
        again = _decode_again(model, samples, sample_rate, chunk, segments[0].language, decode_options)
        out += [collapse(seg) for seg in (again or segments)]
    return out


def _decode_again(model: WhisperModel, samples: np.ndarray, sample_rate: int, chunk: Chunk,
                  language: Optional[str], decode_options: dict) -> list[Segment]:
    piece = samples[int(chunk.start * sample_rate):int(chunk.end * sample_rate)]
    segments, _info = model.transcribe(
        piece, **{**decode_options, "language": language},
        temperature=TEMPERATURES, compression_ratio_threshold=loops.COMPRESSION_RATIO_LIMIT,
        log_prob_threshold=LOG_PROB_THRESHOLD, no_speech_threshold=NO_SPEECH_THRESHOLD,
        condition_on_previous_text=False, vad_filter=True, best_of=BEST_OF, max_new_tokens=MAX_NEW_TOKENS,
    )
    return [own(seg, language, chunk.start) for seg in segments if seg.text.strip()]


def own(seg, language: Optional[str], shift: float = 0.0) -> Segment:
    """A faster-whisper segment as a Hearback one, ``shift`` s later (times not rounded, words'
    leading spaces kept: the final tidy-up in ``asr.py`` does that)."""
    words = tuple(Word(word=w.word, start=w.start + shift, end=w.end + shift, probability=w.probability)
                  for w in (seg.words or ()))
    return Segment(start=seg.start + shift, end=seg.end + shift, text=seg.text, words=words,
                   language=language)


def collapse(seg: Segment) -> Segment:
    """``seg`` with each looping phrase cut to one occurrence and flagged; unchanged if it does
    not loop."""
    if not _loops(seg):
        return seg
    if seg.words:
        words = tuple(loops.collapse(seg.words))
        text = "".join(w.word for w in words)
    else:
        words, text = (), " ".join(loops.collapse(seg.text.split()))
    logger.warning("a repetition loop survived decoding again at %.1f-%.1f s: kept one occurrence",
                   seg.start, seg.end)
    return replace(seg, text=text, words=words, loop_collapsed=True)


def loop_notices(segments) -> list[Notice]:
    """One ``repetition_loop`` warning per flagged segment."""
    return [Notice("repetition_loop", "Whisper repeated a phrase over and over here, also when "
                   "decoding again; the repeats were cut to one occurrence", seg.start, seg.end)
            for seg in segments if seg.loop_collapsed]
