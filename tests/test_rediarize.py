"""Rediarize a finished job, and known speakers on ``POST /v1/jobs``, over real HTTP: the
tests' shared tiny.en pipeline and embedded diarizer behind a real server, on the pyannote
sample. Nothing is mocked; how long rediarize takes is measured in bench/bench_speakers.py."""

from __future__ import annotations

import base64
import time

import requests

from tests.test_speakers import _reference_wavs


def _wait(server: str, job_id: str) -> dict:
    url = f"{server}/v1/jobs/{job_id}"
    deadline = time.monotonic() + 600
    while (view := requests.get(url, timeout=10).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, view
        time.sleep(0.5)
    return view


def _submit(server: str, sample, data=(), wait: bool = True) -> str:
    with sample.open("rb") as fh:
        answer = requests.post(f"{server}/v1/jobs", files={"file": fh},
                               data=[("language", "en"), *data], timeout=60)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    if wait:
        assert _wait(server, job_id)["status"] == "succeeded"
    return job_id


def _words(document: dict) -> list[tuple]:
    return [(w["word"], w["start"], w["end"]) for s in document["transcription"]["segments"] for w in s["words"]]


def _word_speakers(document: dict) -> list[str]:
    return [w["speaker"] for s in document["transcription"]["segments"] for w in s["words"]]


def _exports(server: str, job_id: str) -> dict[str, str]:
    return {fmt: requests.get(f"{server}/v1/jobs/{job_id}/result", params={"format": fmt}, timeout=30).text
            for fmt in ("srt", "vtt", "txt", "rttm")}


def test_rediarize_finds_speakers_again_words_unchanged_exports_follow(pipeline_tiny, testdata, tmp_path):
    from tests.httpserver import hearback_server

    sample = testdata / "diarization" / "pyannote-sample.wav"
    folder = tmp_path / "server"
    with hearback_server(pipeline_tiny, folder) as server:
        job_id = _submit(server, sample)
        url = f"{server}/v1/jobs/{job_id}"
        first = requests.get(f"{url}/result", timeout=10).json()
        assert first["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
        assert (folder / "audio" / "kept" / job_id / "diarization.npz").is_file()

        answer = requests.post(f"{url}/rediarize", json={"num_speakers": 1, "revision": 0}, timeout=60)
        assert answer.status_code == 200, answer.text
        one = answer.json()
        assert requests.get(f"{url}/result", timeout=10).json() == one and one["revision"] == 1
        assert one["speakers"] == ["SPEAKER_00"]
        assert _words(one) == _words(first)  # same words, same times: no recognition ran
        assert set(_word_speakers(one)) == {"SPEAKER_00"}
        assert {t["speaker"] for t in one["turns"]} == {"SPEAKER_00"}
        exports = _exports(server, job_id)
        assert "SPEAKER_01" not in "".join(exports.values())
        assert {line.split(":")[0] for line in exports["txt"].splitlines()} == {"SPEAKER_00"}
        assert {line.split()[7] for line in exports["rttm"].splitlines()} == {"SPEAKER_00"}

        two = requests.post(f"{url}/rediarize", json={"num_speakers": 2, "revision": 1}, timeout=60).json()
        assert two["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
        assert _words(two) == _words(first)
        # the same two speakers as the first run found on its own: same turns, same words' speakers
        assert two["turns"] == first["turns"]
        assert _word_speakers(two) == _word_speakers(first)
        exports = _exports(server, job_id)
        assert "<v SPEAKER_01>" in exports["vtt"] and "[SPEAKER_01]" in exports["srt"]
        assert {line.split(":")[0] for line in exports["txt"].splitlines()} == {"SPEAKER_00", "SPEAKER_01"}
        # the kept centroids follow: enrol-from-job sees the new speakers
        from hearback.jobs.store import JobStore

        assert set(JobStore(folder / "jobs.sqlite3").voices.kept(job_id)) == {"SPEAKER_00", "SPEAKER_01"}
        # no bounds: found on its own again
        assert requests.post(f"{url}/rediarize", json={"revision": 2}, timeout=60).json()["turns"] == first["turns"]

        for body, code in (({"num_speakers": 0}, "invalid_speaker_bounds"),
                           ({"min_speakers": 3, "max_speakers": 2}, "invalid_speaker_bounds"),
                           ({"speakers": 2}, "invalid_input")):
            answer = requests.post(f"{url}/rediarize", json={**body, "revision": 3}, timeout=30)
            assert answer.status_code == 400 and answer.json()["error"]["code"] == code, answer.text
        assert requests.post(f"{server}/v1/jobs/nope/rediarize", json={}, timeout=10).status_code == 404

        queued = _submit(server, sample, wait=False)
        answer = requests.post(f"{server}/v1/jobs/{queued}/rediarize", json={}, timeout=10)
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "job_not_done"
        plain = _submit(server, sample, data=[("diarize", "false")])
        answer = requests.post(f"{server}/v1/jobs/{plain}/rediarize", json={"revision": 0}, timeout=10)
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "diarization_not_kept"

        requests.delete(url, timeout=10)  # what rediarize needs goes with the job
        assert not (folder / "audio" / "kept" / job_id).exists()


def _data_urls(refs) -> list[tuple[str, str]]:
    """known_speaker_names[] / known_speaker_references[] form fields (as the openai SDK sends)."""
    fields = [("known_speaker_names[]", name) for name in refs]
    fields += [("known_speaker_references[]", f"data:audio/wav;base64,{base64.b64encode(p.read_bytes()).decode()}")
               for p in refs.values()]
    return fields


def test_jobs_take_known_speakers_that_survive_a_restart(pipeline_tiny, testdata, tmp_path):
    """A job queued with known speakers while the server stops runs after the restart with
    them; its references go when it ends; rediarize names the speakers again."""
    from hearback.audio.decode import decode
    from tests.httpserver import hearback_server

    sample = testdata / "diarization" / "pyannote-sample.wav"
    refs = _reference_wavs(testdata, decode(sample), tmp_path)
    folder = tmp_path / "server"
    with hearback_server(pipeline_tiny, folder) as server:
        busy = _submit(server, sample, wait=False)  # the one worker is busy with this one
        named = _submit(server, sample, data=_data_urls(refs), wait=False)
        assert requests.get(f"{server}/v1/jobs/{named}", timeout=10).json()["status"] == "queued"
    references = folder / "audio" / "kept" / named / "references"
    assert sorted(p.name for p in references.iterdir()) == ["0.audio", "1.audio", "request.json"]
    with hearback_server(pipeline_tiny, folder) as server:
        assert _wait(server, named)["status"] == "succeeded"
        url = f"{server}/v1/jobs/{named}"
        document = requests.get(f"{url}/result", timeout=10).json()
        assert set(document["speakers"]) == {"Diane", "Sheila"}
        assert {i["name"] for i in document["speaker_identities"]} == {"Diane", "Sheila"}
        assert not references.exists()  # gone once the job ended
        again = requests.post(f"{url}/rediarize", json={"num_speakers": 2, "revision": 0}, timeout=60).json()
        assert set(again["speakers"]) == {"Diane", "Sheila"}
        assert "[SPEAKER_" not in requests.get(f"{url}/result", params={"format": "srt"}, timeout=10).text
        _wait(server, busy)

        bad = _data_urls(refs)[:3]  # two names, one reference
        with sample.open("rb") as fh:
            answer = requests.post(f"{server}/v1/jobs", files={"file": fh}, data=bad, timeout=60)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_known_speakers"
        with sample.open("rb") as fh:
            answer = requests.post(f"{server}/v1/jobs", files={"file": fh}, timeout=60,
                                   data=[("known_speaker_names", "Diane"), ("known_speaker_references", "data:,%%")])
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_base64"
    leftovers = [p for p in (folder / "audio").iterdir() if p.is_file()]
    assert leftovers == []  # refused jobs left no upload behind


def test_use_library_and_library_speakers_choose_the_voices(pipeline_tiny, testdata, tmp_path):
    from hearback.audio.decode import decode
    from tests.httpserver import hearback_server

    sample = testdata / "diarization" / "pyannote-sample.wav"
    refs = _reference_wavs(testdata, decode(sample), tmp_path)
    with hearback_server(pipeline_tiny, tmp_path / "server", speaker_library=tmp_path / "voices.sqlite") as server:
        for name, path in refs.items():
            with path.open("rb") as fh:
                assert requests.post(f"{server}/v1/speakers", data={"name": name}, files=[("file", fh)],
                                     timeout=120).status_code == 201
        named = _submit(server, sample)
        skipped = _submit(server, sample, data=[("use_library", "false")])
        only_sheila = _submit(server, sample, data=[("library_speakers[]", "Sheila")])
        results = {job: requests.get(f"{server}/v1/jobs/{job}/result", timeout=10).json()
                   for job in (named, skipped, only_sheila)}
        assert set(results[named]["speakers"]) == {"Diane", "Sheila"}
        assert results[skipped]["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
        # Diane not chosen: she keeps the number of her place in the recording (speakers are
        # numbered in the order they are heard, then named)
        diane = f"SPEAKER_{results[named]['speakers'].index('Diane'):02d}"
        assert sorted(results[only_sheila]["speakers"]) == [diane, "Sheila"]
        # rediarize keeps the job's choice
        again = requests.post(f"{server}/v1/jobs/{skipped}/rediarize", json={"revision": 0}, timeout=60).json()
        assert again["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
        again = requests.post(f"{server}/v1/jobs/{only_sheila}/rediarize", json={"revision": 0}, timeout=60).json()
        assert sorted(again["speakers"]) == [diane, "Sheila"]
        with sample.open("rb") as fh:  # a voice the library does not have
            answer = requests.post(f"{server}/v1/jobs", files={"file": fh}, data={"library_speakers": "Alice"},
                                   timeout=60)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "unknown_speaker"
        assert [j["id"] for j in requests.get(f"{server}/v1/jobs", timeout=10).json()["data"]][0] == only_sheila
        for flag, speakers in (("false", {"SPEAKER_00", "SPEAKER_01"}), ("true", {"Diane", "Sheila"})):
            with sample.open("rb") as fh:
                answer = requests.post(f"{server}/v1/audio/transcriptions", files={"file": fh}, timeout=600,
                                       data={"response_format": "diarized_json", "use_library": flag})
            assert {s["speaker"] for s in answer.json()["segments"]} == speakers
        with sample.open("rb") as fh:
            answer = requests.post(f"{server}/v1/jobs", files={"file": fh}, data={"use_library": "maybe"},
                                   timeout=60)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_input"
