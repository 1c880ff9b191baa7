"""One piece of GPU work done on the RunPod endpoint: a transcription (the recording staged by
:mod:`~hearback.remote.transport`, sent to ``/run``, followed with ``/status`` until it ends), an
enrolment (task ``enrol``) or a rediarization (task ``rediarize``).

A transcription asks for every extra (``hearback.remote.wire``) and sends known people two ways:
the job's own recordings as ``known_speakers`` (the worker enrols them and sends their voiceprints
back) and library voices as ``known_voices`` embeddings (no audio), with ``use_library: false``
(the worker's own library is not this server's). What comes back is turned into the
:class:`~hearback.types.Result` the local pipeline would give (its diarization with centroids,
the embedding model and the clustering inputs), so that everything after it runs unchanged.

Its progress is saved through ``save`` (a :class:`RemoteState`): before ``/run`` (``submitting``),
with the remote id once accepted, at each status change, at the end with RunPod's ``delayTime``
and ``executionTime`` and the estimated cost. Given a state with an id, :meth:`~RunPodBackend.transcribe`
follows that job instead of sending the audio again (a restart). ``/status`` is asked every
``RUNPOD_POLL_INTERVAL`` seconds, growing by half up to ``RUNPOD_POLL_MAX`` while nothing changes;
a webhook call (:meth:`~RunPodBackend.wake`) asks at once. A cancel sends ``/cancel``.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from ..errors import Cancelled, ErrorCode, HearbackError
from ..schema import EXTRAS
from ..speakers.voiceprint import Voiceprint
from ..types import Diarization, Options, ProgressHook, Result, Stage, no_progress
from . import transport, wire
from .client import Endpoint, RemoteJob, RemoteStatus, finished_output

logger = logging.getLogger(__name__)

#: bytes of a ``/run`` body kept free beyond the measured JSON (headers, rounding)
MARGIN = 4096


@dataclass(frozen=True)
class RemoteState:
    """What is known of one job's remote side (kept with the job: a restart resumes from it)."""

    #: the endpoint's job id; None until ``/run`` answered
    id: Optional[str] = None
    #: a RunPod status, or ``submitting`` before ``/run`` answered
    status: str = "submitting"
    #: how the audio went (``transport``'s kinds), and the bucket object to delete afterwards
    transport: Optional[str] = None
    key: Optional[str] = None
    #: RunPod's ``delayTime`` and ``executionTime``, seconds
    delay_time: Optional[float] = None
    execution_time: Optional[float] = None
    #: estimated USD: ``execution_time`` × ``RUNPOD_PRICE_PER_SECOND``
    cost: Optional[float] = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "transport": self.transport, "key": self.key,
                "delay_time": self.delay_time, "execution_time": self.execution_time, "cost": self.cost}

    @classmethod
    def from_dict(cls, data: Optional[dict[str, Any]]) -> "RemoteState":
        return cls(**{k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__})

    def public_view(self) -> dict[str, Any]:
        """What the job view shows: no bucket key."""
        return {"id": self.id, "status": self.status, "transport": self.transport,
                "delay_time": self.delay_time, "execution_time": self.execution_time, "cost": self.cost}


@dataclass(frozen=True)
class Request:
    """What one transcription sends besides the recording."""

    options: Options
    #: the job's known speakers: (name, a recording of them alone)
    references: tuple[tuple[str, Path], ...] = ()
    #: known voices as embeddings (the library's, as this job chose them)
    voices: tuple[Voiceprint, ...] = ()


@dataclass(frozen=True)
class Outcome:
    result: Result
    #: the job's known speakers, enrolled by the worker from their recordings
    voiceprints: tuple[Voiceprint, ...] = ()
    state: RemoteState = field(default_factory=RemoteState)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def job_input(request: Request, extras: Sequence[str] = EXTRAS) -> dict[str, Any]:
    """The ``/run`` input of a transcription, without the audio's field."""
    o = request.options
    fields = {"language": o.language or "auto", "diarize": o.diarize, "word_timestamps": o.word_timestamps,
              "num_speakers": o.num_speakers, "min_speakers": o.min_speakers, "max_speakers": o.max_speakers,
              "initial_prompt": o.initial_prompt, "use_library": False, "output_format": "json",
              "extras": list(extras)}
    if o.diarize:  # a person the job gives a recording of wins over a library voice of that name
        fields["known_speakers"] = [{"name": name, "audio_base64": _b64(path)} for name, path in request.references]
        given = {name for name, _ in request.references}
        fields["known_voices"] = [{"name": v.name, "model": v.model, "vector": list(v.vector)}
                                  for v in request.voices if v.name not in given]
    return {k: v for k, v in fields.items() if v is not None}


class RunPodBackend:
    """The endpoint ``settings`` name (``RUNPOD_ENDPOINT_URL``, ``RUNPOD_API_KEY``…). ``served``
    makes this server's signed audio URL of a job and ``webhook`` its webhook URL (None: this
    server is not reachable from the internet); ``bucket`` is the S3-compatible bucket (None: none)."""

    def __init__(self, settings, endpoint: Optional[Endpoint] = None, *,
                 served: Optional[Callable[[str], str]] = None, webhook: Optional[Callable[[str], str]] = None,
                 bucket=None, sleep: Callable[[float], None] = time.sleep):
        if endpoint is None and not settings.runpod_endpoint_url:
            raise HearbackError(ErrorCode.ENDPOINT_UNAVAILABLE, "no endpoint: set RUNPOD_ENDPOINT_URL")
        self.settings = settings
        self.endpoint = endpoint or Endpoint(settings.runpod_endpoint_url, settings.runpod_key,
                                             status_wait=settings.runpod_status_wait, sleep=sleep)
        self.served, self.webhook, self.bucket = served, webhook, bucket
        self._wakes: dict[str, threading.Event] = {}
        self._serving: dict[str, Path] = {}  # job id -> its recording, while its job is followed

    # ------------------------------------------------------------------ the three tasks

    def transcribe(self, path: Path, request: Request, *, job_id: Optional[str] = None,
                   state: RemoteState = RemoteState(), save: Callable[[RemoteState], None] = lambda s: None,
                   progress: ProgressHook = no_progress,
                   cancelled: Optional[threading.Event] = None) -> Outcome:
        """``path`` transcribed on the endpoint (or, given ``state`` with an id, that job followed)."""
        cancelled = cancelled or threading.Event()
        if job_id is not None:
            self._serving[job_id] = Path(path)  # what its signed URL serves (``served``)
        try:
            if state.id is None:
                if state.status != "submitting" or state.transport is not None:
                    logger.warning("job %s: sending again, its /run answer was never kept", job_id)
                state = self._submit(path, request, job_id, save)
            job = self._follow(state, save, progress, cancelled)
            output = finished_output(job)
            state = self._ended(state, job, save)
            return Outcome(*wire.transcription(output), state=state)
        finally:
            self._serving.pop(job_id, None)
            if (cancelled.is_set() or state.status in _ENDED) and state.key and self.bucket is not None:
                self.bucket.delete(state.key)

    def enrol(self, name: str, references: Sequence[Path]) -> Voiceprint:
        """``name``'s voiceprint made by the worker from recordings of them alone (task ``enrol``)."""
        body = {"task": "enrol", "name": name, "references": [{"audio_base64": _b64(p)} for p in references]}
        self._check_size(body, "the voice references")
        [voice] = wire.checked(self._task(body).get("extras"))["voiceprints"]
        return wire.voiceprint_from_dict(voice)

    def rediarize(self, inputs, *, num_speakers: Optional[int] = None, min_speakers: Optional[int] = None,
                  max_speakers: Optional[int] = None) -> Diarization:
        """Speakers found again by the worker from kept clustering inputs (task ``rediarize``):
        the same call as a local diarizer's ``rediarize``."""
        from ..diarize.inputs import inputs_to_bytes

        body = {"task": "rediarize", "diarization_inputs": {
            "format": "npz", "data": base64.b64encode(inputs_to_bytes(inputs)).decode("ascii")}}
        body.update({k: v for k, v in (("num_speakers", num_speakers), ("min_speakers", min_speakers),
                                       ("max_speakers", max_speakers)) if v is not None})
        self._check_size(body, "the kept diarization")
        extras = wire.checked(self._task(body).get("extras"))
        return wire.diarization_from_dict(extras["diarization"], inputs=inputs)

    def health(self) -> dict[str, Any]:
        return self.endpoint.health()

    def wake(self, remote_id: str) -> bool:
        """A webhook said the job ended: ask its status now. False when no job follows that id."""
        event = self._wakes.get(remote_id)
        if event is not None:
            event.set()
        return event is not None

    def served_file(self, job_id: str) -> Optional[Path]:
        """The recording a job's signed URL serves: only while that job is being followed."""
        path = self._serving.get(job_id)
        return path if path is not None and path.is_file() else None

    def release(self, state: RemoteState) -> None:
        """Delete what a job left in the bucket (a job deleted before it was followed to its end)."""
        if state.key and self.bucket is not None:
            self.bucket.delete(state.key)

    # ------------------------------------------------------------------ submit and follow

    def _policy(self) -> Optional[dict[str, int]]:
        timeout = self.settings.runpod_execution_timeout
        return {"executionTimeout": int(timeout * 1000)} if timeout else None

    def _room(self, body: dict[str, Any], webhook: Optional[str]) -> int:
        envelope = {"input": body, "webhook": webhook, "policy": self._policy()}
        return self.settings.runpod_max_payload - len(json.dumps(envelope)) - MARGIN

    def _check_size(self, body: dict[str, Any], what: str) -> None:
        if self._room(body, None) < 0:
            raise HearbackError(ErrorCode.NO_AUDIO_TRANSPORT, f"{what} do not fit one RunPod request "
                                f"(RUNPOD_MAX_PAYLOAD {self.settings.runpod_max_payload} bytes)")

    def _submit(self, path: Path, request: Request, job_id: Optional[str],
                save: Callable[[RemoteState], None]) -> RemoteState:
        body = job_input(request)
        webhook = self.webhook(job_id) if self.webhook is not None and job_id else None
        room = self._room({**body, "audio_base64": ""}, webhook)
        if room < 0:
            raise HearbackError(ErrorCode.NO_AUDIO_TRANSPORT, "the known speakers' recordings alone do not fit "
                                                              "one RunPod request")
        served = (lambda: self.served(job_id)) if self.served is not None and job_id else None
        with transport.staged(path, room, served=served, bucket=self.bucket) as audio:
            state = RemoteState(status="submitting", transport=audio.kind, key=audio.key)
            save(state)  # the bucket object is known before /run, so it is deleted whatever happens
            remote_id = self.endpoint.run({**body, **audio.fields}, webhook=webhook, policy=self._policy())
        state = replace(state, id=remote_id, status=RemoteStatus.IN_QUEUE.value)
        save(state)
        logger.info("job %s: sent to the endpoint as %s (%s, %d bytes)", job_id, remote_id, audio.kind, audio.size)
        return state

    def _task(self, body: dict[str, Any]) -> dict[str, Any]:
        """A short task run to its end (enrol, rediarize): its output."""
        state = RemoteState(id=self.endpoint.run(body, policy=self._policy()), status="IN_QUEUE")
        job = self._follow(state, lambda s: None, no_progress, threading.Event())
        return finished_output(job)

    def _follow(self, state: RemoteState, save: Callable[[RemoteState], None], progress: ProgressHook,
                cancelled: threading.Event) -> RemoteJob:
        wake = self._wakes.setdefault(state.id, threading.Event())
        interval, seen = self.settings.runpod_poll_interval, None
        try:
            while True:
                if cancelled.is_set():
                    raise Cancelled(f"remote job {state.id} cancelled")
                job = self.endpoint.status(state.id)
                if job.final:
                    return job
                if job.status.value != state.status:
                    state = replace(state, status=job.status.value, delay_time=_seconds(job.delay_ms))
                    save(state)
                _report(job.output, progress)
                now = (job.status, json.dumps(job.output, sort_keys=True, default=str))
                interval = (self.settings.runpod_poll_interval if now != seen
                            else min(interval * 1.5, self.settings.runpod_poll_max))
                seen = now
                wake.clear()
                _pause(interval, wake, cancelled)
        except Cancelled:
            self.endpoint.cancel(state.id)
            raise
        finally:
            self._wakes.pop(state.id, None)

    def _ended(self, state: RemoteState, job: RemoteJob, save: Callable[[RemoteState], None]) -> RemoteState:
        price = self.settings.runpod_price_per_second
        execution = _seconds(job.execution_ms)
        state = replace(state, status=job.status.value, delay_time=_seconds(job.delay_ms), execution_time=execution,
                        cost=round(execution * price, 6) if price is not None and execution is not None else None)
        save(state)
        return state


_ENDED = {s.value for s in (RemoteStatus.COMPLETED, RemoteStatus.FAILED, RemoteStatus.CANCELLED,
                            RemoteStatus.TIMED_OUT)}


def _seconds(milliseconds: Optional[int]) -> Optional[float]:
    return round(milliseconds / 1000, 3) if milliseconds is not None else None


def _pause(seconds: float, wake: threading.Event, cancelled: threading.Event) -> None:
    """Wait ``seconds``, or until woken or cancelled (checked every 0.25 s)."""
    deadline = time.monotonic() + seconds
    while not wake.is_set() and not cancelled.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or wake.wait(min(left, 0.25)):
            return


def _report(output: Any, progress: ProgressHook) -> None:
    """A worker's ``progress_update`` (``{"stage", "progress"}``) as the job's progress."""
    if not isinstance(output, dict):
        return
    try:
        stage, fraction = Stage(output.get("stage")), float(output.get("progress", 0.0))
    except (ValueError, TypeError):
        return
    progress(stage, min(max(fraction, 0.0), 1.0))
