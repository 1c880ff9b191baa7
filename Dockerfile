# Hearback RunPod worker: CUDA 12 + cuDNN 9, faster-whisper large-v3 float16, pyannote diarization.
#
#   DOCKER_BUILDKIT=1 docker build --secret id=hf_token,env=HF_TOKEN -t hearback .
#
# The HF token is a build secret: it is used to fetch the gated pyannote pipeline at build
# time and is not stored in any layer. Without it the image still builds and diarizes with
# the embedded (token-free) backend. Every model is fetched here, so no job downloads.
FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HOME=/models/hf \
    XDG_CACHE_HOME=/models/cache \
    PYANNOTE_METRICS_ENABLED=0

RUN apt-get update \
 && apt-get install -y --no-install-recommends software-properties-common ca-certificates \
 && add-apt-repository -y ppa:deadsnakes/ppa \
 && apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv ffmpeg \
 && rm -rf /var/lib/apt/lists/*

RUN python3.11 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /app
COPY requirements.txt .
RUN pip install --upgrade pip && pip install -r requirements.txt

# cuDNN library path fix: CTranslate2 looks for libcudnn*.so.9 and libcublas on the system
# path, while pip installs them inside the nvidia-* wheels.
ENV LD_LIBRARY_PATH=/opt/venv/lib/python3.11/site-packages/nvidia/cudnn/lib:/opt/venv/lib/python3.11/site-packages/nvidia/cublas/lib:${LD_LIBRARY_PATH}

COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip install --no-deps -e .

# Models at build time: Whisper large-v3, wav2vec2 alignment models for en and fr,
# and the pyannote pipeline when a token is given.
ENV WHISPER_MODEL=large-v3 \
    ALIGNMENT_MODEL_DIR=/models/align \
    PYANNOTE_PIPELINE=pyannote/speaker-diarization-3.1
RUN python -c "from faster_whisper.utils import download_model; download_model('large-v3')" \
 && python -c "from huggingface_hub import snapshot_download as d; \
d('facebook/wav2vec2-base-960h', local_dir='/models/align/en'); \
d('jonatasgrosman/wav2vec2-large-xlsr-53-french', local_dir='/models/align/fr')" \
 && python -c "from hearback.models import resolve_whisper_model as r; from pathlib import Path; r('base', Path('/models/cache/hearback'))"
RUN --mount=type=secret,id=hf_token \
    if [ -s /run/secrets/hf_token ]; then \
      HF_TOKEN="$(cat /run/secrets/hf_token)" python -c "import os; from pyannote.audio import Pipeline; \
Pipeline.from_pretrained(os.environ['PYANNOTE_PIPELINE'], token=os.environ['HF_TOKEN'])" \
      && echo 'DIARIZATION_BACKEND=pyannote' >> /app/.env; \
    else echo 'no hf_token secret: the image will use the embedded diarizer'; fi

# At run time the hub is never needed: everything above is in the image.
ENV HF_HUB_OFFLINE=1 \
    DEVICE=cuda \
    COMPUTE_TYPE=float16 \
    BATCH_SIZE=16
COPY test_input.json ./
COPY samples/ samples/

CMD ["python", "-u", "src/handler.py"]
