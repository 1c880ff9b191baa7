"""Speakers by name (hearback.speakers): voiceprints from real speech with the embedded
diarizer's CAM++, matched to the speakers diarization finds in real recordings.

Nothing is mocked. The one test on hand-made vectors checks the assignment rule itself
(optimal, one-to-one, thresholded), which no recording here isolates."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation.naming import score_naming, solo_audio
from evaluation.testdata import read_rttm, read_uem
from hearback.audio.decode import decode
from hearback.document import result_from_dict, result_to_dict
from hearback.errors import ErrorCode, HearbackError
from hearback.speakers.match import THRESHOLD, identify, rename
from hearback.speakers.voiceprint import Voiceprint, enrol
from hearback.types import Audio, Diarization, Options, Turn
from hearback.writers import render

#: the pyannote sample's reference speakers, under the names the test gives them
SAMPLE_NAMES = {"speaker90": "Diane", "speaker91": "Sheila"}


def _cut(audio: Audio, spans) -> Audio:
    rate = audio.sample_rate
    return Audio(np.concatenate([audio.samples[int(a * rate):int(b * rate)] for a, b in spans]), rate)


@pytest.fixture(scope="module")
def sample_audio(testdata):
    return decode(testdata / "diarization" / "pyannote-sample.wav")


@pytest.fixture(scope="module")
def sample_voices(testdata, sample_audio, embedded_diarizer):
    """Diane and Sheila, each enrolled from their reference turns in the first 15 s."""
    reference = read_rttm(testdata / "diarization" / "pyannote-sample.rttm")
    voices = []
    for person, name in SAMPLE_NAMES.items():
        spans = [(s.start, min(s.end, 15.0)) for s in reference.label_timeline(person) if s.start < 15.0]
        voices.append(enrol(name, [_cut(sample_audio, spans)], embedded_diarizer))
    return voices


def test_sample_words_after_15_s_carry_the_right_names(pipeline_tiny, sample_audio, sample_voices, testdata):
    result = pipeline_tiny.transcribe(sample_audio, Options(language="en"), voices=sample_voices)
    reference = read_rttm(testdata / "diarization" / "pyannote-sample.rttm")
    right = total = 0
    for word in (w for s in result.segments for w in s.words if w.start >= 15.0):
        middle = (word.start + word.end) / 2
        speaking = {SAMPLE_NAMES[l] for s, _, l in reference.itertracks(yield_label=True) if s.start <= middle <= s.end}
        if len(speaking) == 1:
            total += 1
            right += word.speaker in speaking
    assert total >= 30
    assert right / total >= 0.95, f"{right}/{total} words after 15 s named right"
    assert set(result.speakers) == {"Diane", "Sheila"}
    by_label = {i.label: i for i in result.identities}
    assert {i.name for i in by_label.values()} == {"Diane", "Sheila"}
    assert all(i.score >= THRESHOLD for i in by_label.values())
    # the JSON document says it per speaker, and survives the round trip every export uses
    document = result_to_dict(result)
    assert {(i["name"], i["speaker"]) for i in document["speaker_identities"]} == {("Diane", "Diane"), ("Sheila", "Sheila")}
    assert result_to_dict(result_from_dict(document)) == document
    assert "[Diane]" in render(result, "srt") and "<v Sheila>" in render(result, "vtt")


def test_people_not_in_the_recording_are_not_named(embedded_diarizer, testdata, sample_audio):
    """Unknown stays unknown: the four people of an AMI clip, enrolled, are not in the sample."""
    ami = testdata / "diarization" / "ami"
    audio = decode(ami / "tst00.flac")
    reference = read_rttm(ami / "ami.rttm", "tst00")
    uem = read_uem(ami / "ami.uem")["tst00"]
    voices = [enrol(p, [solo_audio(audio, reference, p, uem)], embedded_diarizer) for p in reference.labels()]
    assert len(voices) == 4
    diarization = embedded_diarizer.diarize(sample_audio)
    identities = identify(diarization, voices)
    assert [i.label for i in identities] == diarization.speakers and len(identities) == 2
    assert all(i.name is None and i.score < THRESHOLD for i in identities)
    assert rename(diarization, identities) == diarization


def test_across_recordings_the_same_people_are_named(embedded_diarizer, testdata):
    """dev01's people enrolled from their solo speech there; dev00 (same two people) named."""
    ami = testdata / "diarization" / "ami"
    uems = read_uem(ami / "ami.uem")
    source = decode(ami / "dev01.flac")
    reference = read_rttm(ami / "ami.rttm", "dev01")
    voices = [enrol(p, [solo_audio(source, reference, p, uems["dev01"])], embedded_diarizer)
              for p in reference.labels()]
    target = decode(ami / "dev00.flac")
    diarization = embedded_diarizer.diarize(target)
    assert diarization.embedding_model == voices[0].model and diarization.centroids
    identities = identify(diarization, voices)
    named = rename(diarization, identities)
    assert sorted(i.name for i in identities) == ["MEE009", "MEE012"]
    score = score_naming(named.turns, ami / "ami.rttm", "dev00", {"MEE009", "MEE012"},
                         target.duration, uems["dev00"])
    assert score.accuracy >= 0.6 and score.false_naming == 0.0  # bench/RESULTS.md: 66.5 %


def test_assignment_is_optimal_one_to_one_and_thresholded():
    """Greedy would give A to the first speaker (0.9) and leave the second with nothing
    above the threshold; the optimal assignment names both."""
    model = "m"
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    first = 0.9 * a + np.sqrt(1 - 0.81) * b          # cos 0.9 with A, 0.44 with B
    second = 0.8 * a + 0.6 * b                        # cos 0.8 with A, 0.6 with B
    third = np.array([0.0, 0.0, 1.0])                 # nobody
    diarization = Diarization(
        turns=(Turn(0, 1, "SPEAKER_00"), Turn(1, 2, "SPEAKER_01"), Turn(2, 3, "SPEAKER_02")),
        exclusive=(), centroids={"SPEAKER_00": tuple(first), "SPEAKER_01": tuple(second),
                                 "SPEAKER_02": tuple(third)}, embedding_model=model)
    voices = [Voiceprint("A", model, tuple(a), 5.0), Voiceprint("B", model, tuple(b), 5.0)]
    names = [i.name for i in identify(diarization, voices, threshold=0.42)]
    assert names == ["A", "B", None]
    assert [i.name for i in identify(diarization, voices, threshold=0.7)] == ["A", None, None]
    other = [Voiceprint("A", "another model", tuple(a), 5.0)]
    assert [i.name for i in identify(diarization, other)] == [None, None, None]


@pytest.mark.parametrize("spans, code", [
    ([(0.0, 0.0)], ErrorCode.REFERENCE_NO_SPEECH),        # nothing at all
    ([(8.32, 9.5)], ErrorCode.REFERENCE_TOO_SHORT),       # 1.2 s of Diane
])
def test_bad_references_get_their_codes(embedded_diarizer, sample_audio, spans, code):
    with pytest.raises(HearbackError) as caught:
        enrol("Diane", [_cut(sample_audio, spans)], embedded_diarizer)
    assert caught.value.code == code


def test_silence_is_no_speech_and_reserved_names_are_refused(embedded_diarizer):
    silence = Audio(np.zeros(16000 * 5, dtype=np.float32))
    with pytest.raises(HearbackError) as caught:
        enrol("Diane", [silence], embedded_diarizer)
    assert caught.value.code == ErrorCode.REFERENCE_NO_SPEECH
    for name in ("", "  ", "SPEAKER_03", "x" * 101):
        with pytest.raises(HearbackError) as caught:
            enrol(name, [silence], embedded_diarizer)
        assert caught.value.code == ErrorCode.INVALID_SPEAKER_NAME


# --------------------------------------------------------------------------- per request


def test_known_speaker_lists_are_checked():
    from hearback.speakers.references import MAX_KNOWN_SPEAKERS, check_known

    assert check_known([" Alice ", "Bob"], 2) == ("Alice", "Bob")
    for names, count in ((["Alice"], 2), (["Alice", "Alice"], 2),
                         ([f"P{i}" for i in range(MAX_KNOWN_SPEAKERS + 1)], MAX_KNOWN_SPEAKERS + 1)):
        with pytest.raises(HearbackError) as caught:
            check_known(names, count)
        assert caught.value.code == ErrorCode.INVALID_KNOWN_SPEAKERS


def test_cli_names_speakers_from_reference_files(testdata, tmp_path, sample_audio, capsys):
    import json

    import soundfile

    from hearback.cli.main import main

    refs = _reference_wavs(testdata, sample_audio, tmp_path)
    arguments = [a for name, path in refs.items() for a in ("--speaker", f"{name}={path}")]
    sample = testdata / "diarization" / "pyannote-sample.wav"
    out = tmp_path / "out"
    code = main(["transcribe", str(sample), "--model", "tiny.en", "--language", "en",
                 "--format", "all", "--output-dir", str(out), *arguments])
    assert code == 0, capsys.readouterr().err
    document = json.loads((out / "pyannote-sample.json").read_text())
    assert set(document["speakers"]) == {"Diane", "Sheila"}
    assert (out / "pyannote-sample.txt").read_text().split(":")[0] in {"Diane", "Sheila"}
    # a bad reference is a usage error with its code, before any file is transcribed
    silent = tmp_path / "silence.wav"
    soundfile.write(silent, np.zeros(16000 * 3, dtype=np.float32), 16000)
    code = main(["transcribe", str(sample), "--model", "tiny.en", "--output-dir", str(out),
                 "--speaker", f"Diane={silent}"])
    assert code == 2 and "reference_no_speech" in capsys.readouterr().err
    assert main(["transcribe", str(sample), "--speaker", "Diane"]) == 2


def _reference_wavs(testdata, sample_audio, folder) -> dict[str, object]:
    """Diane's and Sheila's first-15-s turns as WAV files."""
    import soundfile

    reference = read_rttm(testdata / "diarization" / "pyannote-sample.rttm")
    out = {}
    for person, name in SAMPLE_NAMES.items():
        spans = [(s.start, min(s.end, 15.0)) for s in reference.label_timeline(person) if s.start < 15.0]
        out[name] = folder / f"{name}.wav"
        soundfile.write(out[name], _cut(sample_audio, spans).samples, 16000)
    return out


def test_runpod_known_speakers_name_the_speakers(tiny_worker, testdata, sample_audio, tmp_path):
    import base64

    def b64(path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    refs = _reference_wavs(testdata, sample_audio, tmp_path)
    job = {"audio_base64": b64(testdata / "diarization" / "pyannote-sample.wav"), "language": "en",
           "output_format": "srt",
           "known_speakers": [{"name": n, "audio_base64": b64(p)} for n, p in refs.items()]}
    out = tiny_worker.handler({"id": "t", "input": job})
    assert set(out["speakers"]) == {"Diane", "Sheila"}, out
    assert {i["name"] for i in out["speaker_identities"]} == {"Diane", "Sheila"}
    assert "[Diane]" in out["subtitles"] and "[Sheila]" in out["subtitles"]
    cases = [
        ([{"name": "Diane", "audio_base64": b64(refs["Diane"])}] * 2, ErrorCode.INVALID_KNOWN_SPEAKERS),
        ([{"name": "Diane"}], ErrorCode.MISSING_AUDIO),
        ([{"name": "Diane", "audio_base64": "AAAA"}], ErrorCode.INVALID_AUDIO),
        ([{"name": "Diane", "audio_base64": b64(refs["Diane"]), "x": 1}], ErrorCode.UNKNOWN_FIELD),
    ]
    for known, code in cases:
        out = tiny_worker.handler({"id": "t", "input": {**job, "known_speakers": known}})
        assert out.get("error_code") == code, (known, out)


def test_openai_sdk_over_real_http_names_the_speakers(pipeline_tiny, testdata, sample_audio, tmp_path):
    """The openai SDK's own known_speaker_names/known_speaker_references (sent as ``name[]``),
    and plain form fields without ``[]``, on a real server."""
    import base64

    import openai
    import requests

    from tests.httpserver import hearback_server

    refs = _reference_wavs(testdata, sample_audio, tmp_path)
    names = list(refs)
    urls = [f"data:audio/wav;base64,{base64.b64encode(p.read_bytes()).decode()}" for p in refs.values()]
    sample = testdata / "diarization" / "pyannote-sample.wav"
    with hearback_server(pipeline_tiny, tmp_path / "server") as server:
        client = openai.OpenAI(base_url=f"{server}/v1", api_key="unused")
        with sample.open("rb") as fh:
            diarized = client.audio.transcriptions.create(
                model="gpt-4o-transcribe-diarize", file=fh, response_format="diarized_json",
                known_speaker_names=names, known_speaker_references=urls)
        assert {s.speaker for s in diarized.segments} == {"Diane", "Sheila"}
        with sample.open("rb") as fh:
            verbose = client.audio.transcriptions.create(
                model="whisper-1", file=fh, response_format="verbose_json", language="en",
                timestamp_granularities=["word"], extra_body={"known_speaker_names": names,
                                                               "known_speaker_references": urls})
        assert {w.speaker for w in verbose.words} == {"Diane", "Sheila"}
        plain = [("known_speaker_names", n) for n in names] + [("known_speaker_references", u) for u in urls]
        with sample.open("rb") as fh:
            answer = requests.post(f"{server}/v1/audio/transcriptions", files={"file": fh},
                                   data=plain + [("response_format", "srt")], timeout=600)
        assert answer.status_code == 200 and "[Diane]" in answer.text and "[Sheila]" in answer.text
        with sample.open("rb") as fh:
            answer = requests.post(f"{server}/v1/audio/transcriptions", files={"file": fh},
                                   data=plain[:3] + [("response_format", "srt")], timeout=600)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_known_speakers"


# --------------------------------------------------------------------------- the library


def test_library_cli_add_list_transcribe_remove_leaves_no_copy(testdata, sample_audio, tmp_path,
                                                               monkeypatch, capsys):
    """``hearback speakers add/list/remove`` on a real file, transcription naming from it, and
    deletion: after remove (+ VACUUM) the vector's bytes are nowhere in the database file."""
    import json

    from hearback.cli.main import main
    from hearback.speakers.library import Library

    refs = _reference_wavs(testdata, sample_audio, tmp_path)
    db = tmp_path / "voices.sqlite"
    monkeypatch.setenv("SPEAKER_LIBRARY", str(db))
    for name, path in refs.items():
        assert main(["speakers", "add", name, str(path)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["speakers", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in listed] == ["Diane", "Sheila"]
    sample = testdata / "diarization" / "pyannote-sample.wav"
    out = tmp_path / "out"
    assert main(["transcribe", str(sample), "--model", "tiny.en", "--language", "en",
                 "--output-dir", str(out)]) == 0
    assert set(json.loads((out / "pyannote-sample.json").read_text())["speakers"]) == {"Diane", "Sheila"}
    assert main(["transcribe", str(sample), "--model", "tiny.en", "--language", "en", "--no-library",
                 "--output-dir", str(out)]) == 0
    assert set(json.loads((out / "pyannote-sample.json").read_text())["speakers"]) == {"SPEAKER_00", "SPEAKER_01"}

    diane = next(e for e in Library(db).entries() if e.voice.name == "Diane")
    vector = np.asarray(diane.voice.vector, dtype=np.float32).tobytes()
    assert vector in db.read_bytes()
    assert main(["speakers", "remove", "Diane"]) == 0
    assert vector not in db.read_bytes() and vector[:64] not in db.read_bytes()
    assert [e.voice.name for e in Library(db, readonly=True).entries()] == ["Sheila"]
    assert main(["speakers", "remove", "Diane"]) == 2 and "not_found" in capsys.readouterr().err
    # a read-only library (RunPod workers on a network volume) refuses writes, never creates
    monkeypatch.setenv("SPEAKER_LIBRARY_READONLY", "1")
    assert main(["speakers", "remove", "Sheila"]) == 2
    assert Library(tmp_path / "absent.sqlite", readonly=True).voices() == ()
    assert not (tmp_path / "absent.sqlite").exists()


def test_http_library_enrol_list_name_delete(pipeline_tiny, testdata, sample_audio, tmp_path):
    """/v1/speakers over real HTTP: enrol from files, list, every transcription names the
    library's voices, delete removes the voiceprint from the file for good."""
    import requests

    from hearback.speakers.library import Library
    from tests.httpserver import hearback_server

    refs = _reference_wavs(testdata, sample_audio, tmp_path)
    db = tmp_path / "voices.sqlite"
    sample = testdata / "diarization" / "pyannote-sample.wav"
    with hearback_server(pipeline_tiny, tmp_path / "server", speaker_library=db) as server:
        ids = {}
        for name, path in refs.items():
            with path.open("rb") as fh:
                answer = requests.post(f"{server}/v1/speakers", data={"name": name},
                                       files=[("file", fh)], timeout=120)
            assert answer.status_code == 201, answer.text
            ids[name] = answer.json()["id"]
        listed = requests.get(f"{server}/v1/speakers", timeout=30).json()["data"]
        assert sorted(v["name"] for v in listed) == ["Diane", "Sheila"]
        with sample.open("rb") as fh:
            answer = requests.post(f"{server}/v1/audio/transcriptions", files={"file": fh},
                                   data={"response_format": "vtt", "language": "en"}, timeout=600)
        assert "<v Diane>" in answer.text and "<v Sheila>" in answer.text
        vector = np.asarray(next(e for e in Library(db).entries() if e.voice.name == "Diane").voice.vector,
                            dtype=np.float32).tobytes()
        answer = requests.delete(f"{server}/v1/speakers/{ids['Diane']}", timeout=30)
        assert answer.json() == {"id": ids["Diane"], "name": "Diane", "deleted": True}
        assert vector not in db.read_bytes()
        assert requests.delete(f"{server}/v1/speakers/{ids['Diane']}", timeout=30).status_code == 404
        with refs["Diane"].open("rb") as fh:
            answer = requests.post(f"{server}/v1/speakers", data={"name": "SPEAKER_01"},
                                   files=[("file", fh)], timeout=120)
        assert answer.json()["error"]["code"] == "invalid_speaker_name"
    with hearback_server(pipeline_tiny, tmp_path / "bare") as server:
        answer = requests.get(f"{server}/v1/speakers", timeout=30)
        assert answer.status_code == 409 and answer.json()["error"]["code"] == "speaker_library_unavailable"


# --------------------------------------------------------------------------- fix after the fact


def test_http_rename_and_merge_a_finished_job_every_export_follows(pipeline_tiny, testdata, tmp_path):
    import re
    import time

    import requests
    import srt

    from tests.httpserver import hearback_server

    sample = testdata / "diarization" / "pyannote-sample.wav"
    with hearback_server(pipeline_tiny, tmp_path / "server", speaker_library=tmp_path / "voices.sqlite") as server:
        with sample.open("rb") as fh:
            job = requests.post(f"{server}/v1/jobs", files={"file": fh}, data={"language": "en"}, timeout=60).json()
        url = f"{server}/v1/jobs/{job['id']}"
        while requests.get(url, timeout=10).json()["status"] in ("queued", "running"):
            time.sleep(1)
        before = requests.get(f"{url}/result", timeout=10).json()
        assert before["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
        words_before = [w["word"] for s in before["transcription"]["segments"] for w in s["words"]]

        answer = requests.patch(f"{url}/speakers", json={"renames": {"SPEAKER_00": "Diane", "SPEAKER_01": "Sheila"},
                                                       "revision": _revision(url)},
                                timeout=10)
        assert answer.status_code == 200, answer.text
        document = requests.get(f"{url}/result", timeout=10).json()
        assert document == answer.json() and document["speakers"] == ["Diane", "Sheila"]
        assert [w["word"] for s in document["transcription"]["segments"] for w in s["words"]] == words_before
        assert {w["speaker"] for s in document["transcription"]["segments"] for w in s["words"]} == {"Diane", "Sheila"}
        subtitles = requests.get(f"{url}/result", params={"format": "srt"}, timeout=10).text
        assert list(srt.parse(subtitles)) and "SPEAKER_" not in subtitles
        # the SRT names the speaker where the speaker changes (subtitle presets)
        assert set(re.findall(r"\[[^\]]+\]", subtitles)) == {"[Diane]", "[Sheila]"}
        assert "<v Sheila>" in requests.get(f"{url}/result", params={"format": "vtt"}, timeout=10).text
        assert {t["speaker"] for t in document["turns"]} == {"Diane", "Sheila"}  # who spoke when too
        rttm = requests.get(f"{url}/result", params={"format": "rttm"}, timeout=10).text
        assert {line.split()[7] for line in rttm.splitlines()} == {"Diane", "Sheila"}
        txt = requests.get(f"{url}/result", params={"format": "txt"}, timeout=10).text
        assert {line.split(":")[0] for line in txt.splitlines()} == {"Diane", "Sheila"}

        # enrol from the finished job: "this voice is Sheila", no audio sent; the library names her
        answer = requests.post(f"{server}/v1/speakers", data={"name": "Sheila", "job_id": job["id"],
                                                                "speaker": "Sheila"}, timeout=30)
        assert answer.status_code == 201 and answer.json()["name"] == "Sheila", answer.text
        with sample.open("rb") as fh:
            answer = requests.post(f"{server}/v1/audio/transcriptions", files={"file": fh},
                                   data={"response_format": "verbose_json", "language": "en",
                                         "timestamp_granularities[]": "word"}, timeout=600)
        assert {w["speaker"] for w in answer.json()["words"]} == {"Sheila", "SPEAKER_00"}
        answer = requests.post(f"{server}/v1/speakers", data={"name": "X", "job_id": job["id"],
                                                                "speaker": "SPEAKER_00"}, timeout=30)
        assert answer.json()["error"]["code"] == "unknown_speaker"  # renamed: it is Diane now

        answer = requests.patch(f"{url}/speakers", json={"merges": [["Diane", "Sheila"]], "revision": _revision(url)},
                                timeout=10)
        merged = requests.get(f"{url}/result", timeout=10).json()
        assert merged["speakers"] == ["Diane"]
        assert {s["speaker"] for s in merged["transcription"]["segments"]} == {"Diane"}
        cues = list(srt.parse(requests.get(f"{url}/result", params={"format": "srt"}, timeout=10).text))
        labels = {c.content.split("]")[0] + "]" for c in cues if c.content.startswith("[")}
        assert labels == set()  # one voice left: the SRT needs no label (subtitle presets)
        vtt = requests.get(f"{url}/result", params={"format": "vtt"}, timeout=10).text
        assert "<v Diane>" in vtt and "Sheila>" not in vtt  # VTT still names the voice on every cue

        for body, code in (({"renames": {"Nobody": "X"}}, "unknown_speaker"),
                           ({"renames": {"Diane": "SPEAKER_04"}}, "invalid_speaker_name"),
                           ({"merges": [["Diane"]]}, "invalid_input")):
            answer = requests.patch(f"{url}/speakers", json={**body, "revision": _revision(url)}, timeout=10)
            assert answer.status_code == 400 and answer.json()["error"]["code"] == code, answer.text
        assert requests.get(f"{url}/result", timeout=10).json() == merged  # a refused edit changes nothing
        assert requests.patch(f"{server}/v1/jobs/nope/speakers", json={}, timeout=10).status_code == 404
        # the kept embeddings followed the merge, and go with the job
        from hearback.jobs.store import JobStore

        kept = JobStore(tmp_path / "server" / "jobs.sqlite3").voices
        assert set(kept.kept(job["id"])) == {"Diane"}
        requests.delete(url, timeout=10)
        assert kept.kept(job["id"]) == {}


def _revision(job_url: str) -> int:
    """A job's current revision (every change names the one it was made against)."""
    import requests

    return requests.get(job_url, timeout=10).json()["revision"]
