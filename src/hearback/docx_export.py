"""A readable meeting transcript as a Word document (python-docx).

Title, date, duration and language; the speakers with their talk time (from the
diarization's turns, else from their words); then each speaker turn: the name and the
time it starts, then what was said.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections import defaultdict
from datetime import date, datetime, timezone
from typing import BinaryIO, Optional, Sequence

from .types import Result

logger = logging.getLogger(__name__)

_GREY = (0x6B, 0x6B, 0x6B)


def clock(ms: int) -> str:
    """``H:MM:SS`` (``MM:SS`` under an hour)."""
    hours, rest = divmod(int(ms) // 1000, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def talk_time(result: Result, turns: Sequence[tuple[Optional[str], int, int, str]]) -> dict[str, float]:
    """Seconds each speaker talks: the union of their diarization turns, else of their text turns."""
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    if result.diarization is not None and result.diarization.turns:
        for turn in result.diarization.turns:
            spans[turn.speaker].append((turn.start, turn.end))
    else:
        for speaker, start, end, _text in turns:
            if speaker is not None:
                spans[speaker].append((start / 1000, end / 1000))
    totals: dict[str, float] = {}
    for speaker, pieces in spans.items():
        total, reach = 0.0, float("-inf")
        for start, end in sorted(pieces):
            total += max(0.0, end - max(start, reach))
            reach = max(reach, end)
        totals[speaker] = total
    return totals


def write_docx(result: Result, file: BinaryIO, title: str, on: date,
               turns: Sequence[tuple[Optional[str], int, int, str]]) -> None:
    """Write the transcript of ``result`` (its ``turns``: speaker, start ms, end ms, text)."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    doc = Document()
    doc.core_properties.title = title
    # the template's own dates are from 2013: the document is of ``on``
    doc.core_properties.created = doc.core_properties.modified = datetime(on.year, on.month, on.day,
                                                                          tzinfo=timezone.utc)
    doc.add_heading(title, level=0)
    facts = doc.add_paragraph()
    facts.add_run(f"Date: {on.isoformat()}    Duration: {clock(round(result.duration * 1000))}    "
                  f"Language: {result.language}").font.color.rgb = RGBColor(*_GREY)

    talk = talk_time(result, turns)
    if talk:
        doc.add_heading("Speakers", level=1)
        table = doc.add_table(rows=1, cols=3)
        table.style = "Light List Accent 1"
        for cell, text in zip(table.rows[0].cells, ("Speaker", "Talk time", "Share")):
            cell.text = text
        total = sum(talk.values()) or 1.0
        for speaker in result.speakers or tuple(talk):
            seconds = talk.get(speaker, 0.0)
            row = table.add_row().cells
            row[0].text, row[1].text = speaker, clock(round(seconds * 1000))
            row[2].text = f"{100 * seconds / total:.0f} %"

    doc.add_heading("Transcript", level=1)
    if not turns:
        doc.add_paragraph("(no speech)")
    for speaker, start, _end, text in turns:
        head = doc.add_paragraph()
        head.paragraph_format.space_after = Pt(0)
        head.paragraph_format.keep_with_next = True
        if speaker is not None:
            head.add_run(speaker).bold = True
            head.add_run("  ")
        stamp = head.add_run(clock(start))
        stamp.font.color.rgb, stamp.font.size = RGBColor(*_GREY), Pt(9)
        doc.add_paragraph(text)
    saved = io.BytesIO()
    doc.save(saved)
    file.write(_dated(saved.getvalue(), on))


def _dated(package: bytes, on: date) -> bytes:
    """The package with every entry dated ``on``: python-docx stamps the clock time of saving,
    so the same transcript would give different bytes from one second to the next."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=(on.year, on.month, on.day, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(entry))
    return out.getvalue()
