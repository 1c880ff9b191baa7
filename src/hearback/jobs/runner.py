"""The job runner: a bounded pool of worker threads that runs queued jobs from the
:class:`~hearback.jobs.JobStore`, cancels deleted ones, recovers after a restart and sweeps
ended jobs past their retention (``hearback.jobs`` says what a job is and keeps)."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Optional

from ..audio.fetch import fetched_audio
from ..errors import Cancelled, ErrorCode, HearbackError, as_error
from ..runtime.progress import throttled
from ..types import Options, Result, Stage
from . import playback, voices
from .compute import Compute, LocalCompute
from .kept_speakers import keep_for_rediarize, kept_speakers
from .store import KEPT, Change, Job, JobStatus, JobStore, Revised

logger = logging.getLogger(__name__)


class JobRunner:
    """Runs jobs from the store on ``workers`` threads; the rest wait in the pool's queue.

    A job deleted while it runs is cancelled: its download stops at once, the pipeline at its
    next progress report. Jobs that ended are deleted ``retention`` seconds later (0: never).
    A succeeded job keeps its audio for playback ``audio_retention`` seconds (0: not at all,
    ``math.inf``: as long as the job). ``compute`` is where transcriptions run
    (``hearback.jobs.compute``; by default ``pipeline``, here).
    """

    def __init__(self, store: JobStore, pipeline, settings, workers: int = 1, *,
                 data_dir: Optional[Path] = None, retention: float = 0.0, audio_retention: float = 0.0,
                 compute: Optional[Compute] = None):
        self.store, self.pipeline, self.settings = store, pipeline, settings
        self.compute = compute or LocalCompute(pipeline, settings)
        self.data_dir, self.retention, self.audio_retention = data_dir, retention, audio_retention
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hearback-job")
        self._cancels: dict[str, threading.Event] = {}
        self._stopping = threading.Event()

    def recover(self) -> None:
        """After a restart: resume what can be resumed, fail the rest with a reason, remove
        uploads no job owns (a crash mid-upload), start the retention sweep."""
        for job in self.store.with_status(JobStatus.RUNNING):
            if job.audio_url or (job.audio_path and job.audio_path.is_file()):
                logger.info("job %s was running when the server stopped: queued again", job.id)
                self.store.queue(job.id)
            else:
                self.store.fail(job.id, HearbackError(
                    ErrorCode.INTERNAL_ERROR, "the server stopped while the job ran and its audio is gone"))
        self._remove_orphan_uploads()
        for job in self.store.with_status(JobStatus.QUEUED):
            self.submit(job.id)
        if self._sweep_every() is not None:
            threading.Thread(target=self._sweep, name="hearback-retention", daemon=True).start()

    def submit(self, job_id: str) -> None:
        self._cancels[job_id] = threading.Event()
        self.pool.submit(self._run, job_id)

    def kept_folder(self, job_id: str) -> Optional[Path]:
        """What a finished job keeps beside its row (e.g. audio for playback), removed with it."""
        return self.data_dir / KEPT / job_id if self.data_dir is not None else None

    def playback_audio(self, job_id: str) -> Optional[Path]:
        """The job's audio kept for playback (``playback``), None when none is kept."""
        folder = self.kept_folder(job_id)
        return playback.kept_audio(folder) if folder is not None else None

    def rediarize(self, job_id: str, bounds: Options, revision: Optional[int] = None) -> Revised:
        """A finished job's speakers found again with ``bounds`` (its speaker counts), from what
        its diarization kept (clustering only: no audio, no speech recognition), its words
        given to them again and known voices matched again, as the job chose them; stored as
        one change (made against ``revision``: ``JobStore.change_result``), the kept speaker
        embeddings replaced by the new speakers'."""
        from ..diarize.inputs import load_inputs
        from ..speakers.rediarize import reassigned

        folder = self.kept_folder(job_id)
        inputs = load_inputs(folder) if folder is not None else None
        if inputs is None:
            raise HearbackError(ErrorCode.DIARIZATION_NOT_KEPT,
                                "this job kept no diarization to start from (diarize was off, it heard "
                                "no speech, or it ran before rediarize existed): submit it again")
        self.pipeline.check(Options(diarize=True))  # model_unavailable without a diarizer here
        found = self.pipeline.diarizer.rediarize(inputs, num_speakers=bounds.num_speakers,
                                                 min_speakers=bounds.min_speakers, max_speakers=bounds.max_speakers)
        known = kept_speakers(folder).voices(self.settings)

        def change(stored: Result) -> Change:
            result = reassigned(stored, found, known)
            return Change(result, voices=voices.of(result.diarization))

        return self.store.change_result(job_id, change, revision=revision)

    def forget(self, job_id: str) -> None:
        """Delete a job and everything kept for it: its row with its undo steps and speakers'
        embeddings (``JobStore.delete``), its kept folder. A running job is cancelled and removes its own upload when it ends."""
        self.cancel(job_id)
        self.store.delete(job_id)
        folder = self.kept_folder(job_id)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def cancel(self, job_id: str) -> None:
        """Stop a job's work (it is being deleted)."""
        event = self._cancels.get(job_id)
        if event is not None:
            event.set()

    def shutdown(self) -> None:
        self._stopping.set()
        for event in list(self._cancels.values()):
            event.set()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job_id: str) -> None:
        cancelled = self._cancels.get(job_id) or threading.Event()
        job = self.store.get(job_id)
        try:
            if job is None or job.status != JobStatus.QUEUED or cancelled.is_set():
                return  # deleted meanwhile
            self.store.start(job)
            self._transcribe(job, cancelled)
        except Cancelled:
            logger.info("job %s cancelled", job_id)
        except Exception as exc:
            self.store.fail(job_id, as_error(exc, f"job {job_id}"))
        finally:
            self._cancels.pop(job_id, None)
            if job is not None:
                job.remove_upload()

    def _transcribe(self, job: Job, cancelled: threading.Event) -> None:
        report = throttled(lambda stage, fraction: self.store.progress(job.id, stage, fraction),
                           min_seconds=0.5)

        def progress(stage: Stage, fraction: float) -> None:
            if cancelled.is_set():
                raise Cancelled(f"job {job.id} was deleted")
            report(stage, fraction)

        source = (nullcontext(job.audio_path) if job.audio_path
                  else fetched_audio(self.settings, url=job.audio_url, progress=progress,
                                     cancelled=cancelled))
        kept = self.kept_folder(job.id)  # known speakers sent with the job; what rediarize needs
        folder = kept if self.audio_retention > 0 else None  # the playback copy goes there too
        with source as path, playback.copying(path, folder) as copy:
            result, speakers = self.compute.transcribe(job, path, kept, progress, cancelled)
            if copy is not None:
                copy.finish(result.duration)  # best effort: logged if not kept
        if cancelled.is_set():
            if kept is not None:
                shutil.rmtree(kept, ignore_errors=True)  # deleted meanwhile: keep nothing
            raise Cancelled(f"job {job.id} was deleted")
        # all it keeps is written before it turns succeeded, so a rediarize or "this voice is"
        # sent the moment it has finished finds it
        keep_for_rediarize(kept, result.diarization, speakers)
        self.store.succeed(job.id, result)  # with its speakers' embeddings (enrol from the job)

    def _remove_orphan_uploads(self) -> None:
        """Uploads no queued or running job owns, and kept folders of jobs that are gone."""
        if self.data_dir is None or not self.data_dir.is_dir():
            return
        owned = self.store.uploads()
        orphans = [p for p in self.data_dir.iterdir() if p.is_file() and p not in owned]
        for path in orphans:
            path.unlink(missing_ok=True)
        kept = self.data_dir / KEPT
        jobs = self.store.ids()
        gone = [p for p in kept.iterdir() if p.name not in jobs] if kept.is_dir() else []
        for folder in gone:
            shutil.rmtree(folder, ignore_errors=True)
        playback.remove_partial(kept)  # a transcode a crash cut short
        if orphans or gone:
            logger.info("removed %d upload(s) and %d kept folder(s) no job owns", len(orphans), len(gone))

    def _sweep_every(self) -> Optional[float]:
        """Seconds between retention sweeps: a few per period; None when nothing expires."""
        periods = [p for p in (self.retention, self.audio_retention) if 0 < p < float("inf")]
        return max(1.0, min(3600.0, min(periods) / 4)) if periods else None

    def _sweep(self) -> None:
        """Delete ended jobs past the retention time, and playback audio past its own."""
        while not self._stopping.wait(self._sweep_every()):
            try:
                removed = self.purge_expired() if self.retention > 0 else []
                audio = self.purge_expired_audio()
            except (sqlite3.Error, OSError):
                logger.exception("retention sweep failed")
                continue
            if removed or audio:
                logger.info("retention: deleted %d ended job(s), %d playback audio file(s)", len(removed), audio)

    def purge_expired_audio(self) -> int:
        """Delete playback audio kept longer than ``audio_retention``; how many files."""
        if self.data_dir is None or not 0 < self.audio_retention < float("inf"):
            return 0
        return playback.remove_expired(self.data_dir / KEPT, time.time() - self.audio_retention)

    def purge_expired(self) -> list[str]:
        """Forget the jobs that ended more than ``retention`` seconds ago; their ids."""
        removed = self.store.purge(time.time() - self.retention)
        for job_id in removed:
            self.forget(job_id)
        return removed
