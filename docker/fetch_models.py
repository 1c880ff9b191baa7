"""Fetch every model the GPU image uses, at build time, before the code is copied in.

    python fetch_models.py whisper DIR            # faster-whisper large-v3 (CTranslate2, float16)
    python fetch_models.py align DIR LANG=REPO..  # wav2vec2 CTC models, one folder per language
    python fetch_models.py pyannote DIR REPO      # a pyannote pipeline folder (needs HF_TOKEN)

Only huggingface_hub and faster-whisper are needed (installed from requirements.txt), so
this layer is rebuilt when requirements.txt or this file change, never on a code change.
Snapshots skip the weights of other frameworks (TensorFlow, Flax, ONNX, Rust), n-gram
language models (whisperX's alignment does not decode with them) and a duplicate
pytorch_model.bin when model.safetensors is there.
"""

import os
import sys

from huggingface_hub import HfApi, snapshot_download

#: What no stage of Hearback reads.
IGNORE = ["*.h5", "*.msgpack", "*.ot", "*.onnx", "*.tflite", "tf_model*", "flax_model*",
          "rust_model*", "language_model/*", "*.md", ".gitattributes", "*.png", "*.jpg"]


def ignore_patterns(repo, token=None):
    files = set(HfApi().list_repo_files(repo, token=token))
    extra = ["pytorch_model.bin"] if "model.safetensors" in files else []
    return IGNORE + extra


def main(kind, target, *rest):
    if kind == "whisper":
        from faster_whisper.utils import download_model

        download_model("large-v3", output_dir=target)
    elif kind == "align":
        for pair in rest:
            language, repo = pair.split("=", 1)
            snapshot_download(repo, local_dir=os.path.join(target, language),
                              ignore_patterns=ignore_patterns(repo))
    elif kind == "pyannote":
        (repo,) = rest
        token = os.environ["HF_TOKEN"]
        snapshot_download(repo, local_dir=target, token=token,
                          ignore_patterns=ignore_patterns(repo, token))
    else:
        raise SystemExit(f"unknown model kind {kind!r}")


if __name__ == "__main__":
    main(*sys.argv[1:])
