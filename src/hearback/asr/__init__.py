"""Speech recognition: audio in, words with times out (the pipeline's "transcribe" and "align" stages).

:mod:`~hearback.asr.recognizer` runs faster-whisper's batched pipeline over Silero VAD speech
(:mod:`~hearback.asr.batched`) of levelled audio (:mod:`~hearback.asr.loudness`), mends repetition loops (:mod:`~hearback.asr.loops` finds them,
:mod:`~hearback.asr.mend` decodes them again), gives each speech region its language
(:mod:`~hearback.asr.language_regions`) and makes word times keep the document's promises
(:mod:`~hearback.asr.word_times`); :mod:`~hearback.asr.align` refines word times with a wav2vec2
model when one is installed, and :mod:`~hearback.asr.models` finds a Whisper model on disk.
Only this folder imports faster-whisper (``recognizer``, ``batched`` and ``mend`` at the top,
``models`` lazily for the hub's model list) and whisperX (``align``, lazily); ``loops``,
``word_times``, ``loudness`` and ``language_regions`` are light, so the contract's checks can use them. May
import: the floor (types, errors, settings, languages, document) and :mod:`hearback.runtime`;
nothing imports it but the pipeline, the entry points and the speakers' voiceprints (for Silero
VAD, :func:`~hearback.asr.batched.vad_stamps`).
"""
