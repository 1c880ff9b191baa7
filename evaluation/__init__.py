"""Scoring and test recordings, shared by the tests (``tests/``) and the benchmarks (``bench/``).

- ``testdata``: where the recordings are (``HEARBACK_TESTDATA`` or the repository's
  ``testdata/``), the sets they form, and readers for their reference files (RTTM, UEM, STM).
- ``der``: diarization error rate (pyannote.metrics, collar 0, overlapped speech scored).
- ``wer``: word error rate and cpWER after Whisper's text normalisers.
- ``variants``: harder and longer recordings built from the clips (transcodes, noise,
  concatenated meetings with their references shifted).

Importable from the repository root: pytest has it on its ``pythonpath``, and the benchmarks
run as ``python -m bench.<name>`` from there.
"""
