"""The RunPod endpoint as the compute backend: ``hearback serve`` with ``HEARBACK_BACKEND=runpod``
and ``hearback transcribe --endpoint`` send the GPU work to a RunPod serverless endpoint running
this project's worker, and keep everything else (the page, jobs, edits, the voice library,
rediarize's word assignment) on the small machine.

* :mod:`~hearback.remote.wire`: what the worker sends back beyond the document (speaker
  embeddings, diarization inputs, voiceprints, a rediarization) and the known voices it takes,
  versioned; the worker (:mod:`hearback.worker`) writes it, this side reads it;
* :mod:`~hearback.remote.client`: RunPod's queue API (``/run``, ``/status``, ``/cancel``,
  ``/health``) with retries and backoff, its statuses and HTTP errors mapped to stable codes;
* :mod:`~hearback.remote.transport`: how the audio reaches the worker (inline base64, an
  S3-compatible bucket's presigned URL, or a signed single-job URL of ``hearback serve``);
  :mod:`~hearback.remote.s3` and :mod:`~hearback.remote.signed` are the two URL kinds;
* :mod:`~hearback.remote.backend`: one transcription, enrolment or rediarization on the endpoint.

A package of its own, not a part of :mod:`hearback.jobs`: the CLI's ``--endpoint`` and the sync
HTTP route use it without any job store. May import the floor, the settings, :mod:`hearback.audio`,
:mod:`hearback.runtime`, :mod:`hearback.diarize.inputs` and :mod:`hearback.speakers` (voiceprints,
the library); never :mod:`hearback.jobs` or :mod:`hearback.api`, and no model library.
"""
