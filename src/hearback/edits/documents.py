"""The JSON document of an edited result, made from the last one made: each segment whose object
is unchanged (an edit rebuilds only what it touches) keeps its part of the document, as a dict
and as JSON text, so an edit of a long transcript costs what it changed, not the whole
transcript. The document is :func:`hearback.document.result_to_dict`'s, to the byte: each part is
made by it (a one-segment result) and the text is ``json.dumps`` of it, joined as ``json.dumps``
joins a list (tested against both)."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, replace
from typing import Any, Optional

from ..document import language_shares, result_to_dict
from ..types import Result, Segment

logger = logging.getLogger(__name__)

_EMPTY = '"segments": []'


@dataclass(frozen=True)
class Made:
    """A result's JSON document, as a dict and as text (``json.dumps``, non-ASCII as it is)."""

    document: dict[str, Any]
    text: str


class Documents:
    """Makes documents, keeping the parts of the last one made (one transcript's worth)."""

    def __init__(self):
        self._lock = threading.Lock()
        #: id -> (the segment, the document's language, its part, its part's text once made)
        self._parts: dict[int, tuple[Segment, str, dict, Optional[str]]] = {}

    def of(self, result: Result) -> Made:
        with self._lock:
            kept = [self._kept(s, result.language) for s in result.segments]
            if not any(kept):  # all new (a first edit, one after an undo): made the plain way
                document = result_to_dict(result)
                self._parts = {id(s): (s, result.language, d, None)
                               for s, d in zip(result.segments, document["transcription"]["segments"])}
                return Made(document, json.dumps(document, ensure_ascii=False))
            new = [s for s, k in zip(result.segments, kept) if k is None]  # made at once, in order
            made = iter(result_to_dict(Result(tuple(new), result.language, result.duration))["transcription"]["segments"])
            parts = [_with_text(k if k is not None else (next(made), None)) for k in kept]
            self._parts = {id(s): (s, result.language, d, t) for s, (d, t) in zip(result.segments, parts)}
        document = result_to_dict(replace(result, segments=()))
        document["transcription"] = {"text": result.text, "segments": [d for d, _ in parts]}
        document["languages"] = [{"language": code, "share": share}
                                 for code, share in language_shares(result.segments, result.language)]
        # the segments' texts go where the empty list is: its first place (the text before it, a
        # JSON string, holds no unescaped quote)
        text = json.dumps({**document, "transcription": {"text": result.text, "segments": []}}, ensure_ascii=False)
        return Made(document, text.replace(_EMPTY, f'"segments": [{", ".join(t for _, t in parts)}]', 1))

    def _kept(self, segment: Segment, language: str) -> Optional[tuple[dict, Optional[str]]]:
        """The part (and its text, once made) kept for this very segment object."""
        kept = self._parts.get(id(segment))
        return (kept[2], kept[3]) if kept is not None and kept[0] is segment and kept[1] == language else None


def _with_text(part: tuple[dict, Optional[str]]) -> tuple[dict, str]:
    return part if part[1] is not None else (part[0], json.dumps(part[0], ensure_ascii=False))


#: the one maker edits use (changes to results are made one at a time: ``JobStore.editing``)
documents = Documents()
