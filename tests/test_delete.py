"""Issue 24, data safety 7: delete means gone, over real HTTP. Every file of the data folder
(the jobs database and its -wal and -shm, the library, the kept folders, uploads) is searched
for a deleted job's id and for a word only it held, while the server runs and after a clean
stop; a removed library voice's vector is nowhere either, and no job's kept voice (nor an undo)
gives it back under another name. Real models (tiny.en + embedded diarization), real audio."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np

from tests.httpserver import hearback_server, wait_for_job

WORD = "Quetzalcoatlus"


def found(folder: Path, needle: bytes) -> list[str]:
    """The files and folders under ``folder`` holding ``needle``, in their bytes or their name."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if needle.decode("latin-1") in p.name or (p.is_file() and needle in p.read_bytes()))


def submit(url: str, path) -> str:
    with path.open("rb") as fh:
        job_id = httpx.post(f"{url}/v1/jobs", files={"file": fh}, data={"language": "en"}, timeout=60).json()["id"]
    assert wait_for_job(url, job_id)["status"] == "succeeded"
    return job_id


def change(url: str, job_id: str, route: str, body: dict, method: str = "POST") -> dict:
    revision = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()["revision"]
    answer = httpx.request(method, f"{url}/v1/jobs/{job_id}/{route}", json={**body, "revision": revision}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_deleted_job_leaves_no_trace_in_the_data_folder(pipeline_tiny, testdata, tmp_path):
    sample = testdata / "diarization" / "pyannote-sample.wav"
    with hearback_server(pipeline_tiny, tmp_path) as url:
        job_id, other = submit(url, sample), submit(url, sample)
        change(url, job_id, "edits", {"ops": [{"op": "edit", "segment": 0, "text": f"{WORD} says hello"}]})
        change(url, job_id, "edits", {"ops": [{"op": "rename", "speaker": "SPEAKER_00", "name": f"{WORD} Jones"}]})
        change(url, job_id, "undo", {})
        change(url, job_id, "edits", {"ops": [{"op": "edit", "segment": 1, "text": f"again {WORD}"}]})
        assert found(tmp_path, job_id.encode()) and found(tmp_path, WORD.encode())  # the search finds them
        assert httpx.delete(f"{url}/v1/jobs/{job_id}", timeout=30).json()["deleted"]
        assert found(tmp_path, job_id.encode()) == [] and found(tmp_path, WORD.encode()) == []
        assert httpx.get(f"{url}/v1/jobs/{other}/result", timeout=10).status_code == 200  # the rest is whole
    assert found(tmp_path, job_id.encode()) == [] and found(tmp_path, WORD.encode()) == []  # after a clean stop
    assert found(tmp_path, other.encode())


def test_a_removed_voice_is_gone_from_the_library_and_from_every_job(pipeline_tiny, testdata, tmp_path):
    from hearback.speakers.library import Library

    sample = testdata / "diarization" / "pyannote-sample.wav"
    library = tmp_path / "voices.sqlite"
    with hearback_server(pipeline_tiny, tmp_path / "server", speaker_library=library) as url:
        first = submit(url, sample)
        enrolled = httpx.post(f"{url}/v1/speakers", data={"name": "Alice", "job_id": first, "speaker": "SPEAKER_00"},
                              timeout=30)
        assert enrolled.status_code == 201, enrolled.text
        vector = np.asarray(Library(library).entries()[0].voice.vector, dtype=np.float32).tobytes()
        second = submit(url, sample)  # the library names Alice in it
        assert "Alice" in httpx.get(f"{url}/v1/jobs/{second}/result", timeout=10).json()["speakers"]
        change(url, first, "edits", {"ops": [{"op": "rename", "speaker": "SPEAKER_01", "name": "Bea"}]})
        assert found(tmp_path, vector)  # in the library and as the first job's kept voice

        assert httpx.delete(f"{url}/v1/speakers/Alice", timeout=30).json()["deleted"]
        assert found(tmp_path, vector) == []
        for job_id, speaker in ((first, "SPEAKER_00"), (second, "Alice")):
            answer = httpx.post(f"{url}/v1/speakers", data={"name": "Mallory", "job_id": job_id, "speaker": speaker},
                                timeout=30)
            assert answer.json()["error"]["code"] == "unknown_speaker", (job_id, answer.text)
        change(url, first, "undo", {})  # an undo step kept the voices as they were: not Alice's any more
        answer = httpx.post(f"{url}/v1/speakers", data={"name": "Mallory", "job_id": first, "speaker": "SPEAKER_00"},
                            timeout=30)
        assert answer.json()["error"]["code"] == "unknown_speaker", answer.text
        assert httpx.post(f"{url}/v1/speakers", timeout=30, data={  # the other speaker's voice is kept
            "name": "Bea", "job_id": first, "speaker": "SPEAKER_01"}).status_code == 201
    assert found(tmp_path, vector) == []
