"""The subtitle engine: where SRT and WebVTT cues break, when they show, and how well they keep a
published standard.

:mod:`~hearback.subtitles.presets` holds the standards' limits (Netflix, BBC) as data;
:mod:`~hearback.subtitles.tokens` turns segments into words by speaker;
:mod:`~hearback.subtitles.layout` lays the whole file out at once (cuts, dual-speaker cues,
late starts), timing every candidate as :mod:`~hearback.subtitles.timing` will;
:mod:`~hearback.subtitles.linebreak` breaks lines as a subtitler would;
:mod:`~hearback.subtitles.cues` is the face (``build_cues``) and
:mod:`~hearback.subtitles.lint` counts the cues that break each rule. May import only the floor
(:mod:`hearback.types`); only the writers (:mod:`hearback.writers`, lazily) and the entry points'
option lists (presets) import it. Importing this package loads none of its modules.
"""
