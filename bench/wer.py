"""Word error rate with Whisper's text normalisers, the same on both sides.

English uses Whisper's EnglishTextNormalizer, other languages its BasicTextNormalizer
(both as shipped in transformers, which WhisperX already depends on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import jiwer
from transformers.models.whisper.english_normalizer import BasicTextNormalizer, EnglishTextNormalizer

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


def fleurs_clips(testdata: Path, language: str) -> list[tuple[Path, str]]:
    """(audio, reference text) for the FLEURS clips of one language."""
    folder = testdata / "asr" / "fleurs"
    return [(p, p.with_suffix(".txt").read_text(encoding="utf-8").strip())
            for p in sorted(folder.glob(f"{language}-*.ogg"))]


def cpwer(reference: dict[str, list[str]], hypothesis: dict[str, list[str]], language: str):
    """Concatenated minimum-permutation WER (meeteval): each speaker's words joined, speakers
    matched to minimise errors. A word under the wrong speaker counts as an error."""
    from meeteval.wer import cp_word_error_rate

    def join(by_speaker):
        return {s: normalize(" ".join(texts), language) for s, texts in by_speaker.items()}

    return cp_word_error_rate(reference=join(reference), hypothesis=join(hypothesis))


def read_stm(path: Path) -> list[tuple[str, float, float, str]]:
    """(speaker, start, end, text) per line of an STM file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(";;"):
            continue
        _uri, _channel, speaker, start, end, text = line.split(maxsplit=5)
        rows.append((speaker, float(start), float(end), text))
    return rows
