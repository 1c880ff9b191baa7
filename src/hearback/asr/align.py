"""Word timing refinement with a wav2vec2 alignment model (WhisperX), when one is at hand.

The only module that imports WhisperX. Nothing is downloaded at run time: a language is
aligned only when ``ALIGNMENT_MODEL_DIR/<language>/`` holds a Hugging Face wav2vec2 CTC
model and NLTK's ``punkt_tab`` sentence splitter for it is installed (``NLTK_DATA``; the
Docker image bakes both in). Otherwise, or if alignment fails, faster-whisper's own word
timestamps are kept: alignment can only improve timings, never lose words.

A language with no sub-directory is simply not aligned (no model for it is normal). But
when alignment was configured for the transcript's language and could not run — the
folder is missing or broken, ``punkt_tab`` is not installed (whisperX would try to
download it mid-job), or the model failed — the transcript carries an
``alignment_skipped`` notice, which reaches the result's ``warnings``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Optional

from ..types import Audio, Notice, ProgressHook, Segment, Stage, Transcript, Word, no_progress

logger = logging.getLogger(__name__)

SKIPPED = "alignment_skipped"


def punkt_language(language: str) -> str:
    """The NLTK punkt model whisperX splits sentences with for ``language`` (english when
    it has none of its own)."""
    from whisperx.utils import PUNKT_LANGUAGES

    return PUNKT_LANGUAGES.get(language, "english")


def missing_punkt(language: str) -> Optional[str]:
    """Why whisperX could not split ``language`` into sentences offline, or None when it can."""
    import nltk

    resource = f"tokenizers/punkt_tab/{punkt_language(language)}/"
    try:
        nltk.data.find(resource)
    except LookupError:
        return (f"NLTK data {resource} not found in {nltk.data.path}: run "
                "`python -m nltk.downloader -d /usr/local/share/nltk_data punkt_tab` and set "
                "NLTK_DATA=/usr/local/share/nltk_data")
    return None


class Aligner:
    def __init__(self, model_dir: Optional[Path], device: str):
        self.model_dir = Path(model_dir) if model_dir else None
        self.device = device
        self._models: dict[str, tuple[object, dict]] = {}

    def available(self, language: str) -> bool:
        return bool(self.model_dir and (self.model_dir / language / "config.json").is_file())

    def unusable(self, language: str) -> Optional[str]:
        """Why alignment configured for ``language`` cannot run, or None when it can or when
        none is configured for it (no ALIGNMENT_MODEL_DIR, no sub-directory for it)."""
        if self.model_dir is None:
            return None
        if not self.model_dir.is_dir():
            return f"ALIGNMENT_MODEL_DIR {self.model_dir} does not exist"
        folder = self.model_dir / language
        if not folder.exists():
            return None
        if not self.available(language):
            return f"{folder} holds no wav2vec2 model (config.json missing)"
        return missing_punkt(language)

    def align(self, transcript: Transcript, audio: Audio, progress: ProgressHook = no_progress) -> Transcript:
        """A new transcript with wav2vec2 word timings, or the same one (plus an
        ``alignment_skipped`` notice when configured alignment could not run)."""
        language = transcript.language
        if not transcript.segments:
            return transcript
        reason = self.unusable(language)
        if reason is None and not self.available(language):
            return transcript
        if reason is None:
            try:
                model, metadata = self._load(language)
                aligned = _whisperx_align(transcript, audio, model, metadata, self.device, progress)
                return replace(transcript, segments=aligned)
            except Exception as exc:
                logger.exception("alignment failed for %s", language)
                reason = f"the alignment model failed ({type(exc).__name__}: {exc})"
        logger.warning("alignment skipped for %s: %s", language, reason)
        notice = Notice(SKIPPED, f"word times are faster-whisper's, not aligned: {reason}")
        return replace(transcript, notices=transcript.notices + (notice,))

    def _load(self, language: str):
        if language not in self._models:
            from whisperx.alignment import load_align_model

            path = str(self.model_dir / language)
            logger.info("loading alignment model %s", path)
            self._models[language] = load_align_model(
                language, self.device, model_name=path, model_cache_only=True
            )
        return self._models[language]


def _whisperx_align(transcript, audio, model, metadata, device, progress) -> tuple[Segment, ...]:
    """Each segment aligned on its own (whisperX may split it into sentences): what it says about
    itself beyond times and text (its ``language``, ``loop_collapsed``) stays with its pieces.
    Segments in another language than the transcript's (a recording that switches) keep
    faster-whisper's times: the model is for the transcript's language."""
    from whisperx.alignment import align

    segments = []
    total = len(transcript.segments)
    for index, source in enumerate(transcript.segments):
        if source.language not in (None, transcript.language):  # the model is for one language
            segments.append(source)
            continue
        result = align([{"start": source.start, "end": source.end, "text": source.text}],
                       model, metadata, audio.samples, device)
        for seg in result["segments"]:
            words = _fill_missing_times(seg.get("words", []), seg["start"], seg["end"])
            segments.append(replace(source, start=round(seg["start"], 3), end=round(seg["end"], 3),
                                    text=seg["text"].strip(), words=words))
        progress(Stage.ALIGN, (index + 1) / total)
    return tuple(segments)


def _fill_missing_times(words: list[dict], seg_start: float, seg_end: float) -> tuple[Word, ...]:
    """wav2vec2 cannot time tokens outside its alphabet (digits, symbols): place them
    between their neighbours instead of dropping them."""
    out: list[Word] = []
    for i, w in enumerate(words):
        start = w.get("start")
        end = w.get("end")
        if start is None or end is None:
            start = out[-1].end if out else seg_start
            later = [x["start"] for x in words[i + 1:] if x.get("start") is not None]
            end = max(start, later[0] if later else seg_end)
        text = w["word"].strip()
        if text:
            out.append(Word(word=text, start=round(start, 3), end=round(end, 3), probability=w.get("score")))
    return tuple(out)
