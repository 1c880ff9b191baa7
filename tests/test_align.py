"""Alignment that was configured but could not run is a warning in the result, not a log line.

Real Whisper tiny.en on the real sample. No wav2vec2 model can be had offline, so the
alignment models here are folders this test makes (an empty ``config.json``), and the NLTK
``punkt_tab`` data is a folder of empty parameter files (a valid, empty punkt model): they
drive the checks before and at model loading, which is what decides skip or warn.
"""

from __future__ import annotations

import json

import nltk
import numpy as np
import pytest

from hearback.asr.align import SKIPPED, Aligner, missing_punkt
from hearback.document import result_to_dict
from hearback.pipeline import Pipeline
from hearback.types import Options, Transcript

SAMPLE = "diarization/pyannote-sample.wav"


@pytest.fixture(scope="module")
def transcript(pipeline_tiny, testdata) -> Transcript:
    result = pipeline_tiny.transcribe_file(testdata / SAMPLE, Options(language="en", diarize=False))
    assert result.segments and not result.warnings
    return Transcript(segments=result.segments, language=result.language)


@pytest.fixture
def nltk_path(tmp_path, monkeypatch):
    """NLTK looks only in a folder of this test's own (empty until a test adds punkt_tab)."""
    folder = tmp_path / "nltk_data"
    folder.mkdir()
    monkeypatch.setattr(nltk.data, "path", [str(folder)])
    return folder


def _punkt_tab(nltk_folder, language="english"):
    folder = nltk_folder / "tokenizers" / "punkt_tab" / language
    folder.mkdir(parents=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (folder / name).write_text("")


def _model_dir(root, *languages):
    for language in languages:
        (root / language).mkdir(parents=True)
        (root / language / "config.json").write_text(json.dumps({}))
    return root


def test_no_alignment_configured_is_not_a_warning(transcript, nltk_path):
    assert Aligner(None, "cpu").align(transcript, None) is transcript


def test_no_model_for_the_language_is_not_a_warning(transcript, tmp_path, nltk_path):
    aligner = Aligner(_model_dir(tmp_path / "align", "fr"), "cpu")
    assert aligner.align(transcript, None) is transcript


def test_missing_model_dir_is_a_warning_and_keeps_the_words(transcript, tmp_path, nltk_path):
    out = Aligner(tmp_path / "nowhere", "cpu").align(transcript, None)
    assert out.segments == transcript.segments
    (notice,) = out.notices
    assert notice.code == SKIPPED and "does not exist" in notice.message


def test_a_language_folder_without_a_model_is_a_warning(transcript, tmp_path, nltk_path):
    (tmp_path / "align" / "en").mkdir(parents=True)
    out = Aligner(tmp_path / "align", "cpu").align(transcript, None)
    assert [n.code for n in out.notices] == [SKIPPED]
    assert "config.json missing" in out.notices[0].message


def test_missing_punkt_tab_is_a_warning_not_a_download(transcript, tmp_path, nltk_path, monkeypatch):
    """whisperX would call nltk.download('punkt_tab') in the middle of the job; it is never reached."""
    monkeypatch.setattr(nltk, "download", lambda *a, **k: pytest.fail("NLTK download attempted"))
    assert "punkt_tab/english" in missing_punkt("en")
    out = Aligner(_model_dir(tmp_path / "align", "en"), "cpu").align(transcript, None)
    assert out.segments == transcript.segments
    assert [n.code for n in out.notices] == [SKIPPED]
    assert "NLTK_DATA" in out.notices[0].message


def test_a_model_that_fails_to_load_is_a_warning(transcript, tmp_path, nltk_path, testdata):
    _punkt_tab(nltk_path)
    assert missing_punkt("en") is None
    out = Aligner(_model_dir(tmp_path / "align", "en"), "cpu").align(transcript, None)
    assert out.segments == transcript.segments
    assert [n.code for n in out.notices] == [SKIPPED]
    assert "alignment model failed" in out.notices[0].message


def test_the_warning_reaches_the_json_document(pipeline_tiny, tmp_path, nltk_path, testdata):
    pipeline = Pipeline(pipeline_tiny.settings, pipeline_tiny.recognizer,
                        Aligner(tmp_path / "nowhere", "cpu"), None)
    result = pipeline.transcribe_file(testdata / SAMPLE, Options(language="en", diarize=False))
    warnings = result_to_dict(result)["warnings"]
    assert [w["code"] for w in warnings] == [SKIPPED]
    assert result.segments and all(s.words for s in result.segments)


def test_alignment_keeps_what_a_segment_says_about_itself(monkeypatch):
    """Issue 18: aligned segments kept their times and text but lost ``language`` and
    ``loop_collapsed``. No wav2vec2 model can be had offline, so whisperX's forced aligner is
    replaced by one that splits each segment into its sentences and times every word 0.1 s
    apart; the code under test is Hearback's handling of what it returns."""
    import whisperx.alignment

    from hearback.asr.align import _whisperx_align
    from hearback.types import Audio, Segment, Word

    calls = []

    def fake_align(segments, model, metadata, samples, device, **_kwargs):
        calls.append(segments)
        out = []
        for seg in segments:
            at = seg["start"]
            for sentence in seg["text"].split(". "):
                words = [{"word": w, "start": at + 0.1 * i, "end": at + 0.1 * i + 0.08, "score": 0.9}
                         for i, w in enumerate(sentence.split())]
                out.append({"start": words[0]["start"], "end": words[-1]["end"], "text": sentence, "words": words})
                at = words[-1]["end"] + 0.1
        return {"segments": out}

    monkeypatch.setattr(whisperx.alignment, "align", fake_align)
    looped = Segment(1.0, 3.0, "so yeah. then we go", (Word("so", 1.0, 1.2),), language="en", loop_collapsed=True)
    plain = Segment(4.0, 5.0, "fine", (Word("fine", 4.0, 5.0),), language="en")
    french = Segment(6.0, 7.0, "bonjour", (Word("bonjour", 6.0, 7.0),), language="fr")
    transcript = Transcript(segments=(looped, plain, french), language="en")
    aligned = _whisperx_align(transcript, Audio(np.zeros(16000 * 8, dtype=np.float32)), None, {}, "cpu",
                              lambda *_a: None)
    assert [s.text for s in aligned] == ["so yeah", "then we go", "fine", "bonjour"]
    assert [s.loop_collapsed for s in aligned] == [True, True, False, False]
    assert [s.language for s in aligned] == ["en", "en", "en", "fr"]
    assert aligned[3] is french  # the English model does not align French: its times are kept
    assert len(calls) == 2 and all(w.end > w.start for s in aligned[:3] for w in s.words)
