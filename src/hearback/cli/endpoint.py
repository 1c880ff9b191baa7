"""``hearback transcribe --endpoint URL``: the files go to a RunPod endpoint running this
project's worker (``RUNPOD_API_KEY`` or ``RUNPOD_API_KEY_FILE``) instead of models loaded here,
and come back as the same outputs. A file too large for one request goes through the bucket
``S3_BUCKET`` when one is set, else as compact Opus (``hearback.remote.transport``; the CLI has
no public URL). ``--speaker NAME=FILE`` references go with each job (a person given several
files is enrolled on the endpoint first); the library's voices go as embeddings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Sequence

from ..types import Options, ProgressHook, Result

logger = logging.getLogger(__name__)

Transcriber = Callable[[Path, ProgressHook], Result]


def endpoint_transcriber(url: str, options: Options, speakers: Sequence[str], no_library: bool,
                         settings) -> Transcriber:
    """A function transcribing one file on the endpoint at ``url`` with ``options``."""
    from ..remote.backend import Request, RunPodBackend
    from ..remote.s3 import Bucket
    from ..speakers.library import voices_for
    from ..speakers.references import speaker_files

    settings = settings.model_copy(update={"runpod_endpoint_url": url})
    backend = RunPodBackend(settings, bucket=Bucket(settings) if settings.s3_bucket else None)
    files = speaker_files(speakers)
    references, enrolled = [], []
    if options.diarize:
        for name, paths in files.items():
            if len(paths) == 1:
                references.append((name, paths[0]))
            else:
                enrolled.append(backend.enrol(name, paths))
    voices = voices_for(settings, enrolled, not no_library) if options.diarize else ()
    request = Request(options, tuple(references), voices)  # a reference's name wins there (job_input)

    def transcribe(path: Path, progress: ProgressHook) -> Result:
        return backend.transcribe(path, request, progress=progress).result

    return transcribe
