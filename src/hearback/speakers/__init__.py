"""Speakers by name: voiceprints of known people, and matching them to the speakers found.

* :mod:`hearback.speakers.voiceprint`: a person's voiceprint from recordings of them alone,
  made with the diarizer's own embedding model;
* :mod:`hearback.speakers.match`: one-to-one assignment of found speakers to known voices,
  above a calibrated threshold, and the diarization renamed accordingly.
"""
