"""Transcript edits (hearback.edits) on a real result, and the editor's API over real HTTP:
job list, playback audio with Range, edits and undo that every export follows and that survive
a restart, and a delete that leaves nothing. Real models (base / tiny.en + embedded
diarization) on the pyannote sample; nothing mocked."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace

import av
import httpx
import pytest

from hearback import edits
from hearback.document import result_to_dict
from hearback.errors import HearbackError
from hearback.invariants import check
from tests.httpserver import hearback_server, wait_for_job


def valid(result):
    """The result keeps every promise of the document."""
    problems = check(result_to_dict(result))
    assert problems == [], problems
    return result


def words_of(result):
    return [w for s in result.segments for w in s.words]


def speakers_named(result) -> set:
    """Every speaker a segment, word or turn carries."""
    return ({s.speaker for s in result.segments} | {w.speaker for w in words_of(result)}
            | {t.speaker for t in result.diarization.turns})


def long_segment(result, speaker=None, words=5):
    """The index of the first segment with at least ``words`` words (of ``speaker``)."""
    return next(i for i, s in enumerate(result.segments)
                if len(s.words) >= words and speaker in (None, s.speaker))


# --------------------------------------------------------------------------- pure functions


def test_rename_reaches_segments_words_turns_and_leaves_the_input(sample_result):
    before = result_to_dict(sample_result)
    renamed = valid(edits.rename(sample_result, "SPEAKER_00", "Diane"))
    assert set(renamed.speakers) == {"Diane", "SPEAKER_01"}
    assert speakers_named(renamed) == {"Diane", "SPEAKER_01"}
    assert result_to_dict(sample_result) == before  # the input is untouched


def test_merge_leaves_one_speaker_with_joined_turns(sample_result):
    merged = valid(edits.merge(sample_result, ["SPEAKER_01", "SPEAKER_00"]))
    assert merged.speakers == ("SPEAKER_01",) and speakers_named(merged) == {"SPEAKER_01"}
    turns = merged.diarization.turns
    assert all(a.end < b.start for a, b in zip(turns, turns[1:]))  # overlaps joined
    assert [w.word for w in words_of(merged)] == [w.word for w in words_of(sample_result)]


def test_assign_a_whole_turn_moves_its_words_and_its_time(sample_result):
    index = long_segment(sample_result, "SPEAKER_01", words=3)
    segment = sample_result.segments[index]
    moved = valid(edits.assign(sample_result, index, "SPEAKER_00"))
    assert len(moved.segments) == len(sample_result.segments)
    assert moved.segments[index].speaker == "SPEAKER_00"
    assert {w.speaker for w in moved.segments[index].words} == {"SPEAKER_00"}
    inside = [t for t in moved.diarization.turns if t.start < segment.end and t.end > segment.start]
    assert {t.speaker for t in inside} == {"SPEAKER_00"}  # the timeline follows
    assert moved.segments[:index] == sample_result.segments[:index]


def test_assign_a_word_range_splits_the_segment_in_three(sample_result):
    index = long_segment(sample_result, words=5)
    segment = sample_result.segments[index]
    moved = valid(edits.assign(sample_result, index, "Sheila", [1, 3]))
    pieces = moved.segments[index:index + 3]
    assert len(moved.segments) == len(sample_result.segments) + 2
    assert [p.speaker for p in pieces] == [segment.speaker, "Sheila", segment.speaker]
    assert [len(p.words) for p in pieces] == [1, 2, len(segment.words) - 3]
    assert " ".join(p.text for p in pieces).split() == segment.text.split()  # no text lost or doubled
    assert (pieces[0].start, pieces[-1].end) == (segment.start, segment.end)
    assert "Sheila" in moved.speakers and "Sheila" in {t.speaker for t in moved.diarization.turns}
    assert sample_result.segments[index] == segment


def test_moving_every_word_of_a_speaker_removes_the_speaker(sample_result):
    merged_away = sample_result
    while "SPEAKER_01" in merged_away.speakers:
        index = next(i for i, s in enumerate(merged_away.segments) if s.speaker == "SPEAKER_01")
        merged_away = edits.assign(merged_away, index, "SPEAKER_00")
    valid(merged_away)
    assert merged_away.speakers == ("SPEAKER_00",) and speakers_named(merged_away) == {"SPEAKER_00"}


def test_editing_a_word_keeps_its_time(sample_result):
    index = long_segment(sample_result, words=4)
    segment = sample_result.segments[index]
    old = segment.words[2]
    edited = valid(edits.edit(sample_result, index, "Hearback", [2, 3]))
    new = edited.segments[index]
    assert (new.words[2].word, new.words[2].start, new.words[2].end) == ("Hearback", old.start, old.end)
    assert "Hearback" in new.text and new.text.split()[:2] == segment.text.split()[:2]
    assert (new.start, new.end, len(new.words)) == (segment.start, segment.end, len(segment.words))


def test_new_words_share_the_replaced_span_by_length(sample_result):
    index = long_segment(sample_result, words=4)
    old = sample_result.segments[index].words
    edited = valid(edits.edit(sample_result, index, "a considerably longer replacement", [0, 2]))
    new = edited.segments[index].words
    assert [w.word for w in new[:4]] == ["a", "considerably", "longer", "replacement"]
    assert new[0].start == pytest.approx(old[0].start) and new[3].end == pytest.approx(max(old[0].end, old[1].end))
    lengths = [w.end - w.start for w in new[:4]]
    assert lengths[1] > lengths[3] > lengths[2] > lengths[0]  # 12, 11, 6 and 1 characters
    assert new[4:] == old[2:]


def test_editing_a_whole_turn_and_deleting_one(sample_result):
    index = long_segment(sample_result, words=3)
    segment = sample_result.segments[index]
    edited = valid(edits.edit(sample_result, index, "Completely new words here."))
    assert edited.segments[index].text == "Completely new words here."
    assert [w.word for w in edited.segments[index].words] == ["Completely", "new", "words", "here."]
    assert edited.segments[index].words[0].start == segment.words[0].start
    removed = valid(edits.edit(sample_result, index, ""))
    assert len(removed.segments) == len(sample_result.segments) - 1
    fewer = valid(edits.edit(sample_result, index, "", [0, 1]))
    assert fewer.segments[index].words == segment.words[1:]


@pytest.mark.parametrize("change, code", [
    (lambda r: edits.assign(r, 10_000, "SPEAKER_00"), "invalid_edit"),
    (lambda r: edits.assign(r, 0, "SPEAKER_00", [2, 1]), "invalid_edit"),
    (lambda r: edits.edit(r, 0, "x", [0, 10_000]), "invalid_edit"),
    (lambda r: edits.edit(r, 0, " ".join(["word"] * 5000)), "invalid_edit"),  # cannot fit in the span
    (lambda r: edits.edit(r, 0, "yes yes yes yes yes yes yes yes"), None),  # allowed here, refused by the batch
    (lambda r: edits.assign(replace(r, speakers=()), 0, "Diane"), "invalid_edit"),
    (lambda r: edits.assign(r, 0, "SPEAKER_07"), "invalid_speaker_name"),
    (lambda r: edits.rename(r, "Nobody", "Diane"), "unknown_speaker"),
    (lambda r: edits.merge(r, ["SPEAKER_00", "SPEAKER_00"]), "invalid_edit"),
])
def test_bad_edits_have_codes(sample_result, change, code):
    if code is None:
        looped = change(sample_result)
        with pytest.raises(HearbackError) as caught:
            edits.refuse_new_problems(sample_result, looped)
        assert caught.value.code == "invalid_edit" and "loop" in caught.value.message
        return
    with pytest.raises(HearbackError) as caught:
        change(sample_result)
    assert caught.value.code == code


def test_spread_is_whole_milliseconds_and_never_empty():
    times = edits.spread([1, 1, 1, 30], 1.0, 1.005)
    assert [round((b - a) * 1000) for a, b in times] == [1, 1, 1, 2]
    assert times[0][0] == 1.0 and times[-1][1] == 1.005


# --------------------------------------------------------------------------- over HTTP


def submit(url: str, path) -> str:
    with path.open("rb") as fh:
        answer = httpx.post(f"{url}/v1/jobs", files={"file": (path.name, fh)}, data={"language": "en"}, timeout=60)
    assert answer.status_code == 202, answer.text
    assert answer.json()["filename"] == path.name and answer.json()["revision"] == answer.json()["undo_steps"] == 0
    return answer.json()["id"]


def revision(url: str, job_id: str) -> int:
    """The job's revision as its view shows it."""
    return httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()["revision"]


def post_edits(url: str, job_id: str, *ops) -> dict:
    """The ops as one batch on the job's current revision; the new document, without its revision."""
    before = revision(url, job_id)
    answer = httpx.post(f"{url}/v1/jobs/{job_id}/edits", json={"ops": list(ops), "revision": before}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["revision"] == before + 1 == revision(url, job_id)
    return document(answer.json())


def undo(url: str, job_id: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/jobs/{job_id}/undo", json={"revision": revision(url, job_id)}, timeout=30)


def document(answer: dict) -> dict:
    """A change's answer without the revision it carries: the JSON document itself."""
    return {k: v for k, v in answer.items() if k != "revision"}


def export(url: str, job_id: str, fmt: str) -> str:
    return httpx.get(f"{url}/v1/jobs/{job_id}/result", params={"format": fmt}, timeout=30).text


def check_playback_audio(url: str, job_id: str, duration: float) -> None:
    """The kept audio is Opus in Ogg, as long as the recording, and answers Range requests."""
    whole = httpx.get(f"{url}/v1/jobs/{job_id}/audio", timeout=30)
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/ogg"
    assert whole.headers["accept-ranges"] == "bytes"
    with av.open(io.BytesIO(whole.content)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "opus" and stream.channels == 1
        assert float(container.duration / av.time_base) == pytest.approx(duration, abs=0.2)
    part = httpx.get(f"{url}/v1/jobs/{job_id}/audio", headers={"Range": "bytes=1000-1999"}, timeout=30)
    assert part.status_code == 206 and part.content == whole.content[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(whole.content)}"


def test_editor_api_over_http(pipeline_tiny, testdata, tmp_path):
    sample = testdata / "diarization" / "pyannote-sample.wav"
    db = tmp_path / "jobs.sqlite3"
    with hearback_server(pipeline_tiny, tmp_path) as url:
        job_id = submit(url, sample)
        job = wait_for_job(url, job_id)
        assert job["status"] == "succeeded", job
        listed = httpx.get(f"{url}/v1/jobs", params={"limit": 5}, timeout=10).json()
        assert listed["object"] == "list" and listed["data"][0] == job
        assert job["audio"] is True and job["speakers"] == 2 and job["filename"] == "pyannote-sample.wav"
        check_playback_audio(url, job_id, job["duration"])

        renamed = post_edits(url, job_id, {"op": "rename", "speaker": "SPEAKER_00", "name": "Diane"})
        assert set(renamed["speakers"]) == {"Diane", "SPEAKER_01"}
        for fmt, mark in (("srt", "[Diane]"), ("vtt", "<v Diane>"), ("json", '"Diane"'), ("txt", "Diane")):
            assert mark in export(url, job_id, fmt), fmt
        from hearback.jobs.store import JobStore
        assert set(JobStore(db).voices.kept(job_id)) == {"Diane", "SPEAKER_01"}  # "this voice is" follows

        merged = post_edits(url, job_id, {"op": "merge", "speakers": ["Diane", "SPEAKER_01"]})
        assert merged["speakers"] == ["Diane"] and "SPEAKER_01" not in export(url, job_id, "vtt")
        undone = document(undo(url, job_id).json())
        assert undone == renamed and set(JobStore(db).voices.kept(job_id)) == {"Diane", "SPEAKER_01"}

        segments = renamed["transcription"]["segments"]
        index = next(i for i, s in enumerate(segments) if len(s["words"]) >= 4)
        split = post_edits(url, job_id, {"op": "assign", "segment": index, "speaker": "Sheila", "words": [1, 3]})
        assert len(split["transcription"]["segments"]) == len(segments) + 2
        assert split["transcription"]["segments"][index + 1]["speaker"] == "Sheila"
        assert "Sheila" in export(url, job_id, "srt")
        assert document(undo(url, job_id).json()) == renamed

        word = segments[index]["words"][2]
        edited = post_edits(url, job_id, {"op": "edit", "segment": index, "text": "Hearback", "words": [2, 3]})
        new = edited["transcription"]["segments"][index]["words"][2]
        assert (new["word"], new["start"], new["end"]) == ("Hearback", word["start"], word["end"])
        assert "Hearback" in export(url, job_id, "srt")
        view = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()
        assert (view["undo_steps"], view["revision"]) == (2, 6)  # every change a new revision, undo too
        check_refusals(url, job_id, index)

    with hearback_server(pipeline_tiny, tmp_path) as url:  # a new server on the same database
        assert document(undo(url, job_id).json()) == renamed
        original = document(undo(url, job_id).json())
        assert set(original["speakers"]) == {"SPEAKER_00", "SPEAKER_01"} and "[Diane]" not in export(url, job_id, "srt")
        assert set(JobStore(db).voices.kept(job_id)) == {"SPEAKER_00", "SPEAKER_01"}
        nothing = undo(url, job_id)
        assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "nothing_to_undo"
        post_edits(url, job_id, {"op": "rename", "speaker": "SPEAKER_01", "name": "Sheila"})

        assert httpx.delete(f"{url}/v1/jobs/{job_id}", timeout=10).status_code == 200
        assert not (tmp_path / "audio" / "kept" / job_id).exists()
        gone = httpx.get(f"{url}/v1/jobs/{job_id}/audio", timeout=10)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM job_history").fetchone()[0] == 0


def check_refusals(url: str, job_id: str, index: int) -> None:
    """Bad batches are refused with their code and change nothing."""
    before = export(url, job_id, "json")
    now = revision(url, job_id)
    for body, code in (({"ops": [{"op": "split", "segment": 0}]}, "invalid_edit"),
                       ({"ops": [{"op": "edit", "segment": 0, "text": "x", "extra": 1}]}, "invalid_edit"),
                       ({"ops": []}, "invalid_edit"),
                       ({"ops": [{"op": "rename", "speaker": "Diane", "name": "Ann"},
                                 {"op": "assign", "segment": 10_000, "speaker": "Ann"}]}, "invalid_edit"),
                       ({"ops": [{"op": "edit", "segment": index, "text": "no no no no no no no no"}]},
                        "invalid_edit"),
                       ({"ops": [{"op": "rename", "speaker": "Nobody", "name": "Ann"}]}, "unknown_speaker")):
        answer = httpx.post(f"{url}/v1/jobs/{job_id}/edits", json={**body, "revision": now}, timeout=30)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == code, (body, answer.text)
    bad_json = httpx.post(f"{url}/v1/jobs/{job_id}/edits", content=b"{not json",
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert bad_json.json()["error"]["code"] == "invalid_edit"
    assert export(url, job_id, "json") == before
    missing = httpx.post(f"{url}/v1/jobs/{'0' * 32}/undo", json={"revision": 0}, timeout=30)
    assert missing.status_code == 404


def test_both_rename_doors_give_one_document_and_a_merge_tidies_turns(pipeline_tiny, testdata, tmp_path):
    """Issue 23, item 5: ``PATCH …/speakers`` and ``POST …/edits`` are one code path. The same
    rename and the same merge give identical documents through either door, and a merge joins
    the merged speakers' touching turns into one."""
    with hearback_server(pipeline_tiny, tmp_path) as url:
        job_id = submit(url, testdata / "diarization" / "pyannote-sample.wav")
        assert wait_for_job(url, job_id)["status"] == "succeeded"
        first = httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json()
        assert first["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
        doors = {
            "rename": ({"renames": {"SPEAKER_01": "Sheila"}}, {"op": "rename", "speaker": "SPEAKER_01", "name": "Sheila"}),
            "merge": ({"merges": [["SPEAKER_00", "SPEAKER_01"]]}, {"op": "merge", "speakers": ["SPEAKER_00", "SPEAKER_01"]}),
        }
        first = document(first)
        for name, (patch, op) in doors.items():
            patched = httpx.patch(f"{url}/v1/jobs/{job_id}/speakers", timeout=30,
                                  json={**patch, "revision": revision(url, job_id)})
            assert patched.status_code == 200, patched.text
            assert document(undo(url, job_id).json()) == first
            assert post_edits(url, job_id, op) == document(patched.json()), name
            assert document(undo(url, job_id).json()) == first
        merged = patched.json()
    turns = [(t["start"], t["end"]) for t in merged["turns"]]
    assert {t["speaker"] for t in merged["turns"]} == {"SPEAKER_00"}
    assert all(a[1] < b[0] for a, b in zip(turns, turns[1:])), "a merged speaker's turns touch or overlap"


def test_a_merge_through_either_door_joins_two_touching_turns():
    """The review's reproduction: two turns of two speakers that touch become one turn."""
    from hearback.api.edits import SpeakerEdits
    from hearback.types import Diarization, Result, Segment, Turn, Word

    words = (Word("Hello", 0.1, 0.5, 0.9, "SPEAKER_00"), Word("there.", 1.2, 1.8, 0.9, "SPEAKER_01"))
    result = Result((Segment(0.1, 0.5, "Hello", words[:1], "SPEAKER_00"),
                     Segment(1.2, 1.8, "there.", words[1:], "SPEAKER_01")), "en", 2.0, ("SPEAKER_00", "SPEAKER_01"),
                    diarization=Diarization((Turn(0.0, 1.0, "SPEAKER_00"), Turn(1.0, 2.0, "SPEAKER_01")), ()))
    through_edits = edits.merge(result, ["SPEAKER_00", "SPEAKER_01"])
    through_patch = SpeakerEdits(merges=[["SPEAKER_00", "SPEAKER_01"]], revision=0).apply(result)
    assert through_edits == through_patch
    assert through_patch.diarization.turns == (Turn(0.0, 2.0, "SPEAKER_00"),)
