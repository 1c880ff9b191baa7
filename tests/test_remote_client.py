"""The RunPod client and the remote backend against what RunPod documents, for what
runpod-python's local server cannot show (see tests/runpod_standin.py): the key checked, 429s
with Retry-After, 5xx, slow answers, an expired result, a job that times out, a worker that dies,
a Hearback error code from the worker, cancels, /health, webhooks and progress updates.

The stand-in's worker here is a plain function that answers as a worker would (no model): these
tests are about the protocol. The project's real worker answers through the same stand-in in
tests/test_remote_jobs.py and through runpod's own local server in tests/test_remote_serve.py."""

from __future__ import annotations

import base64
import logging
import threading
import time

import pytest

from hearback.errors import Cancelled, ErrorCode, HearbackError
from hearback.remote import wire
from hearback.remote.backend import Request, RunPodBackend
from hearback.remote.client import Endpoint, RemoteStatus
from hearback.settings import Settings
from hearback.types import Options, Stage
from tests.runpod_standin import stand_in

KEY = "rp-test-key-5f2d1c"
EMPTY_DOCUMENT = {"transcription": {"text": "", "segments": []}, "speakers": [], "language": "en",
                  "languages": [], "language_probability": None, "duration": 1.0, "warnings": [], "turns": []}
VOICE = {"name": "Alice", "model": "m", "vector": [0.5, 0.25], "seconds": 3.0}


def answering(output=None, *, delay: float = 0.0):
    """A worker that waits ``delay`` seconds, then answers ``output`` (a transcription's by default)."""
    def work(job):
        time.sleep(delay)
        return dict(output) if output is not None else {**EMPTY_DOCUMENT, "extras": wire.task_extras()}
    return work


def settings(**values) -> Settings:
    return Settings(runpod_poll_interval=0.05, runpod_poll_max=0.2, **values)


def backend(url: str, sleeps: list | None = None, **values) -> RunPodBackend:
    record = sleeps.append if sleeps is not None else (lambda s: None)
    return RunPodBackend(settings(runpod_endpoint_url=url, runpod_api_key=KEY, **values),
                         Endpoint(url, KEY, timeout=values.pop("timeout", 5.0), sleep=record))


@pytest.fixture
def audio(tmp_path):
    path = tmp_path / "tiny.bin"
    path.write_bytes(b"\0" * 1000)  # the stand-in's workers here never decode it
    return path


def test_a_job_goes_and_comes_back_with_its_times(audio):
    with stand_in(answering(delay=0.3), api_key=KEY) as (url, queue):
        saved = []
        outcome = backend(url, runpod_price_per_second=0.00031).transcribe(
            audio, Request(Options()), job_id="j1", save=saved.append)
    assert [s.status for s in saved][:2] == ["submitting", "IN_QUEUE"] and saved[-1].status == "COMPLETED"
    assert saved[0].transport == "inline" and saved[1].id == outcome.state.id
    state = outcome.state
    assert state.execution_time >= 0.3 and state.delay_time is not None
    assert state.cost == pytest.approx(state.execution_time * 0.00031, abs=1e-6)
    [sent] = queue.inputs
    assert sent["use_library"] is False and set(sent["extras"]) == set(wire.EXTRAS) and "audio_base64" in sent


def test_a_wrong_key_is_endpoint_rejected(audio):
    with stand_in(answering(), api_key="another-key") as (url, queue):
        with pytest.raises(HearbackError) as error:
            backend(url).transcribe(audio, Request(Options()))
    assert error.value.code is ErrorCode.ENDPOINT_REJECTED and "RUNPOD_API_KEY" in error.value.message


def test_429_and_5xx_are_retried_with_backoff_and_retry_after(audio):
    sleeps: list[float] = []
    with stand_in(answering(), api_key=KEY) as (url, queue):
        queue.faults.extend([("run", 429, 7), ("run", 503, None), ("status", 429, None), ("status", 502, None)])
        outcome = backend(url, sleeps).transcribe(audio, Request(Options()))
    assert outcome.state.status == "COMPLETED" and len(queue.inputs) == 1  # sent once
    assert sleeps[0] >= 7  # RunPod's Retry-After is honoured
    assert len([s for s in sleeps if s < 7]) >= 3


def test_5xx_past_the_retries_is_endpoint_unavailable(audio):
    with stand_in(answering(), api_key=KEY) as (url, queue):
        queue.faults.extend([("status", 503, None)] * 6)
        with pytest.raises(HearbackError) as error:
            backend(url).transcribe(audio, Request(Options()))
        assert error.value.code is ErrorCode.ENDPOINT_UNAVAILABLE
        queue.faults.clear()
        queue.faults.append(("run", 500, None))  # may have been taken: never sent again
        with pytest.raises(HearbackError) as error:
            backend(url).transcribe(audio, Request(Options()))
    assert error.value.code is ErrorCode.ENDPOINT_UNAVAILABLE
    assert sum(call == "POST /run" for call in queue.calls) == 2


def test_a_slow_network_is_waited_for_and_a_dead_one_reported(audio, tmp_path):
    with stand_in(answering(), api_key=KEY, answer_delay=0.3) as (url, queue):
        assert backend(url, timeout=2.0).transcribe(audio, Request(Options())).state.status == "COMPLETED"
        queue.answer_delay = 1.5
        with pytest.raises(HearbackError) as error:  # /run's answer never came: not sent again
            backend(url, timeout=0.5).transcribe(audio, Request(Options()))
        assert error.value.code is ErrorCode.ENDPOINT_UNAVAILABLE
        assert sum(call == "POST /run" for call in queue.calls) == 2
    with pytest.raises(HearbackError) as error:  # nothing listens there any more
        backend(url).transcribe(audio, Request(Options()))
    assert error.value.code is ErrorCode.ENDPOINT_UNAVAILABLE


def test_an_expired_result_is_remote_result_lost():
    with stand_in(answering(), api_key=KEY, retention=0.2) as (url, queue):
        endpoint = Endpoint(url, KEY)
        job_id = endpoint.run({"task": "enrol"})
        while not endpoint.status(job_id).final:
            time.sleep(0.05)
        time.sleep(0.5)
        with pytest.raises(HearbackError) as error:
            endpoint.status(job_id)
    assert error.value.code is ErrorCode.REMOTE_RESULT_LOST and "submit it again" in error.value.message


def test_a_job_past_its_execution_timeout_is_remote_timed_out(audio):
    with stand_in(answering(delay=3), api_key=KEY) as (url, queue):
        with pytest.raises(HearbackError) as error:
            backend(url, runpod_execution_timeout=0.5).transcribe(audio, Request(Options()))
        assert queue.inputs and list(queue.jobs.values())[0].status == "TIMED_OUT"
    assert error.value.code is ErrorCode.REMOTE_TIMED_OUT


def test_a_worker_that_dies_is_remote_failed_and_a_hearback_code_is_kept(audio):
    def dies(job):
        raise RuntimeError("worker exited with code 137")

    with stand_in(dies, api_key=KEY) as (url, _):
        with pytest.raises(HearbackError) as error:
            backend(url).transcribe(audio, Request(Options()))
    assert error.value.code is ErrorCode.REMOTE_FAILED and "exited with code 137" in error.value.message
    refused = {"error": "invalid_audio: the file is not audio", "error_code": "invalid_audio"}
    with stand_in(answering(refused), api_key=KEY) as (url, _):
        with pytest.raises(HearbackError) as error:
            backend(url).transcribe(audio, Request(Options()))
    assert error.value.code is ErrorCode.INVALID_AUDIO and error.value.message == "the file is not audio"


def test_a_cancel_reaches_the_endpoint(audio):
    cancelled = threading.Event()
    with stand_in(answering(delay=5), api_key=KEY) as (url, queue):
        threading.Timer(0.5, cancelled.set).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            backend(url).transcribe(audio, Request(Options()), cancelled=cancelled)
        assert time.monotonic() - started < 2.5
        [job] = queue.jobs.values()
        assert job.status == "CANCELLED" and f"POST /cancel/{job.id}" in queue.calls


def test_progress_updates_are_the_jobs_stages(audio):
    def reports(job):
        for stage, fraction in (("decode", 1.0), ("transcribe", 0.5), ("diarize", 0.25)):
            queue.progress(job["id"], {"stage": stage, "progress": fraction})
            time.sleep(0.4)
        return {**EMPTY_DOCUMENT, "extras": wire.task_extras()}

    seen = []
    with stand_in(reports, api_key=KEY) as (url, queue):
        backend(url).transcribe(audio, Request(Options()), progress=lambda s, f: seen.append((s, f)))
    assert [s for s in dict.fromkeys(seen)] == [(Stage.DECODE, 1.0), (Stage.TRANSCRIBE, 0.5), (Stage.DIARIZE, 0.25)]


def test_a_webhook_wakes_the_follower_at_once(audio):
    from fastapi import FastAPI

    from tests.httpserver import serving

    receiver = FastAPI()
    hooks = []

    @receiver.post("/hook")
    def hook(body: dict):
        hooks.append(body)
        remote.wake(body["id"])
        return {}

    with stand_in(answering(delay=1.0), api_key=KEY) as (url, queue), serving(receiver) as hook_url:
        remote = RunPodBackend(Settings(runpod_endpoint_url=url, runpod_api_key=KEY, runpod_poll_interval=30,
                                        runpod_poll_max=30), webhook=lambda job_id: f"{hook_url}/hook")
        started = time.monotonic()
        outcome = remote.transcribe(audio, Request(Options()), job_id="j-hook")
        took = time.monotonic() - started
    assert outcome.state.status == "COMPLETED" and hooks[0]["status"] == "COMPLETED"
    assert took < 10, took  # polling alone would have waited 30 s
    assert queue.jobs[outcome.state.id].webhook == f"{hook_url}/hook"


def test_enrol_and_health(tmp_path):
    reference = tmp_path / "alice.wav"
    reference.write_bytes(b"RIFF")
    with stand_in(answering({"extras": wire.task_extras(voiceprints=[VOICE])}), api_key=KEY) as (url, queue):
        voice = backend(url).enrol("Alice", [reference])
        assert (voice.name, voice.model, voice.vector) == ("Alice", "m", (0.5, 0.25))
        assert queue.inputs[0]["task"] == "enrol"
        health = backend(url).health()
        assert health["reachable"] and health["jobs"]["completed"] == 1 and "workers" in health
        assert backend(url).endpoint.__class__(url, "wrong").health() == {"reachable": True,
                                                                          "error": "endpoint_rejected"}
    assert Endpoint(url, KEY, retries=0).health() == {"reachable": False, "error": "endpoint_unavailable"}


def test_an_answer_of_another_version_is_endpoint_incompatible(audio):
    with stand_in(answering({**EMPTY_DOCUMENT, "extras": {"version": 99}}), api_key=KEY) as (url, _):
        with pytest.raises(HearbackError) as error:
            backend(url).transcribe(audio, Request(Options()))
    assert error.value.code is ErrorCode.ENDPOINT_INCOMPATIBLE


def test_the_key_is_never_in_a_url_or_the_log(audio, caplog):
    caplog.set_level(logging.DEBUG)
    with stand_in(answering(), api_key=KEY) as (url, queue):
        remote = backend(url)
        remote.transcribe(audio, Request(Options()))
        assert KEY not in repr(remote.endpoint) and KEY not in repr(remote.settings)
    assert all(KEY not in call for call in queue.calls)
    assert KEY not in caplog.text and queue.calls


def test_status_names_are_runpods():
    assert {s.value for s in RemoteStatus} == {"IN_QUEUE", "IN_PROGRESS", "RUNNING", "COMPLETED", "FAILED",
                                               "CANCELLED", "TIMED_OUT"}


def test_signed_urls_open_one_job_until_they_expire(tmp_path):
    import os as _os

    from hearback.remote.signed import AUDIO, KEY_FILE, WEBHOOK, Signer

    signer = Signer.in_folder(tmp_path)
    assert _os.stat(tmp_path / KEY_FILE).st_mode & 0o777 == 0o600
    query = dict(part.split("=") for part in signer.query(AUDIO, "job-a", 60).split("&"))
    assert signer.check(AUDIO, "job-a", query["expires"], query["sig"])
    assert Signer.in_folder(tmp_path).check(AUDIO, "job-a", query["expires"], query["sig"])  # a restart
    assert not signer.check(AUDIO, "job-b", query["expires"], query["sig"])  # another job
    assert not signer.check(WEBHOOK, "job-a", query["expires"], query["sig"])  # another purpose
    assert not signer.check(AUDIO, "job-a", str(int(query["expires"]) + 1), query["sig"])  # a longer life
    assert not signer.check(AUDIO, "job-a", "soon", query["sig"])
    old = dict(part.split("=") for part in signer.query(AUDIO, "job-a", -1).split("&"))
    assert not signer.check(AUDIO, "job-a", old["expires"], old["sig"])  # expired
    assert not Signer(b"another secret").check(AUDIO, "job-a", query["expires"], query["sig"])


def test_the_audio_goes_the_first_way_that_works(testdata):
    from hearback.remote import transport

    clip = testdata / "asr" / "misc" / "jfk-en.flac"
    size = clip.stat().st_size
    with transport.staged(clip, transport.b64_size(size)) as staged:
        assert staged.kind == "inline" and staged.size == size
    with transport.staged(clip, 100_000, served=lambda: "https://box.example/v1/remote/audio/j?sig=x") as staged:
        assert staged.kind == "served" and staged.fields == {"audio_url": "https://box.example/v1/remote/audio/j?sig=x"}
    with transport.staged(clip, 100_000) as staged:  # no URL way: compact Opus, inline
        assert staged.kind == "compact" and staged.size < 60_000
        assert base64.b64decode(staged.fields["audio_base64"])[:4] == b"OggS"
    with pytest.raises(HearbackError) as error:
        with transport.staged(clip, 10_000):
            pass
    assert error.value.code is ErrorCode.NO_AUDIO_TRANSPORT and "HEARBACK_PUBLIC_URL" in error.value.message


def test_a_job_cancelled_on_the_endpoint_is_remote_cancelled(audio):
    with stand_in(answering(delay=3), api_key=KEY) as (url, queue):
        def cancel_there():
            while not queue.jobs:
                time.sleep(0.05)
            Endpoint(url, KEY).cancel(next(iter(queue.jobs)))  # from RunPod's console, say

        threading.Thread(target=cancel_there, daemon=True).start()
        with pytest.raises(HearbackError) as error:
            backend(url).transcribe(audio, Request(Options()))
    assert error.value.code is ErrorCode.REMOTE_CANCELLED


def test_a_recording_given_with_the_job_wins_over_the_library_voice_of_that_name(tmp_path):
    from hearback.remote.backend import job_input
    from hearback.speakers.voiceprint import Voiceprint

    reference = tmp_path / "alice.wav"
    reference.write_bytes(b"RIFF....")
    library = (Voiceprint("Alice", "m", (1.0, 0.0), 3.0), Voiceprint("Bob", "m", (0.0, 1.0), 3.0))
    sent = job_input(Request(Options(), (("Alice", reference),), library))
    assert [s["name"] for s in sent["known_speakers"]] == ["Alice"]
    assert [v["name"] for v in sent["known_voices"]] == ["Bob"] and sent["use_library"] is False
    assert "known_voices" not in job_input(Request(Options(diarize=False), (), library))


def test_the_public_address_is_served_and_the_signed_routes_need_no_key(tmp_path):
    """A runpod-backend server loads no model, so it starts here at once; its public host passes
    the Host guard (RunPod calls it), and its signed routes answer 404 to a bad signature, not 401."""
    import httpx

    from tests.httpserver import hearback_server

    with hearback_server(None, tmp_path, hearback_backend="runpod", runpod_endpoint_url="http://127.0.0.1:9",
                         hearback_public_url="https://box.example", hearback_api_key="server-key") as server:
        headers = {"Host": "box.example"}
        audio = httpx.get(f"{server}/v1/remote/audio/{'0' * 32}?expires=9999999999&sig=00", headers=headers)
        assert audio.status_code == 404 and audio.json()["error"]["code"] == "not_found"
        hook = httpx.post(f"{server}/v1/remote/webhook/{'0' * 32}", headers=headers, json={})
        assert hook.status_code == 404
        assert httpx.get(f"{server}/v1/jobs", headers=headers).status_code == 401  # the key, as ever
        assert httpx.get(f"{server}/v1/jobs", headers={"Host": "elsewhere.example"}).json()["error"]["code"] == \
            "invalid_host"
        health = httpx.get(f"{server}/health", timeout=30).json()
        assert health["backend"] == "runpod" and health["endpoint"] == {"reachable": False,
                                                                       "error": "endpoint_unavailable"}
