"""The JSON document of a result (the service contract, SPECS.md) and the way back.

Stored jobs keep this document and render every export from it on demand
(:func:`result_from_dict`), so it carries everything an export needs: words with their
speakers, and the diarization's own ``turns`` (overlap included) for RTTM and for clients
that draw who spoke when. Every time is rounded once to a whole millisecond
(:func:`to_ms`). It imports nothing above :mod:`hearback.types`: every part may read it.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Optional, Sequence

from .types import Diarization, Notice, Result, Segment, SpeakerIdentity, Turn, Word

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- times


def to_ms(seconds: float) -> int:
    """Seconds to whole milliseconds, half up, never negative. The only rounding of word times
    (the JSON document's too), so cue and word times never disagree."""
    value = float(seconds)
    if not math.isfinite(value):
        return 0
    return max(0, int(math.floor(value * 1000.0 + 0.5)))


def _seconds(seconds: float) -> float:
    """Seconds rounded to the millisecond, as the JSON document carries them."""
    return to_ms(seconds) / 1000.0


# --------------------------------------------------------------------------- languages


def language_shares(segments: Sequence[Segment], default: str) -> list[tuple[str, float]]:
    """Each language with its share of speech (segment time; a segment without a language counts
    as ``default``), largest first; empty when there is no speech."""
    seconds: dict[str, float] = {}
    for seg in segments:
        language = seg.language or default
        seconds[language] = seconds.get(language, 0.0) + max(float(seg.end) - float(seg.start), 0.0)
    total = sum(seconds.values())
    if total <= 0:
        return [(default, 1.0)] if segments else []
    return sorted(((code, round(s / total, 4)) for code, s in seconds.items()), key=lambda x: -x[1])


# --------------------------------------------------------------------------- JSON


def _round_probability(value: Optional[float]) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None


def result_to_dict(result: Result) -> dict[str, Any]:
    """The JSON document of the service contract (see SPECS.md), without the caller's extras."""
    segments = []
    for seg in result.segments:
        segments.append({
            "start": _seconds(seg.start),
            "end": _seconds(seg.end),
            "text": seg.text.strip(),
            "speaker": seg.speaker,
            "language": seg.language or result.language,
            "loop_collapsed": bool(seg.loop_collapsed),
            "words": [
                {
                    "word": w.word.strip(),
                    "start": _seconds(w.start),
                    "end": _seconds(w.end),
                    "speaker": w.speaker,
                    "probability": _round_probability(w.probability),
                    "speaker_inferred": bool(w.speaker_inferred),
                    "overlap": bool(w.overlap),
                }
                for w in seg.words
            ],
        })
    document = {
        "transcription": {"text": result.text, "segments": segments},
        "speakers": list(result.speakers),
        "language": result.language,
        "languages": [{"language": code, "share": share}
                      for code, share in language_shares(result.segments, result.language)],
        "language_probability": _round_probability(result.language_probability),
        "duration": _seconds(result.duration),
        "warnings": [_notice(n) for n in result.warnings],
        "turns": _turns(result),
    }
    if result.identities:  # only when known voices were compared (hearback.speakers)
        document["speaker_identities"] = [
            {"speaker": i.speaker, "label": i.label, "name": i.name, "score": i.score}
            for i in result.identities]
    return document


def _turns(result: Result) -> list[dict[str, Any]]:
    """The diarization's turns (they may overlap), in time order; [] without diarization."""
    if result.diarization is None:
        return []
    turns = sorted(result.diarization.turns, key=lambda t: (to_ms(t.start), to_ms(t.end)))
    return [{"start": _seconds(t.start), "end": _seconds(t.end), "speaker": t.speaker} for t in turns]


def _notice(notice: Notice) -> dict[str, Any]:
    out: dict[str, Any] = {"code": notice.code, "message": notice.message}
    if notice.start is not None:
        out["start"] = _seconds(notice.start)
    if notice.end is not None:
        out["end"] = _seconds(notice.end)
    return out


def result_from_dict(document: dict[str, Any]) -> Result:
    """The :class:`Result` a JSON document (:func:`result_to_dict`) describes: every format
    renders from it exactly as from the original (times are already whole milliseconds).
    Stored jobs keep the document and render exports from it on demand."""
    segments = tuple(
        Segment(seg["start"], seg["end"], seg["text"], speaker=seg["speaker"],
                language=seg.get("language"), loop_collapsed=seg.get("loop_collapsed", False), words=tuple(
            Word(w["word"], w["start"], w["end"], w["probability"], w["speaker"],
                 w["speaker_inferred"], w["overlap"])
            for w in seg["words"]))
        for seg in document["transcription"]["segments"])
    # the exclusive timeline is not stored: it was only needed to give words their speakers
    turns = tuple(Turn(t["start"], t["end"], t["speaker"]) for t in document.get("turns", ()))
    return Result(
        segments=segments, language=document["language"], duration=document["duration"],
        speakers=tuple(document["speakers"]), language_probability=document["language_probability"],
        diarization=Diarization(turns, ()) if turns else None,
        warnings=tuple(Notice(n["code"], n["message"], n.get("start"), n.get("end"))
                       for n in document.get("warnings", ())),
        identities=tuple(SpeakerIdentity(i["label"], i["name"], i["score"])
                         for i in document.get("speaker_identities", ())),
    )
