"""Gradient clipping by the total norm (``torch.nn.utils.clip_grad_norm_``).

Symbols, as printed in the steps:
    g_k     gradient of parameter tensor k (one row of ``grads``; a vector is one tensor)
    ‖g‖     total norm of all gradients together (p = 1, 2 or ∞)
    M       max_norm                c    clip coefficient
    g'      clipped gradients

Convention (PyTorch): c = M / (‖g‖ + 10⁻⁶) and the gradients are multiplied by c only
when c < 1. The 10⁻⁶ keeps the division finite when every gradient is zero; it changes
the result by a relative 10⁻⁶/‖g‖, invisible unless the norm itself is tiny.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from engine.params import Array, Number, Param
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

CLIP_EPS = 1e-6  # added to the norm by clip_grad_norm_
G_LIMIT = 1e6
VISIBLE_RTOL = 1e-3  # a mistake must move the answer by this much to be worth naming
NORM_TEX = {1: r"\sum_k \|g_k\|_1", 2: r"\sqrt{\sum_k \|g_k\|_2^2}",
            "inf": r"\max_k \|g_k\|_\infty"}


def as_lists(t: torch.Tensor) -> list[Any]:
    """Nested Python lists of a (large) tensor; via numpy, much faster than Tensor.tolist."""
    return t.detach().cpu().numpy().tolist()


@dataclass(frozen=True)
class NormType(Param):
    """The order of the norm: 1, 2 or "inf" (numbers or their strings)."""

    type_name: str = field(default="choice", init=False)

    def clean(self, value: Any) -> int | str:
        text = str(value).strip().lower() if not isinstance(value, bool) else ""
        if text in ("1", "1.0", "2", "2.0"):
            return int(float(text))
        if text in ("inf", "infinity"):
            return "inf"
        raise self.error(f"{value!r} is not one of 1, 2, inf")

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "choices": [1, 2, "inf"]}


def total_norm(flat: list[float], norm_type: int | str) -> float:
    """‖g‖ of all gradient entries in Python floats (``math.fsum``)."""
    if norm_type == "inf":
        return max(abs(v) for v in flat)
    if norm_type == 1:
        return math.fsum(abs(v) for v in flat)
    return math.sqrt(math.fsum(v * v for v in flat))


def _scaled(grads: Any, factor: float) -> np.ndarray:
    return np.asarray(grads, dtype=np.float64) * factor


@register("grad_clip")
class GradClip(Kind):
    r"""Clip gradients so that their total norm is at most M (``clip_grad_norm_``).

    .. math::
        \|g\| = \Big(\sum_k \|g_k\|_p^p\Big)^{1/p}, \quad
        c = \frac{M}{\|g\| + 10^{-6}}, \quad
        g'_k = \begin{cases} c\, g_k & c < 1 \\ g_k & \text{otherwise} \end{cases}
    """

    title = "Gradient clipping by norm"
    title_zh = "按范数裁剪梯度"
    params = (
        Array("grads", ndim=(1, 2), min=-G_LIMIT, max=G_LIMIT,
              help="gradients: a vector (one tensor) or a matrix whose rows are several tensors"),
        Number("max_norm", min=0, open_min=True, max=G_LIMIT, help="M > 0, the largest norm"),
        NormType("norm_type", default=2, help="order of the norm: 1, 2 or inf"),
    )
    answers = (
        Answer("total_norm", AnswerType.SCALAR, "‖g‖ before clipping"),
        Answer("clipped", AnswerType.TENSOR, "g' (same shape as grads)"),
    )
    check_method = "norm by math.fsum over every entry, then the clip rule in numpy"
    conventions = (
        "PyTorch clip_grad_norm_: one total norm over all tensors together (the 'global norm'), "
        "c = max_norm / (total_norm + 1e-6), applied only when c < 1 (gradients are never "
        "scaled up). TensorFlow's clip_by_global_norm uses max_norm / max(norm, max_norm), "
        "the same up to the 1e-6.",
        "Rows of a 2-D grads are separate parameter tensors; they still share one norm.",
    )
    batchable = True

    def sample(self, rng: random.Random) -> dict[str, Any]:
        shape = rng.choice([(2,), (3,), (4,), (2, 2), (2, 3)])
        if len(shape) == 1:
            grads: Any = [float(rng.randint(-6, 6)) for _ in range(shape[0])]
        else:
            grads = [[float(rng.randint(-4, 4)) for _ in range(shape[1])] for _ in range(shape[0])]
        return {"grads": grads, "max_norm": rng.choice([0.5, 1.0, 1.0, 2.0, 5.0, 10.0]),
                "norm_type": rng.choice([2, 2, 2, 2, "inf", 1])}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return not np.any(np.asarray(p["grads"]))

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        g = torch.tensor(p["grads"], dtype=DTYPE, device=device)  # (D,) or (K, D)
        M, norm_type = p["max_norm"], p["norm_type"]
        rows = [g] if g.ndim == 1 else list(g)  # one tensor per parameter
        params = [torch.zeros_like(row) for row in rows]
        for param, row in zip(params, rows, strict=True):
            param.grad = row.clone()
        order = math.inf if norm_type == "inf" else float(norm_type)
        norm = torch.nn.utils.clip_grad_norm_(params, M, norm_type=order)
        clipped = params[0].grad if g.ndim == 1 else torch.stack([q.grad for q in params])
        coef = M / (norm.item() + CLIP_EPS)
        t = Trace()
        if g.ndim == 2:
            t.step("Norm of each parameter tensor", "每个参数张量的范数", r"\|g_k\|_p",
                   p=norm_type, norms=torch.linalg.vector_norm(g, order, dim=1))
        t.step("Total norm over all gradients", "所有梯度的总范数", r"\|g\| = " + NORM_TEX[norm_type],
               total_norm=norm)
        t.step("Clip coefficient", "裁剪系数", r"c = \frac{M}{\|g\| + 10^{-6}}", M=M, c=coef)
        if coef < 1:
            t.step("c < 1: scale every gradient by c", "c < 1：所有梯度乘以 c",
                   r"g'_k = c\, g_k", clipped=clipped)
        else:
            t.step("c ≥ 1: the norm is within the limit, gradients unchanged",
                   "c ≥ 1：范数未超限，梯度不变", r"g'_k = g_k", clipped=clipped)
        return Computed({"total_norm": norm, "clipped": clipped}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        flat = np.asarray(p["grads"], dtype=np.float64).ravel().tolist()
        norm = total_norm(flat, p["norm_type"])
        coef = p["max_norm"] / (norm + CLIP_EPS)
        return {"total_norm": norm, "clipped": _scaled(p["grads"], min(coef, 1.0))}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        grads, M, norm_type = p["grads"], p["max_norm"], p["norm_type"]
        g = np.asarray(grads, dtype=np.float64)
        norm = total_norm(g.ravel().tolist(), norm_type)
        out = [Misconception("clip_by_value", "Clipped each element to ±max_norm (clip by value)",
                             "把每个元素截断到 ±max_norm（按值裁剪）", {"clipped": np.clip(g, -M, M)})]
        if 0 < norm < M:
            out.append(Misconception(
                "scaled_below_max", "Rescaled to max_norm although the norm was already below it",
                "范数本来就没超限，却仍缩放到 max_norm", {"clipped": g * (M / norm)}))
        if norm_type == 2:
            squared = float(np.sum(g * g))
            out.append(Misconception(
                "forgot_sqrt", "Forgot the square root (used the sum of squares as the norm)",
                "忘了开平方（把平方和当作范数）",
                {"total_norm": squared, "clipped": g * min(M / (squared + CLIP_EPS), 1.0)}))
        if g.ndim == 2 and len(g) > 1:
            norms = [total_norm(row.tolist(), norm_type) for row in g]
            out.append(Misconception(
                "per_tensor", "Clipped each tensor by its own norm instead of the total norm",
                "每个张量按自己的范数裁剪，而不是按总范数",
                {"clipped": np.stack([row * min(M / (n + CLIP_EPS), 1.0)
                                      for row, n in zip(g, norms, strict=True)])}))
        if norm > M and CLIP_EPS / norm > VISIBLE_RTOL:
            out.append(Misconception("ignored_eps", "Left out the 1e-6 in the clip coefficient",
                                     "裁剪系数里漏掉了 1e-6", {"clipped": g * (M / norm)}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{}] * len(ps)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, p in enumerate(ps):
            shape = np.shape(p["grads"])
            groups.setdefault((shape, p["norm_type"]), []).append(i)
        for (_, norm_type), idx in groups.items():
            g = torch.tensor([ps[i]["grads"] for i in idx], dtype=DTYPE, device=device)  # (B, ...)
            M = torch.tensor([ps[i]["max_norm"] for i in idx], dtype=DTYPE, device=device)
            order = math.inf if norm_type == "inf" else float(norm_type)
            norms = torch.linalg.vector_norm(g.flatten(1), order, dim=1)  # (B,)
            coef = torch.clamp(M / (norms + CLIP_EPS), max=1.0)
            clipped = g * coef.view(-1, *([1] * (g.ndim - 1)))
            for i, n, c in zip(idx, as_lists(norms), as_lists(clipped), strict=True):
                results[i] = {"total_norm": n, "clipped": c}
        return results
