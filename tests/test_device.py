"""Device facts without a GPU: CAM++ keeps every tensor on its input's device, device faults
are told apart from bugs, and the CPU quota is read from cgroup files.

There is no GPU here, so the device test simulates one (the only stand-in in this file):
tensors of the "accelerator" are real CPU tensors wrapped in a subclass that reports the
``meta`` device. Every operation runs on the real data, and mixing an accelerator tensor
with a host tensor raises the error CUDA would ("Expected all tensors to be on the same
device"). A tensor created without ``device=`` lands on the host, as it would on a GPU box.
The real CAM++ weights and the real Kaldi fbank run through it.
"""

from __future__ import annotations

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

from hearback.runtime.device import available_cpus, cgroup_cpu_limit, is_device_fault

ACCELERATOR = torch.device("meta")  # what the simulated accelerator's tensors report
HOST = torch.device("cpu")


class OnAccelerator(torch.Tensor):
    """A CPU tensor that says it lives on :data:`ACCELERATOR`."""

    @staticmethod
    def __new__(cls, elem: torch.Tensor):
        return torch.Tensor._make_wrapper_subclass(
            cls, elem.size(), strides=elem.stride(), storage_offset=elem.storage_offset(),
            dtype=elem.dtype, device=ACCELERATOR, requires_grad=elem.requires_grad)

    def __init__(self, elem: torch.Tensor):
        self.elem = elem

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):  # outside the modes: plain
        return func(*tree_map(_unwrap, args), **tree_map(_unwrap, kwargs or {}))


def _unwrap(value):
    return value.elem if isinstance(value, OnAccelerator) else value


def _wrap(value):
    if isinstance(value, torch.Tensor) and not isinstance(value, OnAccelerator):
        return OnAccelerator(value)
    return value


def _targets_accelerator(kwargs: dict) -> bool:
    device = kwargs.get("device")
    return device is not None and torch.device(device).type == ACCELERATOR.type


class AcceleratorFactories(TorchFunctionMode):
    """``torch.tensor(..., device=accelerator)`` and friends: made on the host, then wrapped
    (the constructors that take data bypass the dispatch mode)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _targets_accelerator(kwargs):
            return tree_map(_wrap, func(*args, **{**kwargs, "device": HOST}))
        return func(*args, **kwargs)


class SimulatedAccelerator(TorchDispatchMode):
    """Runs every operator on the host data and enforces CUDA's rule: no operator takes
    tensors from two devices (a 0-dim host tensor, a scalar, is allowed, as on CUDA)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensors = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        on_accelerator = any(isinstance(t, OnAccelerator) for t in tensors)
        on_host = any(not isinstance(t, OnAccelerator) and t.dim() > 0 for t in tensors)
        if on_accelerator and on_host:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                               f"two devices, {ACCELERATOR} and {HOST}! ({func})")
        if "device" in kwargs:  # factories and .to(): the target device decides
            on_accelerator = _targets_accelerator(kwargs)
            kwargs = {**kwargs, "device": HOST}
        out = func(*tree_map(_unwrap, args), **tree_map(_unwrap, kwargs))
        if func._schema.is_mutable:  # in place (e.g. ReLU(inplace=True)): the argument itself
            return args[0]
        return tree_map(_wrap, out) if on_accelerator else out


def _embed_on_accelerator(model, waveforms, weights):
    params = {name: OnAccelerator(t.detach()) for name, t in model.state_dict().items()}
    with torch.no_grad(), SimulatedAccelerator(), AcceleratorFactories():
        return torch.func.functional_call(model, params, (OnAccelerator(waveforms), OnAccelerator(weights)))


@pytest.fixture(scope="module")
def campplus():
    from hearback.diarize.campplus import CAMPPlusEmbedding

    return CAMPPlusEmbedding()  # the PyTorch path, as on a GPU (ONNX Runtime is CPU only)


def test_campplus_keeps_every_tensor_on_its_inputs_device(campplus, testdata):
    """A batch as pyannote sends it: a long speaker, an inactive one (the NaN embedding) and a
    short one (padded from context), on the same chunk of real speech."""
    from hearback.audio.decode import decode

    audio = decode(testdata / "diarization" / "pyannote-sample.wav", max_duration=60)
    chunk = torch.from_numpy(audio.samples[16000 * 5:16000 * 15].copy())
    waveforms = chunk.reshape(1, 1, -1).repeat(3, 1, 1)
    weights = torch.zeros(3, 589)
    weights[0, :300] = 1.0      # active for 5 s
    weights[2, 100:103] = 1.0   # active for 50 ms: fewer than MIN_FRAMES fbank frames
    out = _embed_on_accelerator(campplus, waveforms, weights)

    assert isinstance(out, OnAccelerator) and out.device == ACCELERATOR
    values = out.elem
    assert values.shape == (3, 192)
    assert torch.isnan(values[1]).all()                       # no active frame: NaN, skipped
    assert torch.isfinite(values[0]).all() and torch.isfinite(values[2]).all()
    with torch.no_grad():                                      # same numbers as on the host
        assert torch.allclose(values, campplus(waveforms, weights), atol=1e-4, equal_nan=True)


def test_the_simulation_catches_a_host_tensor_mixed_in():
    """The check itself: a tensor made without ``device=`` meets an accelerator tensor."""
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        with torch.no_grad(), SimulatedAccelerator(), AcceleratorFactories():
            x = OnAccelerator(torch.ones(2, 3))
            torch.cat([x, torch.full((1, 3), float("nan"))])


@pytest.mark.parametrize("exc", [
    RuntimeError("CUDA error: an illegal memory access was encountered"),
    RuntimeError("CUDA failed with error out of memory"),                 # CTranslate2
    RuntimeError("cuBLAS failed with status CUBLAS_STATUS_EXECUTION_FAILED"),
    RuntimeError("cuDNN error: CUDNN_STATUS_INTERNAL_ERROR"),
    RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    torch.cuda.OutOfMemoryError("CUDA out of memory."),
])
def test_device_faults_recycle_the_worker(exc):
    assert is_device_fault(exc)


def test_a_device_fault_behind_another_exception_counts():
    try:
        try:
            raise RuntimeError("CUDA error: device-side assert triggered")
        except RuntimeError as cause:
            raise ValueError("pipeline step failed") from cause
    except ValueError as chained:
        assert is_device_fault(chained)


@pytest.mark.parametrize("exc", [
    RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                 "cuda:0 and cpu!"),
    ValueError("unsupported device 'cuda' for this op"),
    KeyError("cuda"),
    ZeroDivisionError("division by zero"),
])
def test_bugs_that_mention_cuda_do_not(exc):
    assert not is_device_fault(exc)


@pytest.mark.parametrize("files, cores", [
    ({"cpu.max": "800000 100000\n"}, 8.0),                 # cgroup v2, a quota of 8 cores
    ({"cpu.max": "150000 100000\n"}, 1.5),
    ({"cpu.max": "max 100000\n"}, None),                    # v2, no quota
    ({"cpu/cpu.cfs_quota_us": "400000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 4.0),  # v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({"cpu.max": "garbage"}, None),
    ({}, None),                                              # no cgroup files at all
])
def test_cgroup_cpu_limit(tmp_path, files, cores):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cgroup_cpu_limit(tmp_path) == cores


def test_threads_follow_the_quota_not_the_hosts_cores(tmp_path, monkeypatch):
    """RunPod: os.cpu_count() says 96, the container may use 8 (rounded up from 7.5)."""
    (tmp_path / "cpu.max").write_text("750000 100000\n")
    monkeypatch.setattr("os.cpu_count", lambda: 96)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(96)))
    assert available_cpus(tmp_path) == 8
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert available_cpus(tmp_path) == 96


def test_settings_use_the_quota(monkeypatch, tmp_path):
    from hearback.runtime import device
    from hearback.settings import Settings

    (tmp_path / "cpu.max").write_text("200000 100000\n")
    monkeypatch.setattr(device, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr("os.cpu_count", lambda: 96)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(96)))
    assert Settings(cpu_threads=0).resolved_cpu_threads == 2
    assert Settings(cpu_threads=3).resolved_cpu_threads == 3
