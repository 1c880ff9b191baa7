"""Issue 24, data safety 1: every change names the revision it was made against, over real HTTP.
A stale edit is refused (409 ``stale_revision``) and changes nothing; a missing revision is 400
``missing_revision``; revisions never repeat (undo makes a new one) and survive a restart; the
four changes answer the document with the revision it made; two clients racing never change a
sentence neither of them meant. Real models (tiny.en + embedded diarization) on the pyannote
sample."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.httpserver import hearback_server, wait_for_job


@pytest.fixture(scope="module")
def sample(testdata):
    return testdata / "diarization" / "pyannote-sample.wav"


def _job(url: str, sample) -> str:
    with sample.open("rb") as fh:
        job_id = httpx.post(f"{url}/v1/jobs", files={"file": fh}, data={"language": "en"}, timeout=60).json()["id"]
    assert wait_for_job(url, job_id)["status"] == "succeeded"
    return job_id


def _texts(document: dict) -> list[str]:
    return [s["text"] for s in document["transcription"]["segments"]]


def _error(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]["code"]


def test_a_stale_edit_is_refused_and_lands_nowhere(pipeline_tiny, sample, tmp_path):
    """The issue's two tabs: A empties segment 1, B (still on the old view) fixes segment 3."""
    with hearback_server(pipeline_tiny, tmp_path) as url:
        job_id = _job(url, sample)
        edits = f"{url}/v1/jobs/{job_id}/edits"
        seen = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json()  # both tabs' view
        assert seen["revision"] == 0 and httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()["revision"] == 0
        a = httpx.post(edits, json={"ops": [{"op": "edit", "segment": 1, "text": ""}], "revision": 0}, timeout=30)
        assert a.status_code == 200 and a.json()["revision"] == 1
        after_a = a.json()
        b = httpx.post(edits, json={"ops": [{"op": "edit", "segment": 3, "text": "Fixed by B."}], "revision": 0},
                       timeout=30)
        assert _error(b) == (409, "stale_revision")
        now = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json()
        assert now == after_a and "Fixed by B." not in " ".join(_texts(now))
        assert _texts(now) == _texts(seen)[:1] + _texts(seen)[2:]  # only A's change

        # every route refuses a stale or missing revision, in the one error shape
        stale = {"edits": {"ops": [{"op": "rename", "speaker": "SPEAKER_00", "name": "Ann"}]},
                 "undo": {}, "rediarize": {"num_speakers": 1}}
        for route, body in stale.items():
            answer = httpx.post(f"{url}/v1/jobs/{job_id}/{route}", json={**body, "revision": 0}, timeout=30)
            assert _error(answer) == (409, "stale_revision"), route
            missing = httpx.post(f"{url}/v1/jobs/{job_id}/{route}", json=body, timeout=30)
            assert _error(missing) == (400, "missing_revision"), route
            assert set(missing.json()["error"]) == {"message", "type", "code"}
        patch = httpx.patch(f"{url}/v1/jobs/{job_id}/speakers", json={"renames": {"SPEAKER_00": "Ann"}, "revision": 0},
                            timeout=30)
        assert _error(patch) == (409, "stale_revision")
        assert _error(httpx.patch(f"{url}/v1/jobs/{job_id}/speakers", json={"renames": {}}, timeout=30)) == \
            (400, "missing_revision")
        for bad in ("1", True, -1, None):
            answer = httpx.post(edits, json={"ops": [{"op": "edit", "segment": 0, "text": "x"}], "revision": bad},
                                timeout=30)
            assert _error(answer) == (400, "invalid_edit"), bad
        assert httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json() == after_a  # nothing changed


def test_revisions_never_repeat_every_route_tells_them_and_they_survive_a_restart(pipeline_tiny, sample, tmp_path):
    with hearback_server(pipeline_tiny, tmp_path) as url:
        job_id = _job(url, sample)
        job = f"{url}/v1/jobs/{job_id}"
        renamed = httpx.post(f"{job}/edits", json={"ops": [{"op": "rename", "speaker": "SPEAKER_00", "name": "Ann"}],
                                                   "revision": 0}, timeout=30).json()
        undone = httpx.post(f"{job}/undo", json={"revision": 1}, timeout=30).json()
        patched = httpx.patch(f"{job}/speakers", json={"renames": {"SPEAKER_01": "Bea"}, "revision": 2},
                              timeout=30).json()
        again = httpx.post(f"{job}/rediarize", json={"num_speakers": 2, "revision": 3}, timeout=60).json()
        assert [renamed["revision"], undone["revision"], patched["revision"], again["revision"]] == [1, 2, 3, 4]
        assert renamed["speakers"] != undone["speakers"]  # revision 1 and 2: two documents, two numbers
        view = httpx.get(job, timeout=10).json()
        assert (view["revision"], view["undo_steps"]) == (4, 2)
        assert httpx.get(f"{job}/result", timeout=10).json() == again
    with hearback_server(pipeline_tiny, tmp_path) as url:  # the same database, a new process
        job = f"{url}/v1/jobs/{job_id}"
        assert httpx.get(job, timeout=10).json()["revision"] == 4
        assert _error(httpx.post(f"{job}/undo", json={"revision": 3}, timeout=30)) == (409, "stale_revision")
        assert httpx.post(f"{job}/undo", json={"revision": 4}, timeout=30).json()["revision"] == 5


def test_two_clients_racing_change_the_document_once(pipeline_tiny, sample, tmp_path):
    """Eight raw clients send a different edit of one segment on the same revision at once:
    exactly one lands, the others are told it is stale, and the document is that one's."""
    with hearback_server(pipeline_tiny, tmp_path) as url:
        job_id = _job(url, sample)
        answers: dict[int, httpx.Response] = {}
        start = threading.Barrier(8)

        def send(k: int) -> None:
            start.wait()
            answers[k] = httpx.post(f"{url}/v1/jobs/{job_id}/edits", timeout=60, json={
                "ops": [{"op": "edit", "segment": 2, "text": f"Client {k} was here."}], "revision": 0})

        threads = [threading.Thread(target=send, args=(k,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        won = [k for k, a in answers.items() if a.status_code == 200]
        assert len(won) == 1 and len(answers) == 8
        assert all(_error(a) == (409, "stale_revision") for k, a in answers.items() if k not in won)
        document = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json()
        assert document["revision"] == 1 and _texts(document)[2] == f"Client {won[0]} was here."
