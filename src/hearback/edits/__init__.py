"""Fixing a finished transcript by hand: rename, merge, move words to another speaker, edit text.

Each operation is a pure function of a :class:`~hearback.types.Result` that returns a new one
(the transcript editor's ``POST /v1/jobs/{id}/edits`` and ``PATCH /v1/jobs/{id}/speakers``
apply them to the stored result, so every export follows): :mod:`~hearback.edits.speakers`
renames and merges (``fix_speakers``, turns tidied), :mod:`~hearback.edits.words` moves words
to another speaker and edits text, :mod:`~hearback.edits.checks` says what every edited
document must keep (its promises, text in proportion to the audio). May import the floor, the
invariants and the name rule of :mod:`hearback.speakers.voiceprint`; :mod:`hearback.api` uses
it. The operations are named here lazily: importing the package loads none of its modules.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {"rename": "speakers", "merge": "speakers", "fix_speakers": "speakers", "speaker_mapping": "speakers",
          "assign": "words", "edit": "words", "spread": "words",
          "refuse_new_problems": "checks", "MAX_CHARS_PER_SECOND": "checks", "MIN_CHARS": "checks"}

__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
