"""The engine's public calls: solve, sample, solve_batch.

``solve`` validates the params, computes the answer with torch on the chosen
device, recomputes it independently with the kind's ``check``, compares the
two within the kind's tolerance, and lists the answers that named mistakes
would give. The result is plain data (``Solution.to_dict()`` is JSON-ready).
"""

from __future__ import annotations

import gc
import platform
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine import __version__
from engine.compare import allclose, compare, exact, max_abs_error
from engine.device import resolve_device
from engine.registry import DTYPE, AnswerType, Kind, Misconception, get_kind
from engine.trace import Step, plain

# A draw costs microseconds; fixed params (say, one schedule out of eleven) can make most
# draws invalid, so allow many before giving up.
MAX_SAMPLE_TRIES = 5000
# Valid draws tried for the shape of a worked example before settling for another shape.
SHAPE_TRIES = 200


@dataclass(frozen=True)
class Verification:
    passed: bool
    method: str
    max_abs_error: float
    rtol: float
    atol: float
    checked: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "method": self.method,
            "max_abs_error": self.max_abs_error,
            "rtol": self.rtol,
            "atol": self.atol,
            "checked": list(self.checked),
        }


@dataclass(frozen=True)
class Solution:
    kind: str
    params: dict[str, Any]
    answer: dict[str, Any]
    steps: list[Step]
    verification: Verification
    misconceptions: list[Misconception]
    device: str
    dtype: str
    versions: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "params": self.params,
            "answer": self.answer,
            "steps": [s.to_dict() for s in self.steps],
            "verification": self.verification.to_dict(),
            "misconceptions": [m.to_dict() for m in self.misconceptions],
            "device": self.device,
            "dtype": self.dtype,
            "versions": self.versions,
        }


def versions(kind: Kind) -> dict[str, Any]:
    return {
        "engine": __version__,
        "kind": kind.version,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def runtime_info() -> dict[str, Any]:
    """What the engine runs on (for health checks and benchmarks)."""
    cuda = torch.cuda.is_available()
    return {
        "version": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "default_device": str(resolve_device()),
        "cuda_available": cuda,
        "cuda_device": torch.cuda.get_device_name(0) if cuda else None,
    }


def _leaves(value: Any, path: str):
    """Yield (path, value) for every numeric leaf of nested dicts / lists of dicts."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}")
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def verify(kind: Kind, answer: dict[str, Any], checked: dict[str, Any]) -> Verification:
    """Compare the engine's answer with the independent check, key by key."""
    passed = True
    worst = 0.0
    tol = kind.tolerance
    for key, reference in checked.items():
        if key not in answer:
            raise RuntimeError(f"kind '{kind.name}': check returned '{key}' that solve did not")
        is_exact = kind.answer_type(key) in (AnswerType.INTEGER, AnswerType.SHAPE)
        got = dict(_leaves(answer[key], key))
        for path, ref in _leaves(reference, key):
            if path not in got:
                passed = False
                worst = float("inf")
                continue
            if is_exact:
                err, ok = max_abs_error(got[path], ref), exact(got[path], ref)
            else:
                err, ok = compare(got[path], ref, rtol=tol.rtol, atol=tol.atol)
            worst = max(worst, err)
            passed = passed and ok
    return Verification(
        passed=passed,
        method=kind.check_method,
        max_abs_error=worst,
        rtol=tol.rtol,
        atol=tol.atol,
        checked=tuple(checked),
    )


def _distinct(kind: Kind, answer: dict[str, Any], misc: Misconception) -> bool:
    """A misconception is worth naming only if its answer differs from the correct one."""
    for key, value in misc.answer.items():
        if key not in answer:
            return True
        if not allclose(value, answer[key], rtol=1e-6, atol=1e-9):
            return True
    return False


def solve(kind_name: str, params: dict[str, Any], device: str | None = None) -> Solution:
    """Validate, compute, cross-check and explain one variant of a kind."""
    kind = get_kind(kind_name)
    p = kind.validate(params)
    dev = resolve_device(device)
    computed = kind.solve(p, dev)
    answer = plain(computed.answer)
    verification = verify(kind, answer, plain(kind.check(p)))
    miscs = [
        Misconception(m.key, m.label, m.label_zh, plain(m.answer))
        for m in kind.misconceptions(p)
    ]
    miscs = [m for m in miscs if _distinct(kind, answer, m)]
    return Solution(
        kind=kind.name,
        params=p,
        answer=answer,
        steps=computed.steps,
        verification=verification,
        misconceptions=miscs,
        device=str(dev),
        dtype=str(DTYPE).removeprefix("torch."),
        versions=versions(kind),
    )


def answer_at(answer: dict[str, Any], path: str) -> Any:
    """The value at ``path`` of an answer: ``"loss"``, ``"grad_w2[0][1]"`` or ``"layers_out[2].receptive_field"``."""
    key, rest = _split_path(path)
    if key not in answer:
        raise ValueError(f"answer has no key '{key}'; it has {', '.join(answer)}")
    value = answer[key]
    for step in rest:
        try:
            value = value[step]
        except (IndexError, KeyError, TypeError):
            raise ValueError(f"answer path '{path}' does not exist") from None
    return value


def _split_path(path: str) -> tuple[str, list[int | str]]:
    """``"a[0][1].b"`` -> ("a", [0, 1, "b"])."""
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)*)", path)
    if not match:
        raise ValueError(f"answer path '{path}' is not of the form key, key[i][j] or key[i].field")
    steps: list[int | str] = [
        int(tok[1:-1]) if tok.startswith("[") else tok[1:]
        for tok in re.findall(r"\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*", match.group(2))
    ]
    return match.group(1), steps


def sample_params(
    kind_name: str, seed: int, fixed: dict[str, Any] | None = None,
    like: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Params of the variant numbered ``seed``: same seed, same numbers, on any device.

    ``fixed`` params override the drawn ones (a question may vary the numbers but
    keep, say, the activation); draws that become invalid are redrawn.

    ``like`` (a question's worked example) asks for a variant of the same shape: every param
    that is a list there has the same nested lengths here, and a number stays a number, so a
    prompt's "2-2-2 network" or "5 × 5 input" still describes the new numbers. A kind that
    draws that shape rarely (none in SHAPE_TRIES valid draws) gets its first valid draw.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    kind = get_kind(kind_name)
    rng = random.Random(f"{kind_name}:{seed}")
    shape = None if like is None else _shapes(like)
    first: dict[str, Any] | None = None
    valid = 0
    for _ in range(MAX_SAMPLE_TRIES):  # reject invalid or degenerate draws, deterministically
        try:
            p = kind.validate({**kind.sample(rng), **(fixed or {})})
        except ValueError:
            continue
        if kind.is_degenerate(p):
            continue
        if shape is None or _shapes(p, keys=shape) == shape:
            return p
        first = first or p
        valid += 1
        if valid >= SHAPE_TRIES:
            break
    if first is not None:
        return first
    raise RuntimeError(f"kind '{kind_name}' produced no valid variant for seed {seed}")


def _shapes(params: dict[str, Any], keys: dict[str, Any] | None = None) -> dict[str, Any]:
    """The nested lengths of each param (None for a number or a string)."""
    def shape(value: Any) -> Any:
        return (len(value), shape(value[0]) if value else None) if isinstance(value, list) else None

    return {k: shape(params.get(k)) for k in (keys if keys is not None else params)}


def sample(
    kind_name: str, seed: int, device: str | None = None, fixed: dict[str, Any] | None = None,
    like: dict[str, Any] | None = None,
) -> Solution:
    """A seeded variant and its full solution."""
    return solve(kind_name, sample_params(kind_name, seed, fixed, like), device)


def solve_batch(
    kind_name: str,
    params_list: list[dict[str, Any]],
    device: str | None = None,
    *,
    validated: bool = False,
) -> list[dict[str, Any]]:
    """Answers only, for many variants of one kind, in as few torch calls as the kind allows.

    ``validated=True`` skips per-variant validation for params that already went
    through it (e.g. from ``sample_params``); validation, not torch, dominates
    the cost of small variants.
    """
    kind = get_kind(kind_name)
    dev = resolve_device(device)
    with _collector_paused():
        ps = params_list if validated else [kind.validate(p) for p in params_list]
        return kind.solve_batch(ps, dev)  # kinds return plain values (tensor.tolist())


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is built.

    A batch's answers are hundreds of thousands of small lists and dicts with no cycles among
    them; allocating them triggers collections that re-scan every live object (the params
    included) and free nothing: over half the time of a large batch. Reference counting
    still frees everything as usual; the collector resumes, as it was, afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
