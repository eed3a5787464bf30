"""Device selection, and CPU/CUDA parity (skipped where no CUDA device is present)."""

import pytest
import torch

import engine
from engine.compare import allclose
from engine.device import resolve_device

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


def test_auto_picks_cuda_only_when_present(monkeypatch):
    monkeypatch.delenv("ENGINE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device().type == expected
    assert resolve_device("cpu").type == "cpu"


def test_environment_variable_sets_the_default(monkeypatch):
    monkeypatch.setenv("ENGINE_DEVICE", "cpu")
    assert resolve_device().type == "cpu"


def test_bad_device_is_named():
    with pytest.raises(ValueError, match="device 'gpu0' is not valid"):
        resolve_device("gpu0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_asking_for_cuda_without_one_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA device is available"):
        resolve_device("cuda")


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("kind", engine.list_kinds())
def test_cuda_gives_the_cpu_answers(kind):
    for seed in range(10):
        cpu = engine.sample(kind, seed, "cpu")
        gpu = engine.sample(kind, seed, "cuda")
        assert gpu.device.startswith("cuda")
        assert gpu.verification.passed
        for key, value in cpu.answer.items():
            assert _close(gpu.answer[key], value), (kind, seed, key)


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("kind", [k for k in engine.list_kinds() if engine.get_kind(k).batchable])
def test_cuda_batch_matches_cpu_batch(kind):
    ps = [engine.sample_params(kind, s) for s in range(200)]
    for a, b in zip(engine.solve_batch(kind, ps, "cpu"), engine.solve_batch(kind, ps, "cuda"),
                    strict=True):
        assert all(_close(b[k], a[k]) for k in a), kind


def _close(a, b):
    if isinstance(a, dict):
        return all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and a and isinstance(a[0], dict):
        return all(_close(x, y) for x, y in zip(a, b, strict=True))
    return allclose(a, b, rtol=1e-9, atol=1e-12)
