"""The recording before any model hears it: :mod:`~hearback.audio.fetch` brings a job's audio to
a private temporary file (SSRF-guarded, capped, always removed) and
:mod:`~hearback.audio.decode` decodes any file FFmpeg reads to 16 kHz mono float32 once, with
damaged stretches reported instead of dropped. May import the floor (types, errors, settings)
and :mod:`hearback.runtime`.
"""
