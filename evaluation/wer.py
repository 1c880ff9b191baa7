"""Word error rate with Whisper's text normalisers, the same on both sides.

English uses Whisper's EnglishTextNormalizer, other languages its BasicTextNormalizer
(both as shipped in transformers, which WhisperX already depends on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import jiwer
from transformers.models.whisper.english_normalizer import BasicTextNormalizer, EnglishTextNormalizer

from evaluation.testdata import read_stm

_english = EnglishTextNormalizer({})
_basic = BasicTextNormalizer()


def normalize(text: str, language: str) -> str:
    normalizer = _english if language == "en" else _basic
    return " ".join(normalizer(text).split())


def wer(references: Iterable[str], hypotheses: Iterable[str], language: str) -> float:
    """Corpus WER: errors over all files divided by reference words over all files."""
    refs = [normalize(r, language) for r in references]
    hyps = [normalize(h, language) for h in hypotheses]
    return jiwer.wer(refs, hyps)


def cpwer(reference: dict[str, list[str]], hypothesis: dict[str, list[str]], language: str):
    """Concatenated minimum-permutation WER (meeteval): each speaker's words joined, speakers
    matched to minimise errors. A word under the wrong speaker counts as an error."""
    from meeteval.wer import cp_word_error_rate

    def join(by_speaker):
        return {s: normalize(" ".join(texts), language) for s, texts in by_speaker.items()}

    return cp_word_error_rate(reference=join(reference), hypothesis=join(hypothesis))



def cpwer_against_stm(segments, stm: Path, language: str):
    """cpWER of ``segments`` (anything with ``speaker`` and ``text``, e.g. a Result's segments)
    against the speaker turns of an STM file."""
    reference: dict[str, list[str]] = {}
    for speaker, _start, _end, text in read_stm(stm):
        reference.setdefault(speaker, []).append(text)
    hypothesis: dict[str, list[str]] = {}
    for segment in segments:
        hypothesis.setdefault(segment.speaker, []).append(segment.text)
    return cpwer(reference, hypothesis, language)
