"""Hearback: a transcript split by speaker, with word-level timestamps.

The face of the package, for use from Python::

    from hearback import Pipeline, Settings, Options, render

    pipeline = Pipeline.load(Settings())            # loads the models once
    result = pipeline.transcribe_file("meeting.m4a", Options(language="fr", max_speakers=4))
    print(render(result, "vtt"))

The names are imported on first use, so ``import hearback`` loads no model library. Where each
part lives: docs/architecture.md.
"""

import importlib
import logging
import os
from typing import Any

# pyannote.audio sends usage metrics unless told not to. Hearback never phones home.
os.environ["PYANNOTE_METRICS_ENABLED"] = "0"

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

#: the face: name -> the module that defines it
_FACE = {"Pipeline": "pipeline", "Settings": "settings", "Options": "types", "Result": "types",
         "render": "writers", "render_bytes": "writers", "ExportOptions": "writers",
         "HearbackError": "errors", "ErrorCode": "errors"}

__all__ = ["__version__", *_FACE]


def __getattr__(name: str) -> Any:
    if name in _FACE:
        return getattr(importlib.import_module(f"{__name__}.{_FACE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
