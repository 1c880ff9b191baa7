"""The worker's opt-in extras and its other tasks (what ``hearback serve``'s runpod backend needs
back from the endpoint): speaker embeddings, diarization inputs and voiceprints sent back only when
asked, known voices taken as embeddings instead of recordings, a voiceprint enrolled without a
transcription, speakers found again from sent-back diarization inputs. Real models (tiny.en and
the embedded diarizer) on the pyannote sample, through ``worker.handler``; nothing is mocked."""

from __future__ import annotations

import base64
import io
import wave

import numpy as np
import pytest

from evaluation.testdata import read_rttm
from hearback import worker
from hearback.audio.decode import decode
from hearback.remote import wire
from hearback.schema import EXTRAS, TASKS

pytestmark = pytest.mark.usefixtures("tiny_worker", "no_temp_left")


def _wav_b64(samples: np.ndarray) -> str:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def sample(testdata):
    path = testdata / "diarization" / "pyannote-sample.wav"
    return base64.b64encode(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def diane(testdata):
    """Diane (speaker90) alone: her reference turns of the first 15 s, as a WAV in base64."""
    audio = decode(testdata / "diarization" / "pyannote-sample.wav")
    reference = read_rttm(testdata / "diarization" / "pyannote-sample.rttm")
    spans = [(s.start, min(s.end, 15.0)) for s in reference.label_timeline("speaker90") if s.start < 15.0]
    return _wav_b64(np.concatenate([audio.samples[int(a * 16000):int(b * 16000)] for a, b in spans]))


def run(job_input) -> dict:
    return worker.handler({"id": "extras-test", "input": job_input})


@pytest.fixture(scope="module")
def with_extras(sample, diane):
    out = run({"audio_base64": sample, "language": "en", "use_library": False, "extras": list(EXTRAS),
               "known_speakers": [{"name": "Diane", "audio_base64": diane}]})
    assert "error" not in out, out
    return out


def test_the_lists_are_one():
    assert set(worker.TASKS) == set(TASKS) and set(wire.BUILDERS) == set(EXTRAS)


def test_extras_come_back_only_when_asked(with_extras, sample, tiny_worker):
    extras = with_extras["extras"]
    assert extras["version"] == wire.VERSION and set(extras) == {"version", *EXTRAS}
    assert "Diane" in with_extras["speakers"]
    # one embedding per speaker as the document shows it, of the diarizer's model
    embeddings = extras["speaker_embeddings"]
    assert embeddings["model"] == tiny_worker.get_pipeline().diarizer.embedding_model
    assert set(embeddings["speakers"]) == set(with_extras["speakers"])
    assert all(len(v) == 192 for v in embeddings["speakers"].values())
    # the clustering inputs, as the compressed archive rediarize starts from
    inputs = wire.inputs_from_extra(extras["diarization_inputs"])
    assert inputs.embeddings.shape[-1] == 192 and inputs.duration == pytest.approx(30.0, abs=0.01)
    assert len(base64.b64decode(extras["diarization_inputs"]["data"])) < 200_000
    # the known speaker's voiceprint, so the caller can name them again without the audio
    [voice] = extras["voiceprints"]
    assert voice["name"] == "Diane" and len(voice["vector"]) == 192 and voice["seconds"] > 2


def test_a_known_voice_given_as_an_embedding_names_as_its_recording_does(with_extras, sample):
    """The library stays where it is kept: its vectors are sent, no reference audio."""
    [voice] = with_extras["extras"]["voiceprints"]
    out = run({"audio_base64": sample, "language": "en", "use_library": False,
               "known_voices": [{"name": "Diane", "model": voice["model"], "vector": voice["vector"]}]})
    assert "error" not in out and "extras" not in out, out
    same = {k: v for k, v in with_extras.items() if k not in ("extras", "processing_time")}
    assert {k: v for k, v in out.items() if k != "processing_time"} == same


def test_a_voice_of_another_model_names_nobody(with_extras, sample):
    [voice] = with_extras["extras"]["voiceprints"]
    out = run({"audio_base64": sample, "language": "en", "use_library": False, "diarize": True,
               "known_voices": [{"name": "Diane", "model": "another-model", "vector": voice["vector"]}],
               "output_format": "txt"})
    assert "error" not in out and "Diane" not in out["speakers"], out


def test_enrol_task_gives_the_voiceprint_of_a_transcription(with_extras, diane):
    out = run({"task": "enrol", "name": "Diane", "references": [{"audio_base64": diane}]})
    assert "error" not in out, out
    [voice] = wire.checked(out["extras"])["voiceprints"]
    [kept] = with_extras["extras"]["voiceprints"]
    assert voice["model"] == kept["model"] and voice["seconds"] == kept["seconds"]
    assert np.allclose(voice["vector"], kept["vector"], atol=1e-5)


def test_rediarize_task_finds_the_speakers_again_as_the_local_diarizer(with_extras, embedded_diarizer):
    sent = with_extras["extras"]["diarization_inputs"]
    out = run({"task": "rediarize", "diarization_inputs": sent, "num_speakers": 1})
    assert "error" not in out, out
    found = wire.diarization_from_dict(wire.checked(out["extras"])["diarization"])
    local = embedded_diarizer.rediarize(wire.inputs_from_extra(sent), num_speakers=1)
    assert found.speakers == ["SPEAKER_00"] and found.turns == local.turns
    assert found.exclusive == local.exclusive and set(found.centroids) == {"SPEAKER_00"}


@pytest.mark.parametrize("bad, code", [
    ({"extras": ["everything"]}, "invalid_input"),
    ({"known_voices": [{"name": "A", "model": "m", "vector": []}]}, "invalid_input"),
    ({"known_voices": [{"name": "A", "model": "m", "vector": ["1"]}]}, "invalid_input"),
    ({"known_voices": [{"name": "SPEAKER_01", "model": "m", "vector": [1.0]}]}, "invalid_speaker_name"),
    ({"known_voices": [{"name": "A", "model": "m", "vector": [1.0]}] * 2}, "invalid_known_speakers"),
    ({"known_voices": [{"name": "A", "model": "m", "vector": [1.0]}] * 1001}, "invalid_known_speakers"),
    ({"task": "translate"}, "invalid_input"),
    ({"task": "enrol", "name": "A", "references": []}, "invalid_input"),
    ({"task": "rediarize", "diarization_inputs": {"format": "npz", "data": "bm90IG5weg=="}}, "invalid_input"),
    ({"task": "rediarize", "diarization_inputs": {"format": "npz", "data": ""}, "num_speakers": 0},
     "invalid_speaker_bounds"),
])
def test_bad_task_input_fails_with_its_code(sample, bad, code):
    out = run({"audio_base64": sample, **bad} if bad.get("task") in (None, "transcribe") else bad)
    assert out.get("error_code") == code, out
