"""Issue 24, data safety 5 and 6: names and words that would break exports are refused with a
stable code, never a traceback, over real HTTP; what is accepted is normalised so that every
export keeps its shape (RTTM's ten fields, one SRT/VTT cue per cue, one TXT line per turn).
Real models (tiny.en + embedded diarization) on the pyannote sample."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

from tests.httpserver import sample_job_server

#: names no export can hold: line breaks, separators, controls, a lone surrogate, nothing visible
BAD_NAMES = ["Ann\nBob", "Ann\r\nBob", "Ann\u2028Bob", "Ann\u2029Bob", "Ann\tBob", "Ann\x00", "\x1b[31mAnn",
             "Ann\x85Bob", "Ann\ud800", "\u200b", "\u00a0\u200d", "\u0301", "voice_0123456789abcdef"]
#: words that are not text: controls (whitespace only separates words) and a lone surrogate
BAD_WORDS = ["a\x00b", "bell\x07", "esc\x1b[2J", "lone \udc80 half", "del\x7f"]


@pytest.fixture(scope="module")
def server(pipeline_tiny, testdata, tmp_path_factory):
    with sample_job_server(pipeline_tiny, testdata, tmp_path_factory.mktemp("names")) as served:
        yield served


def revision(url: str, job_id: str) -> int:
    return httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()["revision"]


def send(method: str, url: str, body: dict) -> httpx.Response:
    """``body`` as JSON with every non-ASCII character escaped (a lone surrogate too, as
    ``\\udc80``: it cannot be UTF-8)."""
    return httpx.request(method, url, content=json.dumps(body).encode(), timeout=30,
                         headers={"Content-Type": "application/json"})


def edit(url: str, job_id: str, *ops) -> httpx.Response:
    return send("POST", f"{url}/v1/jobs/{job_id}/edits", {"ops": list(ops), "revision": revision(url, job_id)})


def error(answer: httpx.Response) -> tuple[int, str]:
    assert set(answer.json()) == {"error"}, answer.text
    return answer.status_code, answer.json()["error"]["code"]


def export(url: str, job_id: str, fmt: str) -> httpx.Response:
    answer = httpx.get(f"{url}/v1/jobs/{job_id}/result", params={"format": fmt}, timeout=60)
    assert answer.status_code == 200, (fmt, answer.text)
    return answer


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_bad_name_is_refused_at_every_door(server, name):
    url, job_id = server
    before = export(url, job_id, "json").json()
    doors = [
        send("POST", f"{url}/v1/jobs/{job_id}/edits", {
            "ops": [{"op": "rename", "speaker": "SPEAKER_00", "name": name}], "revision": before["revision"]}),
        send("POST", f"{url}/v1/jobs/{job_id}/edits", {
            "ops": [{"op": "assign", "segment": 0, "speaker": name}], "revision": before["revision"]}),
        send("PATCH", f"{url}/v1/jobs/{job_id}/speakers", {"renames": {"SPEAKER_01": name},
                                                           "revision": before["revision"]}),
    ]
    if not any(0xD800 <= ord(c) < 0xE000 for c in name):  # a form is UTF-8: it holds no lone surrogate
        doors.append(httpx.post(f"{url}/v1/speakers", data={"name": name, "job_id": job_id, "speaker": "SPEAKER_00"},
                                timeout=30))
    for answer in doors:
        assert error(answer) == (400, "invalid_speaker_name"), (name, answer.request.url, answer.text)
    assert export(url, job_id, "json").json() == before
    assert httpx.get(f"{url}/v1/speakers", timeout=10).json()["data"] == []


@pytest.mark.parametrize("text", BAD_WORDS)
def test_words_that_are_not_text_are_refused(server, text):
    url, job_id = server
    answer = edit(url, job_id, {"op": "edit", "segment": 0, "text": text})
    assert error(answer) == (400, "invalid_edit"), answer.text
    assert export(url, job_id, "docx").content.startswith(b"PK")


def test_accepted_names_keep_every_export_in_shape(server):
    url, job_id = server
    renamed = edit(url, job_id, {"op": "rename", "speaker": "SPEAKER_00", "name": "  Diane   Smith "},
                   {"op": "rename", "speaker": "SPEAKER_01", "name": "Zoe\u0301 O\u2019Neil"})
    assert renamed.status_code == 200, renamed.text
    assert set(renamed.json()["speakers"]) == {"Diane Smith", "Zoé O’Neil"}  # spaces folded, NFC
    rttm = export(url, job_id, "rttm").text.splitlines()
    assert rttm and all(len(line.split()) == 10 for line in rttm)
    assert {line.split()[7] for line in rttm} == {"Diane_Smith", "Zoé_O’Neil"}
    text = export(url, job_id, "txt").text
    assert all(line.split(":")[0] in ("Diane Smith", "Zoé O’Neil") for line in text.splitlines() if line)
    words = edit(url, job_id, {"op": "edit", "segment": 1, "text": "tabs\tand\nnew lines\u2028split words"})
    assert words.status_code == 200, words.text
    segment = words.json()["transcription"]["segments"][1]
    assert [w["word"] for w in segment["words"]] == ["tabs", "and", "new", "lines", "split", "words"]
    assert segment["text"] == "tabs and new lines split words"
    with zipfile.ZipFile(io.BytesIO(export(url, job_id, "docx").content)) as docx:
        assert "Zoé O’Neil" in docx.read("word/document.xml").decode()


def test_malformed_bodies_are_400s_not_500s(server):
    url, job_id = server
    now = revision(url, job_id)
    deep = b'{"ops": ' + b"[" * 100_000 + b"]" * 100_000 + b', "revision": %d}' % now
    for route, method, code in (("edits", "POST", "invalid_edit"), ("speakers", "PATCH", "invalid_input"),
                                ("undo", "POST", "invalid_input"), ("rediarize", "POST", "invalid_input")):
        answer = httpx.request(method, f"{url}/v1/jobs/{job_id}/{route}", content=deep, timeout=30,
                               headers={"Content-Type": "application/json"})
        assert error(answer) == (400, code), (route, answer.text)
    surrogate = b'{"ops": [{"op": "rename", "speaker": "\\ud800", "name": "x"}], "revision": %d}' % now
    answer = httpx.post(f"{url}/v1/jobs/{job_id}/edits", content=surrogate, timeout=30,
                        headers={"Content-Type": "application/json"})
    assert error(answer) == (400, "unknown_speaker"), answer.text  # said, not a 500 on encoding it
    assert revision(url, job_id) == now
