"""The ``hearback`` command line on real recordings (one French, one English), real models."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import srt
import webvtt

from hearback.cli.main import main
from hearback.invariants import check
from hearback.writers import FORMATS

HEARBACK = Path(sys.executable).parent / "hearback"  # the console script pip installed


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 3)


def check_outputs(folder: Path, stem: str, language: str) -> None:
    doc = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    assert doc["language"] == language and doc["transcription"]["segments"]
    assert check(doc) == []
    cues = list(srt.parse((folder / f"{stem}.srt").read_text(encoding="utf-8")))
    vtt = list(webvtt.read(str(folder / f"{stem}.vtt")))
    assert len(cues) >= 1 and len(vtt) >= 1
    # the same words; SRT labels the speaker in the text, VTT in voice spans
    bare = re.sub(r"\[SPEAKER_\d\d\] |\s", "", "".join(c.content for c in cues))
    assert bare == re.sub(r"\s", "", "".join(v.text for v in vtt))
    # the SRT label may need the lead-in (netflix: 3 frames) that the VTT cue does not
    assert 0 <= _seconds(vtt[0].start) - round(cues[0].start.total_seconds(), 3) <= 0.125
    txt = (folder / f"{stem}.txt").read_text(encoding="utf-8")
    assert txt.startswith("SPEAKER_00: ")
    words = " ".join(s["text"] for s in doc["transcription"]["segments"]).split()
    assert txt.split()[1:4] == words[:3]


def test_two_files_all_formats(testdata, tmp_path, capsys):
    fr = testdata / "asr" / "fleurs" / "fr-000.ogg"
    en = testdata / "asr" / "misc" / "jfk-en.flac"
    code = main(["transcribe", str(fr), str(en), "--model", "base", "--format", "all",
                 "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 0, err
    check_outputs(tmp_path, "fr-000", "fr")
    check_outputs(tmp_path, "jfk-en", "en")
    assert len(list(tmp_path.iterdir())) == 2 * len(FORMATS)
    # the lint report of each subtitle file, for the default preset
    for name in ("fr-000.srt", "fr-000.vtt", "jfk-en.srt", "jfk-en.vtt"):
        assert re.search(rf"^{re.escape(name)}: netflix: \d+ cues; ", err, re.M), err


def test_missing_file_fails_alone_with_a_clear_error(testdata, tmp_path):
    """Through the installed console script, not on a terminal: plain progress lines."""
    en = testdata / "asr" / "misc" / "jfk-en.flac"
    proc = subprocess.run(
        [str(HEARBACK), "transcribe", str(tmp_path / "nope.wav"), str(en), "--model", "tiny.en",
         "--format", "txt", "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "nope.wav: error invalid_input: no such file" in proc.stderr
    assert "1 of 2 files failed" in proc.stderr
    assert "jfk-en.flac: transcribe" in proc.stderr  # stage lines when not a terminal
    assert "country" in (tmp_path / "out" / "jfk-en.txt").read_text()


def test_usage_error_exit_code(tmp_path, capsys):
    assert main(["transcribe", "x.wav", "--min-speakers", "3", "--max-speakers", "2"]) == 2
    assert "invalid_speaker_bounds" in capsys.readouterr().err
    assert main(["transcribe", "x.wav", "--min-cue-seconds", "9", "--max-cue-seconds", "5"]) == 2
    assert "invalid_input: min_cue_seconds must not exceed max_cue_seconds" in capsys.readouterr().err


def test_models_lists_the_packaged_ones(capsys):
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "tiny.en" in listing and "base" in listing and "large-v3" in listing
    rows = {line.split()[0]: line.split()[1] for line in listing.splitlines()[1:] if line.strip() and not line.startswith("diarization")}
    assert rows["tiny.en"] == "yes" and rows["base"] == "yes"
