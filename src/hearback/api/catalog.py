"""``GET /v1/catalog``: the lists a client needs to build its forms and read job views, from
the one place each is written — the output formats (``writers.FORMATS``), the stages a job
goes through (``types.Stage``, then ``types.DONE``), the job statuses (``jobs.store.JobStatus``),
the languages this server's model can transcribe (``languages.NAMES``; only English with an
English-only model; every language on the runpod backend, whose
endpoint decides) and the most speakers an option may ask for (``schema.MAX_SPEAKERS``).
The editor page reads it once at start instead of keeping copies. Under the API key like every
``/v1`` route: the language list says which kind of model is loaded."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..errors import HearbackError
from ..jobs.store import JobStatus
from ..languages import NAMES
from ..schema import MAX_SPEAKERS
from ..types import DONE, Stage
from ..writers import FORMATS
from .deps import PipelineDep

router = APIRouter(prefix="/v1")


def _can_transcribe(pipeline, code: str) -> bool:
    recognizer = getattr(pipeline, "recognizer", None)
    if recognizer is None:  # the runpod backend: the endpoint's worker refuses what its model cannot do
        return True
    try:
        recognizer.check_language(code)
    except HearbackError:
        return False
    return True


@router.get("/catalog")
async def catalog(pipeline: PipelineDep) -> dict[str, Any]:
    """Enumerations as ``{NAME: value}`` in their order (as the Python enums), lists as lists."""
    return {
        "object": "catalog",
        "formats": list(FORMATS),
        "stages": {**{stage.name: stage.value for stage in Stage}, "DONE": DONE},
        "statuses": {status.name: status.value for status in JobStatus},
        "languages": [{"code": code, "name": name} for code, name in NAMES.items()
                      if _can_transcribe(pipeline, code)],
        "max_speakers": MAX_SPEAKERS,
    }
