"""Speakers by name: voiceprints of known people, and matching them to the speakers found.

* :mod:`hearback.speakers.voiceprint`: a person's voiceprint from recordings of them alone,
  made with the diarizer's own embedding model;
* :mod:`hearback.speakers.match`: one-to-one assignment of found speakers to known voices,
  above a calibrated threshold, and the diarization renamed accordingly;
* :mod:`hearback.speakers.references` (one request's known speakers) and
  :mod:`hearback.speakers.library` (the voice library);
* :mod:`hearback.speakers.rediarize`: a finished job's words given to speakers found again
  (renames and merges are edits: :mod:`hearback.edits`).

May import the floor, the diarizer's protocol (:mod:`hearback.diarize`, for its embedding
model), :mod:`hearback.audio` and the assignment of words to speakers; what a job keeps about
its speakers is :mod:`hearback.jobs`' (``voices``, ``kept_speakers``).
"""
