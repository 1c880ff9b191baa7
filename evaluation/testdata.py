"""Where the test recordings are, the sets they form, and how their reference files read.

The recordings live in the repository's ``testdata/`` (its README lists sources and licences);
``HEARBACK_TESTDATA`` points at a copy with the same layout elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pyannote.core import Annotation, Segment, Timeline

REPO = Path(__file__).resolve().parents[1]

#: pyannote pipeline configurations (no weights) a test builds a local pipeline from; always
#: read from the repository, wherever ``HEARBACK_TESTDATA`` points.
PYANNOTE_CONFIGS = REPO / "testdata" / "pyannote"


def testdata_dir() -> Path:
    """``HEARBACK_TESTDATA`` when set, else the repository's ``testdata/``."""
    folder = Path(os.environ.get("HEARBACK_TESTDATA") or REPO / "testdata")
    if not folder.is_dir():
        raise FileNotFoundError(f"test data not found at {folder}; set HEARBACK_TESTDATA to a copy of "
                                f"the repository's testdata/")
    return folder


def read_rttm(path: Path, uri: Optional[str] = None) -> Annotation:
    """The reference turns of one recording (all of the file when ``uri`` is None)."""
    annotation = Annotation()
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) < 8 or parts[0] != "SPEAKER" or (uri and parts[1] != uri):
            continue
        start, duration = float(parts[3]), float(parts[4])
        annotation[Segment(start, start + duration), annotation.new_track(Segment(start, start + duration))] = parts[7]
    return annotation


def read_uem(path: Path) -> dict[str, Timeline]:
    """Scored regions per recording."""
    regions: dict[str, list[Segment]] = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4:
            regions.setdefault(parts[0], []).append(Segment(float(parts[2]), float(parts[3])))
    return {uri: Timeline(segments) for uri, segments in regions.items()}


def read_stm(path: Path) -> list[tuple[str, float, float, str]]:
    """(speaker, start, end, text) per line of an STM file."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(";;"):
            continue
        _uri, _channel, speaker, start, end, text = line.split(maxsplit=5)
        rows.append((speaker, float(start), float(end), text))
    return rows


def sample_transcript(testdata: Path) -> str:
    """The pyannote sample's reference text, its turns joined in order."""
    return " ".join(row[3] for row in read_stm(testdata / "diarization" / "pyannote-sample.stm"))


def public_set(testdata: Path) -> list[tuple[str, Path, Path, Optional[Timeline]]]:
    """(uri, audio, rttm, uem) for the public diarization set: the pyannote sample and the 13 AMI clips."""
    folder = testdata / "diarization"
    items = [("sample", folder / "pyannote-sample.wav", folder / "pyannote-sample.rttm", None)]
    uems = read_uem(folder / "ami" / "ami.uem")
    for audio in sorted((folder / "ami").glob("*.flac")):
        items.append((audio.stem, audio, folder / "ami" / "ami.rttm", uems.get(audio.stem)))
    return items


def fleurs_clips(testdata: Path, language: str) -> list[tuple[Path, str]]:
    """(audio, reference text) for the FLEURS clips of one language."""
    folder = testdata / "asr" / "fleurs"
    return [(p, p.with_suffix(".txt").read_text(encoding="utf-8").strip())
            for p in sorted(folder.glob(f"{language}-*.ogg"))]


def english_clips(testdata: Path) -> list[tuple[str, Path, Optional[Path], Optional[str], Optional[Timeline]]]:
    """Every English recording in the test data: (uri, audio, rttm, transcript, uem).

    The diarization set (pyannote sample, 13 AMI excerpts, falcon) has speaker turns; the
    sample, the FLEURS-en clips and two misc clips have transcripts. 555 s in all.
    """
    folder = testdata / "diarization"
    items: list = [(uri, path, rttm, sample_transcript(testdata) if uri == "sample" else None, uem)
                   for uri, path, rttm, uem in public_set(testdata)]
    items.append(("falcon", folder / "falcon-3spk.wav", folder / "falcon-3spk.rttm", None, None))
    asr = testdata / "asr"
    for path in sorted((asr / "fleurs").glob("en-*.ogg")) + [asr / "misc" / "jfk-en.flac",
                                                              asr / "misc" / "librispeech-en.wav"]:
        items.append((path.stem, path, None, path.with_suffix(".txt").read_text(encoding="utf-8").strip(), None))
    return items
