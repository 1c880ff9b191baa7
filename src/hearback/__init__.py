"""Hearback: a transcript split by speaker, with word-level timestamps."""

import logging
import os

# pyannote.audio sends usage metrics unless told not to. Hearback never phones home.
os.environ["PYANNOTE_METRICS_ENABLED"] = "0"

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
