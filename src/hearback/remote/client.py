"""A RunPod serverless endpoint's queue API, as RunPod documents it (docs.runpod.io, "Send API
requests" and "Operation reference"): ``POST /run`` (answers ``{"id", "status"}``), ``GET
/status/{id}`` (``{"id", "status", "delayTime", "executionTime", "output" | "error"}``; while a
job runs, ``output`` is the worker's last ``progress_update``), ``POST /cancel/{id}`` and ``GET
/health`` (``{"jobs": {…}, "workers": {…}}``), with ``Authorization: Bearer <key>``.

Every call is retried with exponential backoff (and jitter; a ``Retry-After`` is honoured) on a
connection error and on 429 and 5xx answers — RunPod asks for exactly that on 429 — up to
``retries`` times; ``/run`` is retried only where the job cannot have been accepted (429, 502,
503, 504, a connection refused), never after a read timed out, so a job is not sent twice. Then
the failure is one stable code (``errors.py``): ``endpoint_unavailable``, ``endpoint_rejected``
(the key or the request refused), ``endpoint_incompatible`` (not RunPod's shape). A job the
endpoint no longer knows (404 on ``/status``: its result expired, 30 minutes after it ended on
``/run``) is ``remote_result_lost``.

runpod-python 1.12.0's local development server (``--rp_serve_api``) takes ``/status`` by POST
only (405 to a GET) and runs the job inside that request; the first 405 switches this client to
POST with ``status_wait`` as its read timeout. The API key is sent in the header only: never in a
URL, never logged.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, Optional

import requests

from ..errors import ErrorCode, HearbackError

logger = logging.getLogger(__name__)


class RemoteStatus(StrEnum):
    """RunPod's job states (docs: "Job states and metrics")."""

    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    RUNNING = "RUNNING"  # documented beside IN_PROGRESS: a worker runs it
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"


#: the states a job does not leave
FINAL = frozenset({RemoteStatus.COMPLETED, RemoteStatus.FAILED, RemoteStatus.CANCELLED, RemoteStatus.TIMED_OUT})
#: answers worth trying again (RunPod: "429 … implement backoff and retry"; 5xx: a passing fault)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: for ``/run``: answers that say the job was not taken
RUN_RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: runpod-python's local server answers an unknown id with this error (status FAILED)
_LOCAL_UNKNOWN = "Job ID not found"


@dataclass(frozen=True)
class RemoteJob:
    """One ``/status`` answer."""

    id: str
    status: RemoteStatus
    #: the job's output when COMPLETED (or FAILED, on the platform); the last progress update while running
    output: Any = None
    #: the error string of a FAILED job
    error: Optional[str] = None
    #: milliseconds it waited in the queue, and ran (RunPod's ``delayTime``, ``executionTime``)
    delay_ms: Optional[int] = None
    execution_ms: Optional[int] = None

    @property
    def final(self) -> bool:
        return self.status in FINAL


class Endpoint:
    """One endpoint: ``url`` is its base (``https://api.runpod.ai/v2/<id>``, or a local server)."""

    def __init__(self, url: str, api_key: Optional[str] = None, *, timeout: float = 30.0,
                 status_wait: float = 3600.0, retries: int = 5, backoff: float = 1.0,
                 max_backoff: float = 30.0, sleep: Callable[[float], None] = time.sleep):
        self.url = url.rstrip("/")
        self.timeout, self.status_wait = timeout, status_wait
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self._sleep = sleep
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment sees the key
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._status_method = "GET"

    def __repr__(self) -> str:  # never the key
        return f"Endpoint({self.url!r})"

    # ------------------------------------------------------------------ operations

    def run(self, job_input: dict[str, Any], *, webhook: Optional[str] = None,
            policy: Optional[dict[str, int]] = None) -> str:
        """Submit a job (``/run``); its id."""
        body: dict[str, Any] = {"input": job_input}
        if webhook:
            body["webhook"] = webhook
        if policy:
            body["policy"] = policy
        answer = self._call("POST", "/run", body, retry_on=RUN_RETRY_STATUSES, retry_reads=False)
        job_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise HearbackError(ErrorCode.ENDPOINT_INCOMPATIBLE, "the endpoint's /run answer has no job id")
        logger.info("remote job %s submitted to %s", job_id, self.url)
        return job_id

    def status(self, job_id: str) -> RemoteJob:
        """The job's state (``/status/{id}``); ``remote_result_lost`` when the endpoint no longer has it."""
        path = f"/status/{job_id}"
        if self._status_method == "GET":
            try:
                answer = self._call("GET", path, lost_on_404=True)
            except _MethodNotAllowed:
                logger.info("%s takes /status by POST only (runpod's local server): POST from now on", self.url)
                self._status_method = "POST"
        if self._status_method == "POST":
            answer = self._call("POST", path, None, timeout=self.status_wait, lost_on_404=True)
        return _remote_job(job_id, answer)

    def cancel(self, job_id: str) -> None:
        """Ask the endpoint to stop the job (``/cancel/{id}``); best effort, logged when it fails."""
        try:
            self._call("POST", f"/cancel/{job_id}", None)
        except (HearbackError, _MethodNotAllowed) as exc:
            logger.warning("could not cancel remote job %s: %s", job_id, exc)

    def health(self) -> dict[str, Any]:
        """``/health`` (workers and jobs), or ``{"error": code}`` when it does not answer as RunPod's does."""
        try:
            answer = self._call("GET", "/health", retries=1)
        except (HearbackError, _MethodNotAllowed) as exc:
            code = exc.code.value if isinstance(exc, HearbackError) else "endpoint_incompatible"
            return {"reachable": code not in (ErrorCode.ENDPOINT_UNAVAILABLE.value,), "error": code}
        return {"reachable": True, **(answer if isinstance(answer, dict) else {})}

    # ------------------------------------------------------------------ HTTP

    def _call(self, method: str, path: str, body: Any = None, *, timeout: Optional[float] = None,
              retry_on: frozenset = RETRY_STATUSES, retry_reads: bool = True, lost_on_404: bool = False,
              retries: Optional[int] = None) -> Any:
        attempts = (self.retries if retries is None else retries) + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._session.request(method, self.url + path, json=body, headers=self._headers,
                                                 timeout=(min(self.timeout, 10.0), timeout or self.timeout))
            except requests.ConnectionError as exc:
                if last or (not retry_reads and not _not_sent(exc)):
                    raise HearbackError(ErrorCode.ENDPOINT_UNAVAILABLE,
                                        f"cannot reach the endpoint ({type(exc).__name__})") from None
                self._wait(attempt, None, f"{method} {path}: {type(exc).__name__}")
                continue
            except requests.Timeout:
                if last or not retry_reads:
                    raise HearbackError(ErrorCode.ENDPOINT_UNAVAILABLE,
                                        f"the endpoint did not answer {method} {path.split('/')[1]} in time") from None
                self._wait(attempt, None, f"{method} {path}: timed out")
                continue
            code = response.status_code
            if code in retry_on and not last:
                self._wait(attempt, response.headers.get("Retry-After"), f"{method} {path}: HTTP {code}")
                continue
            return _answer(response, path, lost_on_404)
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises

    def _wait(self, attempt: int, retry_after: Optional[str], why: str) -> None:
        delay = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
        try:
            delay = max(delay, min(float(retry_after), self.max_backoff)) if retry_after else delay
        except ValueError:
            pass
        logger.info("endpoint %s (%s): retrying in %.1f s", self.url, why, delay)
        self._sleep(delay)


class _MethodNotAllowed(Exception):
    """HTTP 405: the route exists, not with that method (runpod's local server's /status)."""


def _not_sent(exc: requests.ConnectionError) -> bool:
    """Whether the request cannot have reached the server: no connection was made."""
    text = str(exc)
    return (isinstance(exc, requests.ConnectTimeout) or "Failed to establish a new connection" in text
            or "refused" in text.lower())


def _answer(response: requests.Response, path: str, lost_on_404: bool) -> Any:
    code = response.status_code
    operation = path.split("/")[1]
    if code == 405:
        raise _MethodNotAllowed(path)
    if code in (401, 403):
        raise HearbackError(ErrorCode.ENDPOINT_REJECTED,
                            f"the endpoint refused the API key (HTTP {code} on /{operation}): check RUNPOD_API_KEY")
    if code == 404 and lost_on_404:
        raise HearbackError(ErrorCode.REMOTE_RESULT_LOST,
                            "the endpoint no longer has this job (a result is kept 30 minutes after it "
                            "ends): submit it again")
    if code in RETRY_STATUSES:
        raise HearbackError(ErrorCode.ENDPOINT_UNAVAILABLE, f"the endpoint kept answering HTTP {code} on /{operation}")
    if code >= 400:
        raise HearbackError(ErrorCode.ENDPOINT_REJECTED,
                            f"the endpoint refused /{operation} (HTTP {code}): check RUNPOD_ENDPOINT_URL")
    try:
        return response.json()
    except ValueError:
        raise HearbackError(ErrorCode.ENDPOINT_INCOMPATIBLE,
                            f"the endpoint's /{operation} answer is not JSON (HTTP {code})") from None


def _milliseconds(value: Any) -> Optional[int]:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def _remote_job(job_id: str, answer: Any) -> RemoteJob:
    if not isinstance(answer, dict) or "status" not in answer:
        raise HearbackError(ErrorCode.ENDPOINT_INCOMPATIBLE, "the endpoint's /status answer has no status")
    try:
        status = RemoteStatus(answer["status"])
    except ValueError:
        raise HearbackError(ErrorCode.ENDPOINT_INCOMPATIBLE,
                            f"the endpoint answered an unknown job status {answer['status']!r}") from None
    error = answer.get("error")
    if status is RemoteStatus.FAILED and error == _LOCAL_UNKNOWN:
        raise HearbackError(ErrorCode.REMOTE_RESULT_LOST,
                            "the endpoint no longer has this job (its development server forgets a job once "
                            "asked for it): submit it again")
    return RemoteJob(job_id, status, answer.get("output"), str(error) if error is not None else None,
                     _milliseconds(answer.get("delayTime")), _milliseconds(answer.get("executionTime")))


def finished_output(job: RemoteJob) -> dict[str, Any]:
    """A final job's output, or its failure as a stable code."""
    if job.status is RemoteStatus.COMPLETED:
        if not isinstance(job.output, dict):
            raise HearbackError(ErrorCode.ENDPOINT_INCOMPATIBLE, "the endpoint's job output is not a document")
        return job.output
    if job.status is RemoteStatus.TIMED_OUT:
        raise HearbackError(ErrorCode.REMOTE_TIMED_OUT, "the remote job timed out: it waited or ran past the "
                            "endpoint's limits (raise its execution timeout, RUNPOD_EXECUTION_TIMEOUT)")
    if job.status is RemoteStatus.CANCELLED:
        raise HearbackError(ErrorCode.REMOTE_CANCELLED, "the remote job was cancelled on the endpoint")
    raise _failure(job)


def _failure(job: RemoteJob) -> HearbackError:
    """A FAILED job: its Hearback code when the worker gave one (the error string leads with it;
    on the platform ``output.error_code`` too), else ``remote_failed``."""
    output = job.output if isinstance(job.output, dict) else {}
    text = job.error or str(output.get("error") or "")
    head, _, message = text.partition(": ")
    code = output.get("error_code") or head
    if code in ErrorCode.__members__.values():
        return HearbackError(ErrorCode(code), message or text)
    try:  # runpod-python's own report of a handler that raised: a JSON string
        text = json.loads(text).get("error_message", text)
    except (ValueError, AttributeError):
        pass
    return HearbackError(ErrorCode.REMOTE_FAILED, f"the remote job failed: {str(text)[:300] or 'no reason given'}")
