"""Speakers by name: voiceprints of known people, and matching them to the speakers found.

* :mod:`hearback.speakers.voiceprint`: a person's voiceprint from recordings of them alone,
  made with the diarizer's own embedding model;
* :mod:`hearback.speakers.match`: one-to-one assignment of found speakers to known voices,
  above a calibrated threshold, and the diarization renamed accordingly;
* :mod:`hearback.speakers.references` (one request's known speakers),
  :mod:`hearback.speakers.library` (the voice library), :mod:`hearback.jobs.voices`
  and :mod:`hearback.jobs.kept_speakers` (what a job keeps about its speakers);
* :mod:`hearback.speakers.edit` and :mod:`hearback.speakers.rediarize`: a finished job's
  speakers renamed, merged, or found again.
"""
