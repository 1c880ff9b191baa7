"""Subtitles against their preset, on every recording of the public set.

    python -m bench.bench_subtitles [--style netflix] [--minutes 10] [--cache DIR]

The full pipeline (Whisper base, embedded diarizer; language given) on the pyannote sample,
the 13 AMI clips, the 10 FLEURS-en and 10 FLEURS-fr clips and the 10-minute meeting built from
the shared English clips (evaluation/variants.py). For each SRT and VTT: parsed back with ``srt`` /
``webvtt-py`` and linted by :func:`independent_lint` (written here, not Hearback's lint, which
must agree with it); the words of the cues against the JSON's words (in order, none lost or
doubled; each word's start inside its cue, give or take the lead-in); reading-speed breaks
explained (:func:`why_too_fast`): the speech itself is too fast (the cue's words, or the
stretch of speech around it), the SRT label tips it over, or the neighbouring cues leave no
room. For the sample and the
AMI clips, the DER of the RTTM export read back equals the DER of the diarization's turns.
Writes bench/results/subtitles.md.

``--cache DIR`` keeps each recording's transcript (the JSON document, ``result_to_dict``) in
DIR and reads it back (``result_from_dict``, which renders every format as the original does)
on the next run, so the subtitle layout can be re-measured in seconds; the figures of record
come from a run without it (or with a cache made by a fresh run of the same pipeline).

``--fewest-breaks`` lays out every file so that the number of cues breaking the reading speed
or the minimum duration comes before everything else (a break costs 10,000 instead of 100, and
every timing state is kept): the fewest breaks any layout of these words within the preset's
rules can have. Writes bench/results/subtitles-fewest.md. ``--named`` renames every file's
speakers to first names before the layout (SRT labels like ``[Alice] ``, as once voices are
known) and writes bench/results/subtitles-named.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from bench import TESTDATA, setup_logging, temp_folder, write_results
from evaluation.der import der_metric, to_annotation
from evaluation.subcheck import cue_words, independent_lint, is_dual, srt_cues, strip_prefix, vtt_cues, word_check
from evaluation.testdata import public_set, read_rttm
from evaluation.variants import english_meeting
from hearback.audio.decode import decode
from hearback.document import result_from_dict, result_to_dict
from hearback.invariants import check
from hearback.pipeline import Pipeline
from hearback.settings import Settings
from hearback.subtitles.lint import RULES
from hearback.types import Options
from hearback.writers import ExportOptions, lint_report, render

logger = logging.getLogger(__name__)

HARD = [r.name for r in RULES if r.hard]


def _spoken(lines) -> int:
    """Characters of the words a cue shows (its label and dual-speaker dashes left out)."""
    return sum(len(strip_prefix(line, is_dual(lines))) for line in lines)


def _stretch_too_fast(cues, words, k: int, limits) -> bool:
    """Is cue ``k`` in a stretch of speech too fast for all its cues to read in time? A stretch:
    the cues around it whose words are closer than lead-in + lead-out + gap (they share that
    time). All its cues lie within its words' span plus the lead-in and the lead-out, so when
    its spoken characters over that time are above max_cps, at least one of them must be."""
    near = limits.lead_in_seconds + limits.lead_out_seconds + limits.min_gap_seconds

    def close(a: int, b: int) -> bool:
        return bool(words[a] and words[b]) and (min(w[1] for w in words[b]) - max(w[2] for w in words[a])) / 1000 < near

    lo, hi = k, k
    while lo > 0 and close(lo - 1, lo):
        lo -= 1
    while hi + 1 < len(cues) and close(hi, hi + 1):
        hi += 1
    taken = [w for group in words[lo:hi + 1] for w in group]
    span = (max(w[2] for w in taken) - min(w[1] for w in taken)) / 1000
    chars = sum(_spoken(lines) for _s, _e, lines in cues[lo:hi + 1])
    return chars / (span + limits.lead_in_seconds + limits.lead_out_seconds) > limits.max_cps


def why_too_fast(cues, words, limits) -> tuple[int, int, int, int]:
    """Why cues break the reading speed: (the speech itself: the cue's spoken characters over
    its words' span plus the whole lead-in and lead-out are still over max_cps; the speech
    around it: the cue is in a stretch too fast for all its cues (:func:`_stretch_too_fast`);
    the SRT label or dual-speaker dash alone tips it over; no room: the neighbouring cues'
    words leave the cue less time than the lead-in and lead-out would give, though the
    stretch could be read)."""
    speech = stretch = label = room = 0
    words = words or [[] for _ in cues]
    for k, ((start, end, lines), taken) in enumerate(zip(cues, words)):
        seconds = max((end - start) / 1000, 1e-3)
        shown = sum(len(line) for line in lines)
        if shown / seconds <= limits.max_cps or not taken:
            continue
        spoken = _spoken(lines)
        span = (max(w[2] for w in taken) - min(w[1] for w in taken)) / 1000
        if spoken / (span + limits.lead_in_seconds + limits.lead_out_seconds) > limits.max_cps:
            speech += 1
        elif spoken / seconds <= limits.max_cps:
            label += 1
        elif _stretch_too_fast(cues, words, k, limits):
            stretch += 1
        else:
            room += 1
    return speech, stretch, label, room


def recordings(minutes: float):
    """(name, kind, language, audio loader, rttm, uem) for every recording of the public set;
    the audio is decoded (the meeting built) only when the loader is called."""
    for uri, path, rttm, uem in public_set(TESTDATA):
        yield uri, "conversation", "en", lambda path=path: decode(path), rttm, uem
    for lang in ("en", "fr"):
        for path in sorted((TESTDATA / "asr" / "fleurs").glob(f"{lang}-*.ogg")):
            yield path.stem, "read", lang, lambda path=path: decode(path), None, None
    yield (f"meeting ({minutes:g} min)", "conversation", "en",
           lambda: english_meeting(TESTDATA, minutes).audio, None, None)


class Transcriber:
    """The pipeline's result for each recording: transcribed (the pipeline loaded on first
    need), or read back from ``cache`` (a folder of JSON documents) when it holds it."""

    def __init__(self, cache: Path | None) -> None:
        self.cache = cache
        self.pipeline: Pipeline | None = None

    def result(self, name: str, load, lang: str):
        path = self.cache / f"{name}.json" if self.cache is not None else None
        if path is not None and path.exists():
            return result_from_dict(json.loads(path.read_text(encoding="utf-8")))
        if self.pipeline is None:
            self.pipeline = Pipeline.load(Settings(whisper_model="base", diarization_backend="embedded"))
        result = self.pipeline.transcribe(load(), Options(language=lang))
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result_to_dict(result)), encoding="utf-8")
        return result


#: first names given to the speakers with ``--named`` (the labels of a file whose voices are known)
NAMES = ("Alice", "Bruno", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas",
         "Karim", "Lea", "Marc", "Nina", "Omar", "Paul", "Rosa", "Sam", "Tina", "Victor")


def named(result):
    """``result`` with its speakers renamed to first names (SPEAKER_00 -> Alice, ...)."""
    from hearback.edits import fix_speakers

    order = list(result.speakers)
    return fix_speakers(result, {s: f"{NAMES[i % len(NAMES)]}{i // len(NAMES) or ''}" for i, s in enumerate(order)}, ())


def run(style: str, minutes: float, cache: Path | None = None,
        names: bool = False) -> tuple[list[str], dict, list[str]]:
    """Per-file rows, totals per set and format, and every broken promise of the transcripts
    themselves (``invariants.check``, which every output must pass); with ``names``, the
    speakers renamed to first names first (shorter SRT labels, as once voices are known)."""
    transcriber = Transcriber(cache)
    options = ExportOptions(style)
    rows, totals, problems = [], {"conversation": {}, "read": {}}, []
    for name, kind, lang, load, rttm, uem in recordings(minutes):
        started = time.perf_counter()
        result = transcriber.result(name, load, lang)
        result = named(result) if names else result
        limits, document = options.limits(lang), result_to_dict(result)
        problems += [f"{name}: {problem}" for problem in check(document)]
        lead = round(limits.lead_in_seconds * 1000) + round(limits.min_gap_seconds * 1000) + 1
        der = ""
        if rttm is not None:
            metric = der_metric()
            reference = read_rttm(rttm, None if name == "sample" else name)
            with temp_folder() as folder:
                export = Path(folder) / f"{name}.rttm"
                export.write_text(render(result, "rttm", ExportOptions(title=name)), encoding="utf-8")
                via_file = metric(reference, read_rttm(export, name), uem=uem)
            turns = result.diarization.turns if result.diarization is not None else ()
            direct = metric(reference, to_annotation(turns), uem=uem)
            der = f"{via_file:.3f}" + ("" if abs(via_file - direct) < 1e-9 else f" (turns: {direct:.3f})")
        for fmt, parse in (("srt", srt_cues), ("vtt", vtt_cues)):
            cues = parse(render(result, fmt, options))
            breaks = independent_lint(cues, limits)
            ours = lint_report(result, fmt, options)["breaks"]
            same, outside, n_words = word_check(cues, document, lead)
            why = why_too_fast(cues, cue_words(cues, document), limits)
            hard, n = sum(breaks[h] for h in HARD), max(len(cues), 1)
            rows.append(f"| {name} | {lang} | {fmt} | {len(cues)} | {hard} | "
                        f"{breaks['max_cps']} ({100 * breaks['max_cps'] / n:.0f}%) | {' / '.join(map(str, why))} | "
                        f"{breaks['min_cue_seconds']} ({100 * breaks['min_cue_seconds'] / n:.0f}%) | "
                        f"{'yes' if breaks == ours else 'NO'} | {'yes' if same else 'NO'} | {outside}/{n_words} | "
                        f"{der if fmt == 'srt' else ''} |")
            acc = totals[kind].setdefault(fmt, dict.fromkeys(
                ("cues", "hard", "cps", "speech", "stretch", "label", "room", "min", "outside", "words"), 0))
            for key, value in (("cues", len(cues)), ("hard", hard), ("cps", breaks["max_cps"]), ("speech", why[0]),
                               ("stretch", why[1]), ("label", why[2]), ("room", why[3]),
                               ("min", breaks["min_cue_seconds"]),
                               ("outside", outside), ("words", n_words)):
                acc[key] += value
        logger.warning("%s: %.1f s", name, time.perf_counter() - started)
    return rows, totals, problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--style", default="netflix")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep each transcript here and reuse it (re-measure the layout only)")
    parser.add_argument("--named", action="store_true",
                        help="rename the speakers to first names first (results/subtitles-named.md)")
    parser.add_argument("--fewest-breaks", action="store_true",
                        help="lay out for the fewest reading-speed and minimum-duration breaks first")
    args = parser.parse_args()
    setup_logging()
    if args.fewest_breaks:
        from hearback.subtitles import layout as cuecut

        cuecut._TOO_FAST, cuecut._STATES = 10_000.0, 10 ** 9  # a break before any other cost
    rows, totals, problems = run(args.style, args.minutes, args.cache, args.named)
    head = ["| file | lang | format | cues | hard-rule breaks | reading speed breaks | why: speech too fast (cue / stretch) / label / no room "
            "| min duration breaks | Hearback's lint agrees | words = JSON words | word start outside its cue "
            "| DER via RTTM |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    summary = ["| set | format | cues | hard-rule breaks | reading speed breaks | why: speech too fast (cue / stretch) / label / no room "
               "| min duration breaks | word starts outside their cue |", "|---|---|---|---|---|---|---|---|"]
    for kind, by_format in totals.items():
        for fmt, t in by_format.items():
            n = max(t["cues"], 1)
            summary.append(f"| {kind} | {fmt} | {t['cues']} | {t['hard']} | {t['cps']} ({100 * t['cps'] / n:.1f}%) | "
                           f"{t['speech']} / {t['stretch']} / {t['label']} / {t['room']} | {t['min']} ({100 * t['min'] / n:.1f}%) | {t['outside']}/{t['words']} |")
    contract = [f"Transcripts' own contract (invariants.check): {len(problems)} problems", *problems]
    text = "\n".join(summary + [""] + contract + [""] + head + rows)
    suffix = ("-fewest" if args.fewest_breaks else "") + ("-named" if args.named else "")
    write_results(__spec__.name, f"subtitles{suffix}", f"Preset `{args.style}`, Whisper base + embedded diarizer, "
                  "language given, 2 CPU cores.\n\n" + text)


if __name__ == "__main__":
    main()
