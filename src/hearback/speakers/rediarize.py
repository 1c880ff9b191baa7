"""A finished result's words given to speakers found again (``POST /v1/jobs/{id}/rediarize``).

The words stay exactly as stored (text, times, probabilities: no speech recognition runs);
only their speakers change. The stored segments are the transcript the words are assigned
from (``hearback.assign``, the same rules as the first time), so a segment the first
assignment split where the speaker changed stays split; a segment is split again where the
new speakers change. Known voices are matched to the new speakers as after any diarization.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Sequence

from ..assign import attribute
from ..types import Diarization, Result, Transcript
from .voiceprint import Voiceprint

logger = logging.getLogger(__name__)


def reassigned(result: Result, diarization: Diarization,
               voices: Sequence[Voiceprint] = ()) -> Result:
    """A new result: ``result``'s words under ``diarization``'s speakers (named where a known
    voice matches), its turns, identities and speaker list; everything else kept."""
    transcript = Transcript(result.segments, result.language, result.language_probability)
    segments, diarization, identities, speakers = attribute(transcript, diarization, voices)  # as the pipeline
    return replace(result, segments=segments, speakers=speakers, diarization=diarization,
                   identities=identities)
