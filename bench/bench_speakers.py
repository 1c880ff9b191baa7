"""Speakers by name (hearback.speakers): accuracy across recordings, and what it costs.

    python -m bench.bench_speakers [--sweep] [--rediarize-only] [--pairs-only] [--ceiling]

* AMI pairs (clips sharing people, both directions): each speaker of one clip enrolled from
  their solo speech there (per the RTTM), the other clip diarized and named. Named accuracy
  and false naming (evaluation/naming.py), at match.THRESHOLD, and with ``--sweep`` at
  other thresholds, with every same-person and different-person similarity (calibration).
* enrolment time per minute of voice; matching time per job.
* rediarize on the 10-minute meeting: its time against the whole job's (goal <= 0.3), the
  words unchanged, and DER with the true speaker count given against the count found.
* ``--ceiling``: how much of the named accuracy diarization leaves reachable (oracles that
  know the reference, evaluation/ceiling.py), and known voices steering clustering chunk by
  chunk, swept.
Writes bench/results/speakers.md (``--rediarize-only``: that part alone, speakers-rediarize.md;
``--pairs-only``: speakers-pairs.md; ``--ceiling``: speakers-ceiling.md).
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import replace
from typing import Optional, Sequence

import numpy as np

from bench import TESTDATA, setup_logging, write_results

logger = logging.getLogger(__name__)
from evaluation.naming import NamingScore, directed_pairs, score_naming, solo_audio
from evaluation.testdata import read_rttm, read_uem
from hearback.audio.decode import decode
from hearback.diarize import load_diarizer
from hearback.errors import HearbackError
from hearback.settings import Settings
from hearback.speakers.match import THRESHOLD, identify, rename, similarities
from hearback.speakers.voiceprint import Voiceprint, enrol
from hearback.types import Diarization, Turn

AMI = TESTDATA / "diarization" / "ami"
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)
#: Similarities at which two found speakers matching one known voice are merged (measured).
MERGE_SWEEP = (0.5, 0.55, 0.6, 0.65, 0.7)
#: Known voices steering clustering chunk by chunk (evaluation.ceiling.voice_guided): the
#: bonus a voice's cosine gets against the found centroids, and the least cosine it needs.
GUIDED_BONUS = (0.0, 0.1, 0.2, 0.3, 0.5)
GUIDED_FLOOR = (0.3, 0.4, 0.5, 0.6)


class Clips:
    """Each AMI clip decoded, diarized and its speakers enrolled once."""

    def __init__(self, diarizer):
        self.diarizer = diarizer
        self.uems = read_uem(AMI / "ami.uem")
        self.audio, self.diarization, self.voices = {}, {}, {}
        self.enrol_seconds, self.voice_seconds, self.diarize_seconds = 0.0, 0.0, 0.0

    def load(self, uri: str) -> None:
        if uri in self.audio:
            return
        audio = decode(AMI / f"{uri}.flac")
        self.audio[uri] = audio
        started = time.perf_counter()
        self.diarization[uri] = self.diarizer.diarize(audio)
        self.diarize_seconds += time.perf_counter() - started
        reference = read_rttm(AMI / "ami.rttm", uri)
        voices = []
        for person in reference.labels():
            solo = solo_audio(audio, reference, person, self.uems.get(uri))
            started = time.perf_counter()
            try:
                voices.append(enrol(person, [solo], self.diarizer))
            except HearbackError as error:
                logger.info("%s %s: not enrolled (%s, %.1f s solo)", uri, person, error.code, solo.duration)
                continue
            self.enrol_seconds += time.perf_counter() - started
            self.voice_seconds += voices[-1].seconds
        self.voices[uri] = voices


def merged_by_voice(diarization: Diarization, voices: Sequence[Voiceprint],
                    threshold: float) -> Diarization:
    """Known voices helping clustering (measured, not adopted: bench/RESULTS.md): found
    speakers whose closest known voice is the same one, each at least ``threshold`` similar
    to it, made one speaker (the earliest label; turns joined where they now overlap,
    centroid the mean)."""
    labels = [label for label in diarization.speakers if label in diarization.centroids]
    usable = [v for v in voices if v.model == diarization.embedding_model]
    if not usable or len(labels) < 2:
        return diarization
    scores = similarities([diarization.centroids[label] for label in labels], [v.vector for v in usable])
    groups: dict[int, list[str]] = {}
    for row, label in enumerate(labels):
        column = int(scores[row].argmax())
        if scores[row, column] >= threshold:
            groups.setdefault(column, []).append(label)
    mapping = {label: group[0] for group in groups.values() for label in group[1:]}
    if not mapping:
        return diarization
    centroids: dict[str, list] = {}
    for label, vector in diarization.centroids.items():
        centroids.setdefault(mapping.get(label, label), []).append(vector)
    return replace(diarization, turns=_joined(diarization.turns, mapping),
                   exclusive=_joined(diarization.exclusive, mapping),
                   centroids={k: tuple(np.mean(v, axis=0).tolist()) for k, v in centroids.items()})


def _joined(turns: Sequence[Turn], mapping: dict[str, str]) -> tuple[Turn, ...]:
    """Turns relabelled by ``mapping``; one speaker's turns that now overlap or touch joined."""
    out: list[Turn] = []
    last: dict[str, int] = {}
    for turn in sorted((replace(t, speaker=mapping.get(t.speaker, t.speaker)) for t in turns),
                       key=lambda t: (t.start, t.end)):
        index = last.get(turn.speaker)
        if index is not None and out[index].end >= turn.start:
            out[index] = replace(out[index], end=max(out[index].end, turn.end))
            continue
        last[turn.speaker] = len(out)
        out.append(turn)
    return tuple(out)


def split_for_voices(diarizer, found, voices, threshold: float = THRESHOLD):
    """Known voices helping clustering the other way (measured, not adopted): while a known voice names nobody, find
    one speaker more (rediarize from the kept inputs, milliseconds) and keep it when more
    voices are then named."""
    named = sum(i.name is not None for i in identify(found, voices, threshold))
    while named < len(voices) and found.inputs is not None:
        more = diarizer.rediarize(found.inputs, num_speakers=len(found.speakers) + 1)
        now = sum(i.name is not None for i in identify(more, voices, threshold))
        if now <= named:
            break
        found, named = more, now
    return found


def score_pairs(clips: Clips, threshold: float, merge: Optional[float] = None,
                split: bool = False) -> tuple[NamingScore, list[str], float]:
    """Every directed pair named at ``threshold``; with ``merge``, found speakers matching one
    known voice at least that well are first made one (merged_by_voice); with
    ``split``, speakers are added while that names more known voices (split_for_voices)."""
    total, rows, match_seconds = NamingScore(0, 0, 0, 0), [], 0.0
    for source, target in directed_pairs():
        voices = clips.voices[source]
        started = time.perf_counter()
        found = clips.diarization[target]
        if split:
            found = split_for_voices(clips.diarizer, found, voices, threshold)
        if merge is not None:
            found = merged_by_voice(found, voices, merge)
        identities = identify(found, voices, threshold)
        named = rename(found, identities)
        match_seconds += time.perf_counter() - started
        score = _score(clips, target, {v.name for v in voices}, named.turns)
        total = total + score
        given = ", ".join(f"{i.label}→{i.name or '-'} ({i.score})" for i in identities)
        rows.append(f"| {source} → {target} | {_pct(score.accuracy)} | {_pct(score.false_naming)} | {given} |")
    return total, rows, match_seconds


def similarity_spread(clips: Clips) -> str:
    """Same-person and different-person similarities between enrolled voices and the found
    speakers they overlap most (a found speaker counts as person X when X holds most of its time)."""
    same, different = [], []
    for source, target in directed_pairs():
        found = clips.diarization[target]
        owners = _owners(found, target)
        for label, centroid in found.centroids.items():
            for voice in clips.voices[source]:
                score = float(similarities([centroid], [voice.vector])[0, 0])
                (same if owners.get(label) == voice.name else different).append(score)
    return (f"same person: {len(same)} pairs, {min(same):.3f}–{max(same):.3f}; "
            f"different people: {len(different)} pairs, {min(different):.3f}–{max(different):.3f}")


def _owners(diarization, uri: str) -> dict[str, str]:
    reference = read_rttm(AMI / "ami.rttm", uri)
    out = {}
    for label in diarization.speakers:
        mine = [t for t in diarization.turns if t.speaker == label]
        shares = {}
        for turn in mine:
            for segment, _, person in reference.itertracks(yield_label=True):
                shared = min(turn.end, segment.end) - max(turn.start, segment.start)
                if shared > 0:
                    shares[person] = shares.get(person, 0.0) + shared
        if shares:
            out[label] = max(shares, key=shares.get)
    return out


def sample_words(diarizer) -> str:
    """The pyannote sample: Diane (speaker90) and Sheila (speaker91) enrolled from their turns in
    the first 15 s, the whole file transcribed (Whisper base): words after 15 s named right."""
    from hearback.pipeline import Pipeline
    from hearback.types import Audio, Options

    folder = TESTDATA / "diarization"
    audio = decode(folder / "pyannote-sample.wav")
    reference = read_rttm(folder / "pyannote-sample.rttm")
    names = {"speaker90": "Diane", "speaker91": "Sheila"}
    voices = []
    for person, name in names.items():
        spans = [(s.start, min(s.end, 15.0)) for s in reference.label_timeline(person) if s.start < 15.0]
        samples = np.concatenate([audio.samples[int(a * 16000):int(b * 16000)] for a, b in spans])
        voices.append(enrol(name, [Audio(samples)], diarizer))
    pipeline = Pipeline.load(Settings(whisper_model="base", diarization_backend="embedded", device="cpu"),
                             diarizer=diarizer)
    started = time.perf_counter()
    result = pipeline.transcribe(audio, Options(language="en"), voices=voices)
    job_seconds = time.perf_counter() - started
    right = total = 0
    for word in (w for s in result.segments for w in s.words if w.start >= 15.0):
        middle = (word.start + word.end) / 2
        speaking = {names[l] for s, _, l in reference.itertracks(yield_label=True) if s.start <= middle <= s.end}
        if len(speaking) == 1:
            total, right = total + 1, right + (word.speaker in speaking)
    return (f"pyannote sample: {right}/{total} words after 15 s named right ({100 * right / total:.1f} %); "
            f"names {[(i.label, i.name, i.score) for i in result.identities]}; job {job_seconds:.1f} s")


def rediarize_cost(diarizer) -> list[str]:
    """The 10-minute meeting (evaluation/variants.py ``english_meeting``) through the pipeline
    (Whisper base), then rediarized as a job would be: the kept inputs written and read back,
    clustered again, the words re-assigned; with no bounds, the count found -1 and +1, and the
    true count. Each against the job's time; DER (collar 0, overlap scored) of each."""
    import tempfile
    from pathlib import Path

    from evaluation.der import der_metric, to_annotation
    from evaluation.variants import english_meeting
    from hearback.diarize.inputs import load_inputs, save_inputs
    from hearback.pipeline import Pipeline
    from hearback.speakers.rediarize import reassigned
    from hearback.types import Options

    meeting = english_meeting(TESTDATA, 10.0)
    pipeline = Pipeline.load(Settings(whisper_model="base", diarization_backend="embedded", device="cpu"),
                             diarizer=diarizer)
    started = time.perf_counter()
    result = pipeline.transcribe(meeting.audio, Options(language="en"))
    job = time.perf_counter() - started
    found, true = len(result.diarization.speakers), len(meeting.reference.labels())
    words = [(w.word, w.start, w.end) for s in result.segments for w in s.words]
    der = der_metric()
    lines = [f"10-minute meeting ({meeting.audio.duration:.0f} s): job {job:.1f} s "
             f"(diarize {result.timings['diarize']:.1f} s), {found} speakers found, {true} in the reference, "
             f"DER {100 * der(meeting.reference, to_annotation(result.diarization.turns), uem=meeting.scored):.1f} %",
             "", "| num_speakers | rediarize | ÷ job | speakers | words unchanged | DER |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="bench-hearback-") as folder:
        save_inputs(Path(folder), result.diarization.inputs)
        size = (Path(folder) / "diarization.npz").stat().st_size
        for count in dict.fromkeys((None, max(1, found - 1), found + 1, true)):
            started = time.perf_counter()
            new = reassigned(result, diarizer.rediarize(load_inputs(Path(folder)), num_speakers=count), ())
            seconds = time.perf_counter() - started
            same = [(w.word, w.start, w.end) for s in new.segments for w in s.words] == words
            score = der(meeting.reference, to_annotation(new.diarization.turns), uem=meeting.scored)
            lines.append(f"| {'found' if count is None else count} | {seconds:.2f} s | {seconds / job:.4f} | {len(new.speakers)} | "
                         f"{same} | {100 * score:.1f} % |")
    return lines + ["", f"kept inputs: {size / 1024:.0f} KiB"]


def ceilings(clips: Clips) -> list[str]:
    """What diarization leaves to name (oracles, evaluation/ceiling.py), per pair and in total,
    against the named accuracy reached; then known voices steering the
    clustering chunk by chunk (``voice_guided``), swept."""
    from evaluation.ceiling import detected, oracle_clustered, oracle_named, voice_guided

    kinds = ("named now", "best naming of the found speakers", "chunks clustered by the reference",
             "that clustering, named by matching", "speech heard at all")
    totals = dict.fromkeys(kinds, NamingScore(0, 0, 0, 0))
    rows = ["| enrolled from → named | " + " | ".join(kinds) + " |", "|---|---|---|---|---|---|"]
    for source, target in directed_pairs():
        voices, found = clips.voices[source], clips.diarization[target]
        enrolled = {v.name for v in voices}
        if not enrolled:
            continue
        reference = read_rttm(AMI / "ami.rttm", target)
        clustered = oracle_clustered(clips.diarizer, found.inputs, reference) if found.inputs else found
        turns = {kinds[0]: rename(found, identify(found, voices)).turns,
                 kinds[1]: oracle_named(found, reference, enrolled),
                 kinds[2]: oracle_named(clustered, reference, enrolled),
                 kinds[3]: rename(clustered, identify(clustered, voices)).turns,
                 kinds[4]: detected(found, enrolled)}
        scores = {k: _score(clips, target, enrolled, t) for k, t in turns.items()}
        totals = {k: totals[k] + scores[k] for k in kinds}
        rows.append(f"| {source} → {target} | " + " | ".join(_pct(scores[k].accuracy) for k in kinds) + " |")
    rows.append("| **all pairs** | " + " | ".join(f"**{_pct(totals[k].accuracy)}**" for k in kinds) + " |")
    lines = ["## What diarization leaves to name (named accuracy, oracles that know the reference)", "", *rows, "",
             "Known voices steering the clustering chunk by chunk (voice_guided), then named at "
             f"{THRESHOLD}:", ""]
    for bonus in GUIDED_BONUS:
        for floor in GUIDED_FLOOR:
            total = NamingScore(0, 0, 0, 0)
            for source, target in directed_pairs():
                voices, found = clips.voices[source], clips.diarization[target]
                if voices and found.inputs is not None:
                    found = voice_guided(clips.diarizer, found.inputs, [v.vector for v in voices], bonus, floor)
                named = rename(found, identify(found, voices))
                total = total + _score(clips, target, {v.name for v in voices}, named.turns)
            lines.append(f"- bonus {bonus}, floor {floor}: named accuracy {_pct(total.accuracy)}, "
                         f"false naming {_pct(total.false_naming)}")
    return lines


def _score(clips: Clips, target: str, enrolled: set[str], turns) -> NamingScore:
    return score_naming(turns, AMI / "ami.rttm", target, enrolled, clips.audio[target].duration,
                        clips.uems.get(target))


def _pct(value: float) -> str:
    return "—" if value != value else f"{100 * value:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep", action="store_true", help="score other thresholds too")
    parser.add_argument("--rediarize-only", action="store_true", help="only the rediarize figures")
    parser.add_argument("--pairs-only", action="store_true", help="only the AMI pairs")
    parser.add_argument("--ceiling", action="store_true",
                        help="only what diarization leaves to name (oracles), and voice-guided clustering")
    args = parser.parse_args()
    setup_logging()
    diarizer = load_diarizer(Settings(diarization_backend="embedded", device="cpu"))
    if args.rediarize_only:
        write_results(__spec__.name, "speakers-rediarize", "\n".join(rediarize_cost(diarizer)))
        return
    clips = Clips(diarizer)
    for pair in directed_pairs():
        for uri in pair:
            clips.load(uri)
    if args.ceiling:
        write_results(__spec__.name, "speakers-ceiling", "\n".join(ceilings(clips)))
        return
    lines = ["## AMI pairs: enrolled from one clip's solo speech, the other clip named", "",
             similarity_spread(clips), ""]
    for threshold in (SWEEP if args.sweep else (THRESHOLD,)):
        total, rows, match_seconds = score_pairs(clips, threshold)
        lines.append(f"threshold {threshold}: named accuracy {_pct(total.accuracy)}, "
                     f"false naming {_pct(total.false_naming)}")
        if threshold == THRESHOLD:
            table = ["| enrolled from → named | accuracy | false naming | speakers found → name (score) |",
                     "|---|---|---|---|", *rows]
            per_job = match_seconds / len(directed_pairs())
            cost = (f"matching: {1000 * per_job:.2f} ms per job; diarization alone "
                    f"{clips.diarize_seconds / len(clips.audio):.2f} s per 30 s clip")
    lines += ["", "Known voices merging found speakers (merged_by_voice), then named at "
              f"{THRESHOLD}:", ""]
    for merge in MERGE_SWEEP:
        total, rows, _ = score_pairs(clips, THRESHOLD, merge)
        lines.append(f"- merge at {merge}: named accuracy {_pct(total.accuracy)}, "
                     f"false naming {_pct(total.false_naming)}")
    total, split_rows, _ = score_pairs(clips, THRESHOLD, split=True)
    lines.append(f"- one speaker more while a known voice names nobody: named accuracy "
                 f"{_pct(total.accuracy)}, false naming {_pct(total.false_naming)}")
    if args.pairs_only:
        write_results(__spec__.name, "speakers-pairs", "\n".join(lines + ["", *table, "", *split_rows]))
        return
    lines += ["", *table, "", sample_words(clips.diarizer), "", cost,
              f"enrolment: {clips.enrol_seconds:.2f} s for {clips.voice_seconds:.1f} s of voice = "
              f"{60 * clips.enrol_seconds / clips.voice_seconds:.2f} s per minute of voice",
              "", "## Rediarize", "", *rediarize_cost(clips.diarizer)]
    write_results(__spec__.name, "speakers", "\n".join(lines))


if __name__ == "__main__":
    main()
