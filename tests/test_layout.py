"""The package's lists are written once and its light modules stay light."""

from __future__ import annotations

import subprocess
import sys

from hearback import languages
from hearback.errors import ErrorCode


def test_language_list_is_faster_whispers():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert list(languages.NAMES) == list(_LANGUAGE_CODES)
    assert languages.name("fr") == "french" and languages.name("xx") == "xx"


def test_validating_input_imports_no_model_library():
    code = ("import sys, hearback.schema as s; s.parse(s.HandlerInput, {'audio_url': 'https://x/a.mp3', "
            "'language': 'fr'}); print(sorted(m for m in ('faster_whisper', 'ctranslate2', 'torch', "
            "'av', 'pyannote') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_every_error_code_has_an_http_status():
    for code in ErrorCode:
        assert 400 <= code.http_status < 600, code
    assert ErrorCode("not_found").http_status == 404 and ErrorCode.INVALID_API_KEY.http_status == 401
