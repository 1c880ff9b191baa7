"""An edited document is made from the last one (``hearback.edits.documents``): it must be
``result_to_dict``'s, dict and text, to the byte, whatever the edits did; and the checks of an
edit look at what it changed (``hearback.edits.checks``) yet refuse what the whole-document
check refuses. Real results: the pipeline (base + embedded diarization) on the pyannote sample."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from hearback import edits
from hearback.document import result_to_dict
from hearback.edits.documents import Documents
from hearback.errors import HearbackError


def longer(result, copies: int = 6):
    """The sample laid end to end ``copies`` times (times shifted), as bench_edits does."""
    segments = []
    for k in range(copies):
        shift = k * result.duration
        segments += [replace(s, start=s.start + shift, end=s.end + shift,
                             words=tuple(replace(w, start=w.start + shift, end=w.end + shift) for w in s.words))
                     for s in result.segments]
    return replace(result, segments=tuple(segments), duration=copies * result.duration)


def test_a_document_made_from_the_last_is_result_to_dict_to_the_byte(sample_result):
    result = longer(sample_result)
    made = Documents()
    steps = [lambda r: r, lambda r: edits.rename(r, "SPEAKER_00", "Diane Ö'\"\\"),
             lambda r: edits.assign(r, 20, "Sheila", [1, 3]), lambda r: edits.edit(r, 21, "Hearbäck 漢字", [0, 1]),
             lambda r: edits.edit(r, 5, ""), lambda r: edits.merge(r, ["Diane Ö'\"\\", "SPEAKER_01"]),
             lambda r: replace(r, language="fr")]
    for step in steps:
        result = step(result)
        document = made.of(result)
        assert document.document == result_to_dict(result)
        assert document.text == json.dumps(result_to_dict(result), ensure_ascii=False)


def test_the_checks_of_an_edit_refuse_what_the_whole_check_refuses(sample_result):
    result = longer(sample_result)
    assert edits.refuse_new_problems(result, edits.rename(result, "SPEAKER_00", "Diane")).text  # nothing to check
    index = next(i for i, s in enumerate(result.segments) if i > 30 and len(s.words) >= 3)
    looped = edits.edit(result, index, "yes yes yes yes yes yes yes yes yes yes")
    with pytest.raises(HearbackError) as caught:
        edits.refuse_new_problems(result, looped)
    assert caught.value.code == "invalid_edit" and "loop" in caught.value.message
    # a word heard twice: the next segment's first word put, with its time, into this one
    nxt = result.segments[index + 1]
    twice = replace(result.segments[index], words=result.segments[index].words + nxt.words[:1],
                    end=max(result.segments[index].end, nxt.words[0].end))
    doubled = replace(result, segments=result.segments[:index] + (twice,) + result.segments[index + 1:])
    with pytest.raises(HearbackError) as caught:
        edits.refuse_new_problems(result, doubled)
    assert "duplicate" in caught.value.message
    widest = max(range(len(result.segments)), key=lambda i: result.segments[i].end - result.segments[i].start)
    much = edits.edit(result, widest, " ".join(["word"] * int(edits.MAX_CHARS_PER_SECOND * result.duration / 5 + 50)))
    with pytest.raises(HearbackError) as caught:
        edits.refuse_new_problems(result, much)
    assert "per second of audio" in caught.value.message
