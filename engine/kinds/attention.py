"""Scaled dot-product attention for one head: scores, attention weights and output.

Symbols, as printed in the steps:
    Q  queries (n × d)        K  keys (m × d)          V  values (m × d_v)
    s  scale (default 1/√d)   M  mask (1 = attend, 0 = masked; m or n × m)
    S  scores (n × m)         A  attention weights (n × m, rows sum to 1)
    O  output (n × d_v)

The output is taken from ``torch.nn.functional.scaled_dot_product_attention``;
scores and weights from explicit torch (matmul, ``masked_fill``, ``softmax``).
The independent check is a max-subtracted softmax in numpy float64.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.params import MAX_ELEMENTS, Array, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

VALUE_LIMIT = 1e4


def attention_numpy(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, keep: np.ndarray, scale: float, axis: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """S, A, O by a max-subtracted softmax over ``axis`` (1: over the keys, as it should be)."""
    scores = (q @ k.T) * scale  # (n, m)
    shifted = np.where(keep, scores, -np.inf)
    top = shifted.max(axis=axis, keepdims=True)
    exps = np.where(keep, np.exp(shifted - top), 0.0)
    weights = exps / exps.sum(axis=axis, keepdims=True)
    return scores, weights, weights @ v


def _keep(p: dict[str, Any]) -> np.ndarray:
    """The mask as a boolean (n, m) array (a 1-D mask applies to every query)."""
    n, m = len(p["q"]), len(p["k"])
    if p["mask"] is None:
        return np.ones((n, m), dtype=bool)
    return np.broadcast_to(np.asarray(p["mask"], dtype=bool), (n, m))


@register("attention")
class Attention(Kind):
    r"""Scaled dot-product attention (one head, no dropout).

    .. math::
        S = s\, Q K^\top \ (s = 1/\sqrt{d} \text{ by default}), \qquad
        A_{ij} = \frac{M_{ij}\, e^{S_{ij}}}{\sum_{l} M_{il}\, e^{S_{il}}}, \qquad
        O = A V
    """

    title = "Scaled dot-product attention"
    title_zh = "缩放点积注意力"
    params = (
        Array("q", ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT, help="queries Q (n × d)"),
        Array("k", ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT, help="keys K (m × d)"),
        Array("v", ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT, help="values V (m × d_v)"),
        Array("mask", ndim=(1, 2), default=None, min=0, max=1, integer=True,
              help="M: 1 = attend, 0 = masked; length m (the same for every query) or n × m"),
        Number("scale", default=None, min=0, open_min=True, max=1e3,
               help="s (default 1/√d)"),
    )
    answers = (
        Answer("scores", AnswerType.TENSOR, "S = s·QKᵀ (n × m), before masking"),
        Answer("weights", AnswerType.TENSOR, "A = softmax over the keys of the masked scores"),
        Answer("output", AnswerType.TENSOR, "O = AV (n × d_v)"),
    )
    check_method = "max-subtracted softmax over each row with numpy float64"
    conventions = (
        "Rows are queries, columns keys: the softmax runs over the keys (each row of A sums to 1).",
        "The mask keeps entries with 1 (PyTorch's boolean attn_mask: True = take part); masked "
        "weights are exactly 0. Scores are reported before masking.",
        "A query whose keys are all masked is refused (its softmax is undefined).",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        n, d = len(p["q"]), len(p["q"][0])
        m = len(p["k"])
        if len(p["k"][0]) != d:
            raise ValueError(f"parameter 'k': keys must have d = {d} columns like the queries, "
                             f"got {len(p['k'][0])}")
        if len(p["v"]) != m:
            raise ValueError(f"parameter 'v': needs one row per key (m = {m}), got {len(p['v'])}")
        if n * m > MAX_ELEMENTS:
            raise ValueError(f"parameter 'k': n·m = {n * m} scores is too many; "
                             f"at most {MAX_ELEMENTS}")
        mask = p["mask"]
        if mask is not None:
            shape = (len(mask),) if not isinstance(mask[0], list) else (len(mask), len(mask[0]))
            if shape not in ((m,), (n, m)):
                raise ValueError(f"parameter 'mask': must have length m = {m} or shape "
                                 f"{n}×{m}, got {'×'.join(map(str, shape))}")
            rows = [mask] if len(shape) == 1 else mask
            for i, row in enumerate(rows):
                if not any(row):
                    which = "it" if len(shape) == 1 else f"row {i}"
                    raise ValueError(f"parameter 'mask': {which} masks every key; each query "
                                     f"needs at least one key with mask 1")
        if p["scale"] is None:
            p["scale"] = 1.0 / math.sqrt(d)

    def sample(self, rng: random.Random) -> dict[str, Any]:
        n, m = rng.randint(1, 3), rng.randint(2, 3)
        d, d_v = rng.choice([2, 4, 4, 1, 3]), rng.randint(1, 3)

        def mat(rows: int, cols: int, span: int) -> list[list[float]]:
            return [[float(rng.randint(-span, span)) for _ in range(cols)] for _ in range(rows)]

        p: dict[str, Any] = {"q": mat(n, d, 2), "k": mat(m, d, 2), "v": mat(m, d_v, 3)}
        roll = rng.random()
        if roll < 0.2 and n == m:  # causal: query i sees keys 0..i
            p["mask"] = [[int(j <= i) for j in range(m)] for i in range(n)]
        elif roll < 0.35 and m == 3:  # padding: the last key is a pad token
            p["mask"] = [1] * (m - 1) + [0]
        return p

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        q, k = np.asarray(p["q"]), np.asarray(p["k"])
        scores = q @ k.T
        return bool(np.all(scores == scores[:, :1]))  # every query weighs its keys equally

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        q, k, v = (torch.tensor(p[key], dtype=DTYPE, device=device) for key in ("q", "k", "v"))
        s = p["scale"]
        n, m = q.shape[0], k.shape[0]
        t = Trace()
        raw = q @ k.T  # (n, m)
        scores = raw * s
        t.step("Dot products of every query with every key", "每个查询与每个键的点积",
               r"Q K^\top", d=q.shape[1], QK=raw)
        t.step("Scale", "缩放", r"S = s\, Q K^\top", s=s, scores=scores)
        if p["mask"] is None:
            keep = None
            masked = scores
        else:
            keep = torch.tensor(p["mask"], dtype=torch.bool, device=device).expand(n, m)
            masked = scores.masked_fill(~keep, float("-inf"))
            t.step("Mask: masked scores become −∞", "掩码：被遮住的分数置为 −∞",
                   r"S_{ij} \leftarrow -\infty \text{ where } M_{ij} = 0", mask=keep.to(torch.int64))
        weights = torch.softmax(masked, dim=-1)
        t.step("Softmax over the keys (each row sums to 1)", "对键做 softmax（每行和为 1）",
               r"A_{ij} = \frac{M_{ij}\, e^{S_{ij}}}{\sum_{l} M_{il}\, e^{S_{il}}}", weights=weights)
        output = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, scale=s)  # (n, d_v)
        t.step("Weighted sum of the values", "对值向量加权求和", r"O = A V", output=output)
        return Computed({"scores": scores, "weights": weights, "output": output}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        q, k, v = (np.asarray(p[key], dtype=np.float64) for key in ("q", "k", "v"))
        scores, weights, output = attention_numpy(q, k, v, _keep(p), p["scale"])
        return {"scores": scores, "weights": weights, "output": output}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        q, k, v = (np.asarray(p[key], dtype=np.float64) for key in ("q", "k", "v"))
        keep, s, d = _keep(p), p["scale"], q.shape[1]

        def wrong(key: str, label: str, label_zh: str, *, scale: float = s,
                  mask: np.ndarray = keep, axis: int = 1) -> Misconception:
            with np.errstate(invalid="ignore", divide="ignore"):
                scores, weights, output = attention_numpy(q, k, v, mask, scale, axis)
            answer = {"scores": scores, "weights": weights, "output": output}
            if axis == 0:  # the scores themselves are right; only the softmax axis is wrong
                del answer["scores"]
            return Misconception(key, label, label_zh, answer)

        out = [wrong("no_scale", "Forgot the scaling (used QKᵀ)", "忘了缩放（直接用 QKᵀ）",
                     scale=1.0)]
        if math.isclose(s, 1.0 / math.sqrt(d)):
            out.append(wrong("scale_1_over_d", "Scaled by 1/d instead of 1/√d",
                             "缩放用了 1/d 而不是 1/√d", scale=1.0 / d))
        if keep.any(axis=0).all():  # every key is seen by some query: finite over axis 0
            out.append(wrong("softmax_over_queries", "Softmax over the queries (wrong axis)",
                             "对查询方向做了 softmax（轴错了）", axis=0))
        if not keep.all():
            out.append(wrong("ignored_mask", "Ignored the mask", "忽略了掩码",
                             mask=np.ones_like(keep)))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, p in enumerate(ps):
            shape = (len(p["q"]), len(p["k"]), len(p["q"][0]), len(p["v"][0]))
            groups.setdefault(shape, []).append(i)
        for idx in groups.values():
            q, k, v = (torch.tensor([ps[i][key] for i in idx], dtype=DTYPE, device=device)
                       for key in ("q", "k", "v"))  # (B, n, d), (B, m, d), (B, m, d_v)
            s = torch.tensor([ps[i]["scale"] for i in idx], dtype=DTYPE, device=device)
            keep = torch.from_numpy(np.stack([_keep(ps[i]) for i in idx])).to(device)
            scores = torch.bmm(q, k.transpose(1, 2)) * s[:, None, None]  # (B, n, m)
            weights = torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1)
            output = torch.bmm(weights, v)  # (B, n, d_v)
            for i, sc, w, o in zip(idx, scores.tolist(), weights.tolist(), output.tolist(),
                                   strict=True):
                results[i] = {"scores": sc, "weights": w, "output": o}
        return results  # type: ignore[return-value]
