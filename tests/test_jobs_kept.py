"""What a job keeps beside its result, and for how long: the playback copy (made, refused, expired,
not kept at all), the undo steps (capped, and an older database opened), file names shown safely."""

from __future__ import annotations

import sqlite3
import time

import httpx
import pytest

from tests.httpserver import hearback_server, wait_for_job


def test_audio_retention_zero_keeps_no_audio(pipeline_tiny, testdata, tmp_path):
    with hearback_server(pipeline_tiny, tmp_path, hearback_audio_retention=0) as url:
        with (testdata / "diarization" / "pyannote-sample.wav").open("rb") as fh:
            job_id = httpx.post(f"{url}/v1/jobs", files={"file": fh}, data={"language": "en"}, timeout=60).json()["id"]
        job = wait_for_job(url, job_id)
        assert job["status"] == "succeeded" and job["audio"] is False
        answer = httpx.get(f"{url}/v1/jobs/{job_id}/audio", timeout=10)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
        assert not (tmp_path / "audio" / "kept" / job_id / "audio.ogg").exists()  # (rediarize keeps its own)


def test_playback_audio_expires_before_its_job(tmp_path):
    """Store-level: the sweep removes audio past HEARBACK_AUDIO_RETENTION, the job stays."""
    import os
    from types import SimpleNamespace

    from hearback.jobs.runner import JobRunner
    from hearback.jobs.store import JobStore
    from hearback.types import Options, Result

    db = tmp_path / "jobs.sqlite3"
    runner = JobRunner(JobStore(db), None, SimpleNamespace(hearback_db=db), data_dir=tmp_path / "data",
                       retention=3600, audio_retention=60)
    try:
        ids = []
        for age in (120, 0):
            job = runner.store.add(Options(), audio_path=None, audio_url="https://example.com/a.mp3")
            runner.store.succeed(job.id, Result((), "en", 1.0, ()))
            runner.kept_folder(job.id).mkdir(parents=True)
            audio = runner.kept_folder(job.id) / "audio.ogg"
            audio.write_bytes(b"OggS")
            os.utime(audio, (time.time() - age, time.time() - age))
            ids.append(job.id)
        assert runner.purge_expired_audio() == 1 and runner.purge_expired() == []
        assert runner.playback_audio(ids[0]) is None and runner.store.get(ids[0]) is not None
        assert runner.playback_audio(ids[1]) is not None
    finally:
        runner.shutdown()


def test_history_is_capped_and_an_older_database_opens(tmp_path):
    """At most history.MAX_STEPS undo steps per job; a jobs table from before this version
    gains the new columns when opened."""
    from hearback.jobs import undo as history
    from hearback.jobs.store import JobStore
    from hearback.types import Options, Result, Segment

    db = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(db) as old:  # the table as 0.2 made it
        old.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at REAL NOT NULL, "
                    "updated_at REAL NOT NULL, options TEXT NOT NULL, audio_path TEXT, audio_url TEXT, "
                    "stage TEXT, progress REAL NOT NULL DEFAULT 0, error_code TEXT, error TEXT, results TEXT)")
    store = JobStore(db)
    job = store.add(Options(), audio_path=None, audio_url="https://example.com/a.mp3", filename="a.mp3")
    store.succeed(job.id, Result((Segment(0.0, 1.0, "step 0"),), "en", 2.0))
    for step in range(1, history.MAX_STEPS + 6):
        store.update_result(job.id, Result((Segment(0.0, 1.0, f"step {step}"),), "en", 2.0))
    assert store.get(job.id).undo_steps == history.MAX_STEPS  # what can be undone
    assert store.get(job.id).revision == history.MAX_STEPS + 5  # every change a revision
    texts = []
    while (undone := store.undo(job.id)) is not None:
        texts.append(undone.result.segments[0].text)
    assert texts == [f"step {n}" for n in range(history.MAX_STEPS + 4, 4, -1)]
    assert store.get(job.id).undo_steps == 0 and store.get(job.id).filename == "a.mp3"
    assert store.get(job.id).revision == 2 * history.MAX_STEPS + 5  # undos too: never twice the same


def test_a_failed_playback_copy_leaves_nothing(tmp_path, monkeypatch, testdata):
    """ffmpeg refusing the file, or no ffmpeg at all: finish() is False, no file or folder stays
    (the job itself succeeds: JobRunner only logs it)."""
    from hearback.jobs.playback import Transcode

    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"not audio" * 100)
    assert Transcode(not_audio, tmp_path / "kept" / "a").finish(1.0) is False
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert Transcode(testdata / "diarization" / "pyannote-sample.wav", tmp_path / "kept" / "b").finish(30.0) is False
    assert list((tmp_path / "kept").iterdir()) == []


@pytest.mark.parametrize("given, shown", [
    ("meeting.m4a", "meeting.m4a"), ("C:\\Users\\ann\\Réunion 3.mp3", "Réunion 3.mp3"),
    ("/etc/../interview\x00\n.wav", "interview.wav"), ("", None), ("dir/", None), ("x" * 300, "x" * 200),
])
def test_file_names_are_shown_safely(given, shown):
    from hearback.api.jobs import display_name

    assert display_name(given) == shown

