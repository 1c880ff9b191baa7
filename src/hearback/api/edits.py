"""Fixing a finished job's transcript over HTTP (the transcript editor's calls):
``POST /v1/jobs/{id}/edits`` applies a batch of operations (``hearback.edits``) as one undo step,
``PATCH /v1/jobs/{id}/speakers`` is one more operation (renames and merges at once) through the
same code, so both doors check the document's invariants and tidy turns alike;
``POST /v1/jobs/{id}/undo`` takes the last step back (``hearback.jobs.undo``). Each body names
the revision it was made against and each answers the new JSON document with its revision
(``api.bodies``); every export renders from it."""

from __future__ import annotations

import logging
from typing import Annotated, Literal, Optional, Sequence, Union

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from .. import edits
from ..errors import ErrorCode, HearbackError
from ..jobs.store import Change, JobStore, Revised
from ..types import Result
from .bodies import Revisioned, answered, read_change
from .deps import JobsDep, SucceededJobDep

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/jobs")

#: operations in one batch, at most
MAX_OPS = 1000
#: longest text one edit may set (characters)
MAX_TEXT = 20_000

WordRange = Annotated[list[int], Field(min_length=2, max_length=2)]


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # "segment": true or "1" is no index

    def apply(self, result: Result) -> Result:
        raise NotImplementedError  # every operation below implements it

    def voices(self, result: Result) -> dict[str, str]:
        """How the job's kept speaker embeddings follow (old speaker -> new); {} for none."""
        return {}


class Rename(_Op):
    """``speaker`` is called ``name`` everywhere."""

    op: Literal["rename"]
    speaker: str
    name: str

    def apply(self, result: Result) -> Result:
        return edits.rename(result, self.speaker, self.name)

    def voices(self, result: Result) -> dict[str, str]:
        return edits.speaker_mapping(result.speakers, {self.speaker: self.name}, ())


class Merge(_Op):
    """Every speaker listed becomes the first."""

    op: Literal["merge"]
    speakers: list[str]

    def apply(self, result: Result) -> Result:
        return edits.merge(result, self.speakers)

    def voices(self, result: Result) -> dict[str, str]:
        return edits.speaker_mapping(result.speakers, {}, [self.speakers])


class Assign(_Op):
    """A segment (or its words ``[first, end)``) to another speaker, existing or new."""

    op: Literal["assign"]
    segment: int
    speaker: str
    words: Optional[WordRange] = None

    def apply(self, result: Result) -> Result:
        return edits.assign(result, self.segment, self.speaker, self.words)


class Edit(_Op):
    """A segment's text (or its words ``[first, end)``) replaced, timing kept."""

    op: Literal["edit"]
    segment: int
    text: str = Field(max_length=MAX_TEXT)
    words: Optional[WordRange] = None

    def apply(self, result: Result) -> Result:
        return edits.edit(result, self.segment, self.text, self.words)


class SpeakerEdits(_Op, Revisioned):
    """``PATCH /v1/jobs/{id}/speakers``: merges first, then renames, at once (so two speakers
    may swap names); one operation of :func:`apply_ops`."""

    #: speaker as the result shows it -> new name
    renames: dict[str, str] = Field(default_factory=dict)
    #: groups of speakers to make one (each takes the group's first)
    merges: list[list[str]] = Field(default_factory=list)

    def apply(self, result: Result) -> Result:
        return edits.fix_speakers(result, self.renames, self.merges)

    def voices(self, result: Result) -> dict[str, str]:
        return edits.speaker_mapping(result.speakers, self.renames, self.merges)


#: every operation of an edits batch, told apart by ``op``
Op = Annotated[Union[Rename, Merge, Assign, Edit], Field(discriminator="op")]


class EditBatch(Revisioned):
    """``POST /v1/jobs/{id}/edits``: operations applied in order, each to the document the ones
    before it left, all or nothing."""

    ops: list[Op] = Field(min_length=1, max_length=MAX_OPS)


def apply_ops(store: JobStore, job_id: str, ops: Sequence[_Op], revision: Optional[int]) -> Revised:
    """Apply ``ops`` in order to the stored result as one undo step, all or nothing, refused
    when the document would break a promise or the job is past ``revision``; kept voices
    follow renames and merges in the same transaction."""

    def change(result: Result) -> Change:
        edited, moves = result, []
        for op in ops:
            moves.append(op.voices(edited))
            edited = op.apply(edited)
        made = edits.refuse_new_problems(result, edited)
        return Change(edited, tuple(filter(None, moves)), text=made.text)

    return store.change_result(job_id, change, revision=revision)


@router.post("/{job_id}/edits")
async def edit_job(job: SucceededJobDep, jobs: JobsDep, request: Request):
    """Edits of a succeeded job's transcript (JSON :class:`EditBatch`, read here so that any
    malformed batch is ``invalid_edit``)."""
    batch = await read_change(request, EditBatch, ErrorCode.INVALID_EDIT)
    return await answered(apply_ops, jobs.store, job.id, batch.ops, batch.revision)


@router.patch("/{job_id}/speakers")
async def edit_job_speakers(job: SucceededJobDep, jobs: JobsDep, request: Request):
    """Renames and merges on a finished job (JSON :class:`SpeakerEdits`), as one operation of
    :func:`apply_ops`."""
    fix = await read_change(request, SpeakerEdits, ErrorCode.INVALID_INPUT)
    return await answered(apply_ops, jobs.store, job.id, [fix], fix.revision)


@router.post("/{job_id}/undo")
async def undo_job(job: SucceededJobDep, jobs: JobsDep, request: Request):
    """The document before the last change (an edit batch, a speaker fix, a rediarization),
    as a new revision."""
    body = await read_change(request, Revisioned, ErrorCode.INVALID_INPUT)
    return await answered(_undo, jobs.store, job.id, body.revision)


def _undo(store: JobStore, job_id: str, revision: int) -> Revised:
    restored = store.undo(job_id, revision=revision)
    if restored is None:
        raise HearbackError(ErrorCode.NOTHING_TO_UNDO, f"job {job_id} has no change to undo")
    return restored
