"""The exports people hand on: TSV, RTTM and DOCX, from the real pipeline on real audio.

TSV is read back with the csv module, RTTM scored with pyannote.metrics against the
reference (the same DER as scoring the diarization's turns directly), DOCX opened with
python-docx and converted to PDF by LibreOffice (Debian's libreoffice-writer, which the
Makefile and .ci/run install).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import shutil
import subprocess
import time
from datetime import date

import httpx
import pytest
from pyannote.metrics.diarization import DiarizationErrorRate

from evaluation.der import to_annotation
from evaluation.testdata import public_set, read_rttm
from hearback.audio.decode import decode
from hearback.document import result_from_dict
from hearback.types import Result
from hearback.writers import ExportOptions, render, render_bytes, speaker_turns
from tests.httpserver import hearback_server

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
IN_CI = bool(os.environ.get("CI"))


def test_tsv_parses_with_the_csv_module(sample_result):
    text = render(sample_result, "tsv")
    rows = list(csv.reader(io.StringIO(text), delimiter="\t"))
    assert rows[0] == ["start", "end", "speaker", "text"]
    turns = speaker_turns(sample_result)
    assert [(int(r[0]), int(r[1]), r[2], r[3]) for r in rows[1:]] == [
        (start, end, speaker, text) for speaker, start, end, text in turns]
    assert {r[2] for r in rows[1:]} == set(sample_result.speakers)
    assert all(int(r[0]) < int(r[1]) for r in rows[1:])
    assert "Chicago" in text


def rttm_der(result: Result, reference_rttm, uri, uem, tmp_path) -> tuple[float, float]:
    """(DER of the RTTM export read back, DER of the diarization's turns scored directly)."""
    path = tmp_path / f"{uri}.rttm"
    path.write_text(render(result, "rttm", ExportOptions(title=uri)), encoding="utf-8")
    metric = DiarizationErrorRate(collar=0.0, skip_overlap=False)
    reference = read_rttm(reference_rttm, None if uri == "sample" else uri)
    via_file = metric(reference, read_rttm(path, uri), uem=uem)
    direct = metric(reference, to_annotation(result.diarization.turns), uem=uem)
    return via_file, direct


def test_rttm_gives_the_same_der_as_the_turns(sample_result, embedded_diarizer, testdata, tmp_path):
    items = public_set(testdata)
    sample = items[0]
    assert sample[0] == "sample"
    via_file, direct = rttm_der(sample_result, sample[2], "sample", None, tmp_path)
    assert via_file == pytest.approx(direct, abs=1e-6) and direct < 0.2
    # the JSON document carries the same turns, overlap included, and exports from it alike
    back = result_from_dict(json.loads(render(sample_result, "json")))
    assert render(back, "rttm") == render(sample_result, "rttm")
    assert len(back.diarization.turns) == len(sample_result.diarization.turns)
    # an AMI clip, diarized alone (no transcript needed for who spoke when)
    uri, audio_path, rttm, uem = items[1]
    diarization = embedded_diarizer.diarize(decode(audio_path))
    result = Result((), "en", 30.0, tuple(diarization.speakers), diarization=diarization)
    via_file, direct = rttm_der(result, rttm, uri, uem, tmp_path)
    assert via_file == pytest.approx(direct, abs=1e-6)
    # one line per turn, overlapping turns included (not the transcript's word-bounded segments)
    lines = render(result, "rttm", ExportOptions(title=uri)).splitlines()
    assert len(lines) == len(diarization.turns) and all(line.startswith(f"SPEAKER {uri} 1 ") for line in lines)


def test_docx_reads_and_converts_to_pdf(sample_result, tmp_path):
    from docx import Document

    data = render_bytes(sample_result, "docx", ExportOptions(title="Phone call", on=date(2026, 11, 29)))
    doc = Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "Phone call" and "Date: 2026-11-29" in texts[1] and "Duration: 00:30" in texts[1]
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["Speaker", "Talk time", "Share"]
    assert [r.cells[0].text for r in table.rows[1:]] == list(sample_result.speakers)
    turns = speaker_turns(sample_result)
    body = [t for t in texts if t]
    for speaker, _start, _end, text in turns:
        assert text in body
    assert sum(t.startswith(("SPEAKER_00  ", "SPEAKER_01  ")) for t in texts) == len(turns)
    path = tmp_path / "call.docx"
    path.write_bytes(data)
    if SOFFICE is None:
        if IN_CI:
            pytest.fail("libreoffice-writer is missing; .ci/run installs it")
        # .ci/run and the Makefile install it; only a hand-made environment without it skips
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer")
    proc = subprocess.run([SOFFICE, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    pdf = (tmp_path / "call.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


def test_handler_returns_docx_as_base64_and_srt_with_its_lint(tiny_worker, testdata):
    sample = base64.b64encode((testdata / "diarization" / "pyannote-sample.wav").read_bytes()).decode()
    out = tiny_worker.handler({"id": "t", "input": {"audio_base64": sample, "output_format": "docx"}})
    assert "error" not in out, out
    from docx import Document

    assert Document(io.BytesIO(base64.b64decode(out["file_base64"]))).paragraphs[0].text == "transcript"
    assert "subtitles" not in out and "subtitle_lint" not in out and out["turns"]
    out = tiny_worker.handler({"id": "t", "input": {"audio_base64": sample, "output_format": "srt",
                                                    "subtitle_style": "bbc", "max_cps": 14}})
    lint = out["subtitle_lint"]
    assert lint["preset"] == "bbc" and lint["cues"] == out["subtitles"].count(" --> ")
    assert all(lint["breaks"][rule] == 0 for rule in lint["hard_rules"])


def test_http_exports(pipeline_tiny, testdata, tmp_path):
    sample = testdata / "diarization" / "pyannote-sample.wav"
    with hearback_server(pipeline_tiny, tmp_path) as url:
        with sample.open("rb") as fh:
            answer = httpx.post(f"{url}/v1/audio/transcriptions", files={"file": ("call.wav", fh)},
                                data={"response_format": "tsv", "subtitle_style": "bbc"}, timeout=120)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/tab-separated-values")
        assert answer.text.startswith("start\tend\tspeaker\ttext\n")
        with sample.open("rb") as fh:
            job = httpx.post(f"{url}/v1/jobs", files={"file": fh}, timeout=60).json()
        for _ in range(600):
            view = httpx.get(f"{url}/v1/jobs/{job['id']}", timeout=10).json()
            if view["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.2)
        assert view["status"] == "succeeded", view
        docx = httpx.get(f"{url}/v1/jobs/{job['id']}/result", params={"format": "docx"}, timeout=60)
        assert docx.status_code == 200 and docx.content.startswith(b"PK")
        assert docx.headers["content-type"] == ("application/vnd.openxmlformats-officedocument"
                                                ".wordprocessingml.document")
        vtt = httpx.get(f"{url}/v1/jobs/{job['id']}/result",
                        params={"format": "vtt", "highlight_words": "true"}, timeout=60)
        assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT") and "<00:00:" in vtt.text
        bad = httpx.get(f"{url}/v1/jobs/{job['id']}/result", params={"format": "srt", "subtitle_style": "x"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
