"""Speech recognition: faster-whisper's batched pipeline over Silero VAD speech.

The only module that imports faster-whisper. Why faster-whisper's own
``BatchedInferencePipeline`` rather than WhisperX's: it gives word timestamps
itself (WhisperX's batched pipeline needs a wav2vec2 alignment model for them,
which cannot be had offline), it takes an in-memory array, and it measured as
fast on CPU (bench/RESULTS.md).

What Whisper and its VAD hear is levelled first (``loudness``): quiet speech brought up to one
loudness. Without it the batched pass dropped whole quiet sentences (en-30min: 43.8 % WER
first pass alone, 26.4 % with the second pass below); levelled, 11.4 % and 10.0 %
(bench/results/asr_checks.md, issue 26). After the batched pass, any VAD speech region it
left without a word is decoded again: Whisper, given several voices in one 30 s chunk, can stop
after the first (AMI tst00: one sentence of 30 s). Those regions are packed, 0.5 s of silence
apart, into as few 30 s clips as they fill, and the few still left without a word are decoded
one per clip (on AMI tst00 they hold most of its words). Long files go through in ~10-minute windows so that
memory stays bounded.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Optional

import numpy as np
from faster_whisper import WhisperModel

from ..document import language_shares
from ..errors import ErrorCode, HearbackError
from ..runtime.memory import trim
from ..types import SAMPLE_RATE, Audio, ProgressHook, Segment, Stage, Transcript, no_progress
from .batched import CLIP_SECONDS, Chunk, ProbingPipeline, detect_regions, speech_regions, with_onsets
from .language_regions import MIN_REGION_SECONDS, by_region, runs, suspect
from .loudness import levelled
from .mend import loop_notices, mend, own
from .word_times import distinct, on_recording, settle, untangle, without_repeats

logger = logging.getLogger(__name__)

#: Long recordings are transcribed in windows of about this many seconds, cut at the quietest
#: moment near each boundary. faster-whisper computes a call's log-mel features all at once
#: (about 1 MB per 30 s of speech) and copies the speech it keeps; windows keep that bounded.
WINDOW_SECONDS = 600.0
#: How far (s) either side of a window boundary to look for the quietest 0.2 s.
CUT_SEARCH_SECONDS = 10.0
#: Speech regions at least this long left without a word get a second decoding pass.
MIN_UNHEARD_SECONDS = 1.0
#: Silence (s) between the regions packed into one clip in the second pass.
PACK_GAP_SECONDS = 0.5


@dataclass(frozen=True)
class AsrOptions:
    language: Optional[str] = None  # None = detect
    word_timestamps: bool = True
    initial_prompt: Optional[str] = None
    beam_size: int = 5
    batch_size: int = 8


class Recognizer:
    """A Whisper model loaded once and reused for every job."""

    def __init__(self, model_path: str, *, device: str, compute_type: str, cpu_threads: int):
        logger.info("loading Whisper from %s (%s, %s)", model_path, device, compute_type)
        self.model = WhisperModel(
            model_path, device=device, compute_type=compute_type, cpu_threads=cpu_threads
        )
        self.batched = ProbingPipeline(self.model)
        #: seconds spent on loop and language checks and the re-decodes they asked for, this job
        self._check_seconds = 0.0

    @property
    def multilingual(self) -> bool:
        return self.model.model.is_multilingual

    def check_language(self, language: Optional[str]) -> None:
        """Raise ``unsupported_language`` for a language this model cannot transcribe. Whether
        Whisper knows the code at all is checked once, when the request is validated
        (``hearback.schema``, from ``hearback.languages``)."""
        if language is not None and language != "en" and not self.multilingual:
            raise HearbackError(
                ErrorCode.UNSUPPORTED_LANGUAGE,
                f"the loaded Whisper model is English-only; language {language!r} needs a "
                "multilingual model (e.g. WHISPER_MODEL=base)",
            )

    def transcribe(
        self, audio: Audio, options: AsrOptions, progress: ProgressHook = no_progress
    ) -> Transcript:
        """Per window: pass 1 is faster-whisper's batched pipeline over its VAD chunks (speech
        concatenated into ≤ 30 s); chunks holding a region in another language are decoded
        again run by run of one language (:meth:`_switch`); pass 2 decodes again the speech
        regions left without a word (Whisper tends to stop after the first speaker of a chunk;
        VAD misses some onsets, ``batched.with_onsets``), packed into shared clips
        (:meth:`_second_pass`), minus the words pass 1 already has (``timing.without_repeats``).
        Every decoding call mends its repetition loops (``mend.py``).
        Language: the caller's, or detected on the first window with speech; the transcript's
        is the one with the largest share of speech."""
        self.check_language(options.language)
        language = options.language if self.multilingual else "en"
        probe = language is None and options.word_timestamps  # switching needs word times
        probability = 1.0 if language else 0.0
        self._check_seconds = 0.0
        out: list[Segment] = []
        duration = max(audio.duration, 1e-6)
        for start, end in windows(audio.samples, audio.sample_rate, WINDOW_SECONDS, CUT_SEARCH_SECONDS):
            offset = start / audio.sample_rate
            # what Whisper and its VAD hear: quiet speech brought up to one level (``loudness``)
            samples = levelled(audio.samples[start:end], audio.sample_rate)
            # faster-whisper keeps its VAD result to itself, so the speech regions are found a
            # second time here (0.7 s per 10 minutes on 2 cores, bench/RESULTS.md profile).
            vad = speech_regions(samples, audio.sample_rate)
            first, info = self._decode(samples, None, language, options, probe, vad)
            if info.duration_after_vad == 0:
                continue
            if language is None:  # the first window with speech sets the language
                language, probability = info.language, info.language_probability
            chunks = [(c.start, c.end, c.languages) for c in self._chunks(vad)]
            suspects = [(s, e) for s, e, found in chunks if probe and suspect(found, language)]
            mixed = bool(suspects)
            # Onsets only where languages are checked: in one-language windows the extra regions
            # changed the second pass's packed clips and cost en-30min 4 WER points (19.5 → 23.8 %).
            started = time.perf_counter()
            speech = with_onsets(samples, audio.sample_rate, vad) if mixed else vad
            self._check_seconds += time.perf_counter() - started
            regions = self._region_languages(samples, audio.sample_rate, speech, language, suspects) if mixed else {}
            first = self._switch(samples, first, speech, regions, language, [c[:2] for c in chunks], options)
            missed = _unheard(speech, first)
            second = self._second_pass_by_language(samples, audio.sample_rate, missed, regions, language, options)
            out += settled(first, second, duration, offset)
            trim()  # give this window's buffers back before the next
            progress(Stage.TRANSCRIBE, min(end / len(audio.samples), 1.0))
        segments = untangle(out)
        main = language_shares(segments, language or "en")[0][0] if segments else language or "en"
        logger.info("transcribed %d segments, language %s (p=%.2f); checks and re-decodes took %.2f s",
                    len(segments), main, probability, self._check_seconds,
                    extra={"check_seconds": self._check_seconds})
        return Transcript(tuple(segments), main, probability if main == (language or "en") else None,
                          notices=tuple(loop_notices(segments)))

    def _chunks(self, speech: list[tuple[float, float]]) -> list[Chunk]:
        """The chunks of the batched call just made, on the recording's time line (``speech``:
        the regions its VAD found)."""
        return [replace(c, start=on_recording(c.start, speech), end=on_recording(c.end, speech))
                for c in self.batched.chunks.values()]

    def _region_languages(self, samples: np.ndarray, sample_rate: int, speech: list[tuple[float, float]],
                          language: str, suspects: list[tuple[float, float]]) -> dict[tuple[float, float], str]:
        """A language for every speech region (``language_regions.by_region``): Whisper is asked
        for those in a ``suspects`` chunk (recording time) and long enough to tell (each costs
        an encoder pass); the others are in ``language``, as the probe heard their chunks."""
        started = time.perf_counter()
        inside = [r for r in speech if any(a <= (r[0] + r[1]) / 2 <= b for a, b in suspects)]
        long = [r for r in inside if r[1] - r[0] >= MIN_REGION_SECONDS]
        found = {r: ((language, 1.0),) for r in speech if r not in inside}
        found.update(zip(long, detect_regions(self.model, samples, sample_rate, long)))
        regions = by_region(speech, found, language)
        self._check_seconds += time.perf_counter() - started
        logger.info("language check by region: %d regions asked in %d suspect chunks, %d of %d in another "
                    "language than %s", len(long), len(suspects),
                    sum(code != language for code in regions.values()), len(speech), language)
        return regions

    def _switch(self, samples: np.ndarray, segments: list[Segment], speech: list[tuple[float, float]],
                regions: dict[tuple[float, float], str], language: str, chunks: list[tuple[float, float]],
                options: AsrOptions) -> list[Segment]:
        """``segments`` with the first-pass ``chunks`` (recording time) that hold a region in
        another language than ``language`` decoded again, run by run of one language
        (``speech_languages.runs``); the other chunks' segments are kept as they are."""
        mixed = [c for c in chunks if any(code != language and c[0] <= (r[0] + r[1]) / 2 <= c[1]
                                          for r, code in regions.items())]
        if not mixed:
            return segments
        started, counted = time.perf_counter(), self._check_seconds
        kept_chunks = [c for c in chunks if c not in mixed]
        again = [r for r in speech if not any(a <= (r[0] + r[1]) / 2 <= b for a, b in kept_chunks)]
        kept = [seg for seg in segments if not any(a <= (seg.start + seg.end) / 2 <= b for a, b in mixed)]
        clips = runs(again, regions)
        for code in dict.fromkeys(c for c, _s, _e in clips):
            kept += self._decode(samples, [(s, e) for c, s, e in clips if c == code], code, options)[0]
        logger.info("%d of %d chunks hold another language: %d runs decoded again", len(mixed), len(chunks),
                    len(clips))
        self._check_seconds = counted + time.perf_counter() - started  # its decodes' checks included
        return kept

    def _second_pass_by_language(self, samples: np.ndarray, sample_rate: int, missed: list[tuple[float, float]],
                                 regions: dict[tuple[float, float], str], language: str,
                                 options: AsrOptions) -> list:
        """:meth:`_second_pass` once per language of the ``missed`` regions (``regions`` holds
        those not in ``language``)."""
        out: list = []
        for code in dict.fromkeys(regions.get(r, language) for r in missed):
            out += self._second_pass(samples, sample_rate, [r for r in missed if regions.get(r, language) == code],
                                     code, options)
        return out

    def _second_pass(self, samples: np.ndarray, sample_rate: int, missed: list[tuple[float, float]],
                        language: str, options: AsrOptions) -> list:
        """Decode the ``missed`` regions (s) again: packed into shared clips, then one clip each
        for those that shared a clip and are still without a word. Packing needs word
        timestamps to put each word back in its region; without them every region gets its
        own clip."""
        if not missed:
            return []
        logger.info("second pass over %d speech regions (%.1f s) the first pass left empty",
                    len(missed), sum(e - s for s, e in missed))
        if not options.word_timestamps:
            return self._decode(samples, missed, language, options)[0]
        packed = _Packed(samples, sample_rate, missed)
        segments = packed.unpack(self._decode(packed.samples, packed.clips, language, options)[0])
        # A region that had a clip to itself was decoded alone already: not again.
        still = [r for r in _unheard(missed, segments) if not packed.alone(r)]
        if still:
            logger.info("%d of %d regions still empty once packed: one clip each", len(still), len(missed))
            segments += without_repeats(self._decode(samples, still, language, options)[0], segments)
        return segments

    def _decode(self, samples: np.ndarray, clips: Optional[list[tuple[float, float]]],
                language: Optional[str], options: AsrOptions, probe: bool = False,
                speech: Optional[list[tuple[float, float]]] = None) -> tuple[list, Any]:
        """Batched decoding of ``clips`` (s), or of faster-whisper's own VAD chunks when None
        (``speech``: the regions its VAD finds, ``batched.speech_regions``), with looping chunks decoded
        again (``mend.py``). Each segment spans at least the chunk it was decoded from (where
        collapsed words get spread, :func:`timing.settle`). ``probe``: ask Whisper each chunk's
        language too (``self.batched.chunks``)."""
        self.batched.begin(probe)
        raw, info = self.batched.transcribe(
            samples,
            language=language,
            vad_filter=clips is None,
            clip_timestamps=[{"start": s, "end": e} for s, e in clips] if clips else None,
            word_timestamps=options.word_timestamps,
            # Text tokens only (the batched default): with timestamp tokens the meeting lost fewer
            # sentences in pass 1, but the pyannote sample's WER rose from 12.6 % to 17.2 %.
            without_timestamps=True,
            initial_prompt=options.initial_prompt,
            beam_size=options.beam_size,
            batch_size=options.batch_size,
        )
        raw = list(raw)
        started = time.perf_counter()
        chunks = dict(zip(self.batched.chunks, self._chunks(speech))) if clips is None else self.batched.chunks
        pieces = []
        for seg in raw:
            chunk = chunks.get(seg.seek)
            mine = own(seg, language or info.language)
            if chunk is not None:
                mine = replace(mine, start=min(mine.start, chunk.start), end=max(mine.end, chunk.end))
            pieces.append((mine, seg.seek))
        sequential = {"beam_size": options.beam_size, "word_timestamps": options.word_timestamps,
                      "initial_prompt": options.initial_prompt}
        segments = mend(self.model, samples, SAMPLE_RATE, pieces, chunks, sequential)
        self._check_seconds += time.perf_counter() - started + self.batched.probe_seconds
        return segments, info


def settled(first: list[Segment], second: list[Segment], duration: float, offset: float) -> list[Segment]:
    """One window's passes on the recording's time line (:func:`timing.settle`): ``first``,
    then ``second`` minus the words ``first`` already has (:func:`timing.without_repeats`),
    each pass without a word twice (:func:`timing.distinct`). Repeats are looked for once all
    is settled: settling spreads collapsed words over their segment, and two words apart
    before it may overlap after it (a damaged Opus file heard "the username" twice, 0.1 s
    apart before settling and overlapping after)."""
    first = distinct([settle(seg, duration, offset) for seg in first])
    placed = distinct([settle(seg, duration, offset) for seg in second])
    heard = without_repeats(placed, first)
    dropped = sum(len(s.words) for s in placed) - sum(len(s.words) for s in heard)
    if dropped:
        logger.info("second pass: %d words the first pass already has dropped", dropped)
    return first + heard


def _unheard(speech: list[tuple[float, float]], segments,
             max_covered: float = 0.2) -> list[tuple[float, float]]:
    """Speech regions at least MIN_UNHEARD_SECONDS long that decoded words (or segments,
    without word timestamps) cover for less than ``max_covered`` of their length."""
    spans = [(w.start, w.end) for seg in segments for w in (seg.words or ())] or \
            [(seg.start, seg.end) for seg in segments]
    missed = []
    for start, end in speech:
        if end - start < MIN_UNHEARD_SECONDS:
            continue
        covered = sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)
        if covered < max_covered * (end - start):
            missed.append((start, end))
    return missed


class _Packed:
    """Speech regions copied end to end, PACK_GAP_SECONDS of silence apart, into clips of at
    most CLIP_SECONDS; :meth:`unpack` puts decoded words back at their regions' times."""

    def __init__(self, samples: np.ndarray, sample_rate: int, regions: list[tuple[float, float]]):
        gap = np.zeros(int(PACK_GAP_SECONDS * sample_rate), dtype=np.float32)
        pieces, self.places, self.clips = [], [], []  # places: (packed start, packed end, shift)
        clip_of: list[int] = []  # each region's clip
        position, clip_start, limit = 0, 0, int(CLIP_SECONDS * sample_rate)
        for start, end in regions:
            piece = samples[int(start * sample_rate):int(end * sample_rate)]
            if position > clip_start and position + len(piece) - clip_start > limit:
                self.clips.append((clip_start / sample_rate, (position - len(gap)) / sample_rate))
                clip_start = position
            at = position / sample_rate
            self.places.append((at, at + len(piece) / sample_rate, start - at))
            clip_of.append(len(self.clips))
            pieces += [piece, gap]
            position += len(piece) + len(gap)
        self.clips.append((clip_start / sample_rate, (position - len(gap)) / sample_rate))
        self.samples = np.concatenate(pieces)
        per_clip = Counter(clip_of)
        self._alone = {region for region, clip in zip(regions, clip_of) if per_clip[clip] == 1}

    def alone(self, region: tuple[float, float]) -> bool:
        """Whether ``region`` had a clip to itself."""
        return region in self._alone

    def _place(self, time: float) -> int:
        """The region holding ``time`` (packed), or the nearest one."""
        return min(range(len(self.places)),
                   key=lambda i: max(self.places[i][0] - time, time - self.places[i][1], 0.0))

    def unpack(self, segments) -> list:
        """Segments (with words) in packed time → one segment per region they touch, in the
        recording's time."""
        out = []
        for seg in segments:
            by_region: dict[int, list] = {}
            for w in seg.words or ():
                region = self._place((w.start + w.end) / 2)
                lo, hi, shift = self.places[region]
                by_region.setdefault(region, []).append(replace(
                    w, start=min(max(w.start, lo), hi) + shift, end=min(max(w.end, lo), hi) + shift))
            for region, words in by_region.items():
                lo, hi, shift = self.places[region]  # the segment spans the region it was heard in
                out.append(replace(seg, start=lo + shift, end=hi + shift,
                                   text="".join(w.word for w in words).strip(), words=words))
        return out


def windows(samples: np.ndarray, sample_rate: int, window: float = WINDOW_SECONDS,
            search: float = CUT_SEARCH_SECONDS) -> list[tuple[int, int]]:
    """(start, end) sample ranges covering ``samples``: one range up to 1.5 windows long,
    otherwise about ``window`` seconds each, cut at the quietest 0.2 s within ``search``
    seconds of each boundary."""
    total, size, reach = len(samples), int(window * sample_rate), int(search * sample_rate)
    bounds = [0]
    while total - bounds[-1] > 1.5 * size:
        target = bounds[-1] + size
        bounds.append(target - reach + _quietest(samples[target - reach:target + reach], sample_rate))
    bounds.append(total)
    return list(zip(bounds[:-1], bounds[1:]))


def _quietest(samples: np.ndarray, sample_rate: int, frame: float = 0.2) -> int:
    """Offset of the middle of the quietest ``frame``-second stretch of ``samples``."""
    size = int(frame * sample_rate)
    count = len(samples) // size
    energy = np.square(samples[:count * size].reshape(count, size), dtype=np.float64).mean(axis=1)
    return int(np.argmin(energy)) * size + size // 2
