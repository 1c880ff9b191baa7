"""A stand-in for RunPod's serverless queue API, written from RunPod's documentation ONLY
(docs.runpod.io: "Send API requests", "Operation reference", "Job states and metrics"), for
what runpod-python 1.12.0's local server (``--rp_serve_api``) cannot show. That server has
``/run`` (it only stores the input: "async mode requires communication with Runpod's system"),
``/runsync``, and ``/status`` by POST, which runs the job inside that request and forgets it;
no ``/cancel``, no ``/health``, no key, no retention, no timeouts. So a job that runs while
nobody asks for it (and survives its client's death), an ``Authorization`` check, 429s with
``Retry-After``, 5xx, a result that expired (404), a job that times out, a worker that dies
mid-job, cancels, webhooks and slow answers are shown here.

The worker inside is a plain function ``(job) -> output``; the tests give it the project's real
handler (``hearback.worker.handler`` on real models), or one that fails the way a platform
fault does. Documented shapes: ``POST /run`` → ``{"id", "status": "IN_QUEUE"}``; ``GET
/status/{id}`` → ``{"id", "status", "delayTime", "executionTime", "output" | "error"}`` (while
running, ``output`` is the last ``progress_update``); ``POST /cancel/{id}`` → ``{"id", "status":
"CANCELLED"}``; ``GET /health`` → ``{"jobs": {...}, "workers": {...}}``; 401 without the key;
404 for an unknown or expired job; the webhook gets the status object when the job ends.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

import requests
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.httpserver import serving

Worker = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class _Job:
    id: str
    input: Any
    webhook: Optional[str]
    timeout: Optional[float]
    created: float = field(default_factory=time.time)
    status: str = "IN_QUEUE"
    started: Optional[float] = None
    ended: Optional[float] = None
    output: Any = None
    error: Optional[str] = None

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.started is not None:
            out["delayTime"] = int((self.started - self.created) * 1000)
        if self.ended is not None and self.started is not None:
            out["executionTime"] = int((self.ended - self.started) * 1000)
        if self.output is not None:
            out["output"] = self.output
        if self.error is not None:
            out["error"] = self.error
        return out


class StandIn:
    """The queue: ``workers`` jobs at once, results kept ``retention`` seconds after they end."""

    FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")

    def __init__(self, worker: Worker, *, api_key: str = "stand-in-key", workers: int = 2,
                 retention: float = 1800.0, answer_delay: float = 0.0):
        self.worker, self.api_key, self.retention = worker, api_key, retention
        self.answer_delay = answer_delay  # seconds every answer waits (a slow network)
        self.jobs: dict[str, _Job] = {}
        self.inputs: list[Any] = []  # every input /run accepted, in order
        self.calls: list[str] = []  # "METHOD /path" of every request, authorised or not
        self.hooks: list[tuple[str, int]] = []  # (job id, HTTP status) of every webhook call made
        self.faults: deque = deque()  # (operation, HTTP status, Retry-After) answered next, in order
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stand-in-worker")
        self.app = self._app()

    # ------------------------------------------------------------------ the worker side

    def progress(self, job_id: str, update: Any) -> None:
        """What runpod's ``progress_update`` does on the platform: the running job's output."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is not None and job.status == "IN_PROGRESS":
                job.output = update

    def _work(self, job: _Job) -> None:
        with self.lock:
            if job.status != "IN_QUEUE":
                return  # cancelled in the queue
            job.status, job.started = "IN_PROGRESS", time.time()
        try:
            output = self.worker({"id": job.id, "input": job.input})
        except Exception as exc:  # the platform's report of a handler that raised
            output = {"error": '{"error_type": "%s", "error_message": "%s"}' % (type(exc).__name__, exc)}
        with self.lock:
            if job.status != "IN_PROGRESS":
                return  # cancelled or timed out meanwhile: the output is not delivered
            output = dict(output) if isinstance(output, dict) else {"value": output}
            error = output.pop("error", None)
            output.pop("refresh_worker", None)
            job.status = "FAILED" if error else "COMPLETED"
            job.output, job.error, job.ended = output or None, error, time.time()
        self._notify(job)

    def _watch(self, job: _Job) -> None:
        """TIMED_OUT once the job ran past its ``policy.executionTimeout``."""
        while job.status not in self.FINAL:
            time.sleep(0.1)
            with self.lock:
                if job.status == "IN_PROGRESS" and time.time() - job.started > job.timeout:
                    job.status, job.output, job.ended = "TIMED_OUT", None, time.time()
        self._notify(job)

    def _notify(self, job: _Job) -> None:
        if not job.webhook:
            return
        for _ in range(3):  # RunPod: "retries up to 2 more times with a 10-second delay" (1 s here)
            try:
                code = requests.post(job.webhook, json=job.view(), timeout=10).status_code
                self.hooks.append((job.id, code))
                if code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1.0)

    # ------------------------------------------------------------------ the HTTP side

    def _refuse(self, request: Request, operation: str) -> Optional[JSONResponse]:
        self.calls.append(f"{request.method} {request.url.path}")
        if self.answer_delay:
            time.sleep(self.answer_delay)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        with self.lock:
            if self.faults and self.faults[0][0] in (operation, "*"):
                _, status, retry_after = self.faults.popleft()
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                return JSONResponse({"error": f"HTTP {status}"}, status_code=status, headers=headers)
        return None

    def _find(self, job_id: str) -> Optional[_Job]:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is not None and job.ended is not None and time.time() - job.ended > self.retention:
                return None  # results are kept a fixed time after the job ends
            return job

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/run")
        def run(request: Request, body: dict):
            refused = self._refuse(request, "run")
            if refused is not None:
                return refused
            policy = body.get("policy") or {}
            timeout = policy.get("executionTimeout")
            job = _Job(f"{uuid.uuid4()}-u1", body.get("input"), body.get("webhook"),
                       timeout / 1000 if timeout else None)
            with self.lock:
                self.jobs[job.id] = job
                self.inputs.append(job.input)
            self.pool.submit(self._work, job)
            if job.timeout:
                threading.Thread(target=self._watch, args=(job,), daemon=True).start()
            return {"id": job.id, "status": "IN_QUEUE"}

        @app.get("/status/{job_id}")
        def status(request: Request, job_id: str):
            refused = self._refuse(request, "status")
            if refused is not None:
                return refused
            job = self._find(job_id)
            if job is None:
                return JSONResponse({"error": "request does not exist"}, status_code=404)
            with self.lock:
                return job.view()

        @app.post("/cancel/{job_id}")
        def cancel(request: Request, job_id: str):
            refused = self._refuse(request, "cancel")
            if refused is not None:
                return refused
            job = self._find(job_id)
            if job is None:
                return JSONResponse({"error": "request does not exist"}, status_code=404)
            with self.lock:
                if job.status not in self.FINAL:
                    job.status, job.output, job.ended = "CANCELLED", None, time.time()
            return {"id": job.id, "status": job.status}

        @app.get("/health")
        def health(request: Request):
            refused = self._refuse(request, "health")
            if refused is not None:
                return refused
            with self.lock:
                states = [j.status for j in self.jobs.values()]
            return {"jobs": {"completed": states.count("COMPLETED"), "failed": states.count("FAILED"),
                             "inProgress": states.count("IN_PROGRESS"), "inQueue": states.count("IN_QUEUE"),
                             "retried": 0},
                    "workers": {"idle": 0, "running": states.count("IN_PROGRESS")}}

        return app


@contextmanager
def stand_in(worker: Worker, **options) -> Iterator[tuple[str, StandIn]]:
    """The stand-in served on loopback until the block ends: (its base URL, the queue)."""
    queue = StandIn(worker, **options)
    try:
        with serving(queue.app) as url:
            yield url, queue
    finally:
        queue.pool.shutdown(wait=False, cancel_futures=True)
