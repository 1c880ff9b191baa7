"""Word timing refinement with a wav2vec2 alignment model (WhisperX), when one is at hand.

The only module that imports WhisperX. Alignment models are never downloaded at
run time: a language is aligned only when ``ALIGNMENT_MODEL_DIR/<language>/``
holds a Hugging Face wav2vec2 CTC model (the Docker image fetches en and fr at
build time). Otherwise, or if alignment fails, faster-whisper's own word
timestamps are kept: alignment can only improve timings, never lose words.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Optional

from .types import Audio, ProgressHook, Segment, Stage, Transcript, Word, no_progress

logger = logging.getLogger(__name__)


class Aligner:
    def __init__(self, model_dir: Optional[Path], device: str):
        self.model_dir = Path(model_dir) if model_dir else None
        self.device = device
        self._models: dict[str, tuple[object, dict]] = {}

    def available(self, language: str) -> bool:
        return bool(self.model_dir and (self.model_dir / language / "config.json").is_file())

    def align(self, transcript: Transcript, audio: Audio, progress: ProgressHook = no_progress) -> Transcript:
        """A new transcript with wav2vec2 word timings, or the same one when not possible."""
        language = transcript.language
        if not transcript.segments or not self.available(language):
            return transcript
        try:
            model, metadata = self._load(language)
            aligned = _whisperx_align(transcript, audio, model, metadata, self.device, progress)
        except Exception:
            logger.exception("alignment failed for %s; keeping faster-whisper word timestamps", language)
            return transcript
        return replace(transcript, segments=aligned)

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
    from whisperx.alignment import align

    result = align(
        [{"start": s.start, "end": s.end, "text": s.text} for s in transcript.segments],
        model, metadata, audio.samples, device,
        progress_callback=lambda pct: progress(Stage.ALIGN, pct / 100.0),
    )
    segments = []
    for seg in result["segments"]:
        words = _fill_missing_times(seg.get("words", []), seg["start"], seg["end"])
        segments.append(Segment(start=round(seg["start"], 3), end=round(seg["end"], 3),
                                text=seg["text"].strip(), words=words))
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
