"""``hearback doctor`` on this CPU machine: the real command, real models, the bundled sample.

Nothing is mocked. There is no GPU here, so the GPU lines are checked for what they say
without one (a CUDA configuration fails with its fix, or is skipped with --allow-no-gpu).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nltk

from hearback.cli.doctor import STATUSES, alignment_checks, device_checks
from hearback.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def doctor(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", "PYANNOTE_METRICS_ENABLED": "0",
               "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]), **env}
    return subprocess.run([sys.executable, "-m", "hearback.cli", "doctor", *args], cwd=REPO,
                          env=environ, capture_output=True, text=True, timeout=600)


def lines(output: str) -> dict[str, tuple[str, str]]:
    """check name -> (status, rest of the line), for the table's lines."""
    table = {}
    for line in output.splitlines():
        status = line[:6].strip()
        if status in STATUSES:
            name, _, detail = line[6:].partition("  ")
            table[name.strip()] = (status, detail.strip())
    return table


def test_doctor_passes_on_this_cpu_machine():
    run = doctor(WHISPER_MODEL="tiny.en")
    assert run.returncode == 0, run.stdout + run.stderr
    table = lines(run.stdout)
    assert {name: status for name, (status, _) in table.items()} == {
        "device": "ok", "compute type": "ok", "cpu threads": "ok", "whisper model": "ok",
        "alignment": "skip", "diarization": "ok", "embedding": "ok",
        "sample pyannote-sample.wav": "ok",
    }
    sample = table["sample pyannote-sample.wav"][1]
    assert "2 speakers" in sample
    for stage in ("decode", "transcribe", "align", "diarize", "assign"):
        assert f"{stage} " in sample
    assert "inactive speaker gives NaN" in table["embedding"][1]
    assert "0 failed" in run.stdout


def test_a_missing_whisper_model_fails_with_its_fix(tmp_path):
    run = doctor(WHISPER_MODEL=str(tmp_path))
    assert run.returncode == 1
    table = lines(run.stdout)
    assert table["whisper model"][0] == "fail"
    assert "without model.bin" in table["whisper model"][1]
    fix = run.stdout.split("without model.bin", 1)[1].splitlines()[1]
    assert fix.strip().startswith("fix: point WHISPER_MODEL at a CTranslate2 Whisper directory")
    assert table["sample pyannote-sample.wav"][0] == "skip"
    assert "Traceback" not in run.stdout + run.stderr


def test_cuda_without_a_gpu_fails_unless_the_build_allows_it():
    checks, _ = device_checks(Settings(device="cuda"), allow_no_gpu=False)
    assert [(c.name, c.status) for c in checks] == [("device", "fail")]
    assert "allowed CUDA versions" in checks[0].fix

    checks, settings = device_checks(Settings(device="cuda"), allow_no_gpu=True)
    assert [c.status for c in checks] == ["skip", "skip", "skip", "ok"]
    assert settings.resolved_device == "cpu" and settings.resolved_compute_type == "int8"


def test_alignment_configured_but_incomplete(tmp_path, monkeypatch):
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "no-nltk-data")])
    assert [c.status for c in alignment_checks(Settings())] == ["skip"]

    (missing,) = alignment_checks(Settings(alignment_model_dir=tmp_path / "nowhere"))
    assert missing.status == "fail" and "does not exist" in missing.detail and missing.fix

    (tmp_path / "align" / "fr").mkdir(parents=True)
    (tmp_path / "align" / "fr" / "config.json").write_text(json.dumps({}))
    en = tmp_path / "align" / "en"
    en.mkdir()
    for name in ("config.json", "vocab.json", "preprocessor_config.json", "model.safetensors"):
        (en / name).write_text("{}")
    checks = {c.name: c for c in alignment_checks(Settings(alignment_model_dir=tmp_path / "align"))}
    assert checks["alignment fr"].status == "fail"
    assert "vocab.json" in checks["alignment fr"].detail
    assert checks["alignment en"].status == "ok"
    assert checks["nltk punkt en"].status == "fail"
    assert "punkt_tab" in checks["nltk punkt en"].detail and "nltk.downloader" in checks["nltk punkt en"].fix
