"""Vector and matrix norms (torch.linalg.vector_norm / matrix_norm conventions).

Symbols, as printed in the steps:
    x_i    entries of a vector x           a_ij   entries of a matrix A
    p      the order ("0", "1", "2", "inf", "-inf", "fro", "nuc" or a number >= 1)
    s_k    singular values of A            m      max_i |x_i| (scale factor)

A vector of order p >= 1 is computed as m · ‖x / m‖_p (dividing by the largest
magnitude first), which gives the same number without overflow or underflow.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from engine.params import Array, Param
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

NAMED = ("0", "1", "2", "inf", "-inf", "fro", "nuc")
MATRIX_ORDERS = ("fro", "nuc", "1", "2", "inf", "-inf")
MAX_P = 32.0  # with |x_i| <= 1e6, |x_i|^p stays finite
X_LIMIT = 1e6
ORD = {"0": 0.0, "1": 1.0, "2": 2.0, "inf": math.inf, "-inf": -math.inf, "fro": "fro", "nuc": "nuc"}


@dataclass(frozen=True)
class NormOrder(Param):
    """The order p of a norm, normalised to a string: a named order or a number in [1, MAX_P]."""

    type_name: str = field(default="norm_order", init=False)

    def clean(self, value: Any) -> str:
        if isinstance(value, str):
            text = value.strip().lower()
            if text in NAMED:
                return text
            try:
                value = float(text)
            except ValueError:
                raise self.error(f"{value!r} is not one of {', '.join(NAMED)} "
                                 f"or a number in [1, {MAX_P:g}]") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.error(f"expected one of {', '.join(NAMED)} or a number, got {value!r}")
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value == 0:
            return "0"
        if not 1 <= value <= MAX_P:
            raise self.error(f"{value:g} is out of range; valid range is [1, {MAX_P:g}] "
                             f"(or '0', 'inf', '-inf', 'fro', 'nuc')")
        return str(int(value)) if float(value).is_integer() else repr(float(value))

    def schema(self) -> dict[str, Any]:
        out = super().schema()
        out.update({"choices": list(NAMED), "min": 1, "max": MAX_P})
        return out


def _order(p: str) -> float | str:
    return ORD[p] if p in ORD else float(p)


def vector_reference(x: list[float], p: str) -> float:
    """Explicit sums in Python: L0 count, max / min of |x_i|, or (Σ |x_i|^p)^(1/p) scaled."""
    mags = [abs(v) for v in x]
    if p == "0":
        return float(sum(1 for v in mags if v != 0))
    if p == "inf":
        return max(mags)
    if p == "-inf":
        return min(mags)
    order, m = float(p), max(mags)
    if m == 0:
        return 0.0
    return m * math.fsum((v / m) ** order for v in mags) ** (1 / order)


def matrix_reference(a: list[list[float]], p: str) -> float:
    """Frobenius by a sum of squares, induced 1 / inf by column / row sums, 2 and nuc by numpy SVD."""
    if p == "fro":
        return math.sqrt(math.fsum(v * v for row in a for v in row))
    if p in ("2", "nuc"):
        s = np.linalg.svd(np.asarray(a, dtype=np.float64), compute_uv=False)
        return float(s.max() if p == "2" else math.fsum(s.tolist()))
    row_sums = [math.fsum(abs(v) for v in row) for row in a]
    if p == "1":
        return max(math.fsum(abs(row[j]) for row in a) for j in range(len(a[0])))
    return max(row_sums) if p == "inf" else min(row_sums)


@register("norm")
class Norm(Kind):
    r"""The p-norm of a vector, or a Frobenius, nuclear or induced norm of a matrix.

    .. math::
        \|x\|_0 = \#\{i : x_i \ne 0\}, \quad
        \|x\|_p = \Big(\sum_i |x_i|^p\Big)^{1/p}, \quad
        \|x\|_\infty = \max_i |x_i|, \quad \|x\|_{-\infty} = \min_i |x_i|;

        \|A\|_F = \sqrt{\sum_{ij} a_{ij}^2}, \quad \|A\|_* = \sum_k s_k, \quad
        \|A\|_2 = \max_k s_k, \quad
        \|A\|_1 = \max_j \sum_i |a_{ij}|, \quad \|A\|_\infty = \max_i \sum_j |a_{ij}|
    """

    title = "Vector and matrix norms"
    title_zh = "向量与矩阵范数"
    params = (
        Array("x", ndim=(1, 2), min=-X_LIMIT, max=X_LIMIT, help="a vector or a matrix"),
        NormOrder("p", default="2", help="order: 0, 1, 2, inf, -inf, fro, nuc or a number >= 1"),
    )
    answers = (Answer("value", AnswerType.SCALAR, "the norm"),)
    check_method = "explicit sums in Python math (vectors, Frobenius, induced 1/inf); numpy SVD (2, nuc)"
    conventions = (
        "L0 counts the non-zero entries; it is not a true norm (it is not homogeneous), and "
        "'-inf' (the smallest |x_i|) is not one either.",
        "For a matrix, '1', '2' and 'inf' are the induced (operator) norms, as "
        "torch.linalg.matrix_norm and numpy.linalg.norm define them: the largest column sum, the "
        "largest singular value and the largest row sum; '-inf' is the smallest row sum.",
        "'fro' and 'nuc' are for matrices only; other numeric orders and '0' for vectors only.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        is_matrix = isinstance(p["x"][0], list)
        if is_matrix and p["p"] not in MATRIX_ORDERS:
            raise ValueError(f"parameter 'p': {p['p']!r} is not defined for a matrix; use one of "
                             f"{', '.join(MATRIX_ORDERS)}")
        if not is_matrix and p["p"] in ("fro", "nuc"):
            raise ValueError(f"parameter 'p': {p['p']!r} is a matrix norm; for a vector use '2' "
                             "(the Euclidean norm) or another order")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        if rng.random() < 0.7:
            x: Any = [rng.randint(-6, 6) for _ in range(rng.randint(2, 5))]
            if rng.random() < 0.2:
                x = [round(v + rng.choice([0, 0.5]), 1) for v in x]
            p = rng.choice(["1", "2", "2", "inf", "0", "3", "4", "1.5"])
        else:
            rows, cols = rng.choice([(2, 2), (2, 2), (2, 3), (3, 2), (3, 3)])
            x = [[rng.randint(-4, 4) for _ in range(cols)] for _ in range(rows)]
            p = rng.choice(["fro", "fro", "1", "inf", "2", "nuc"])
        return {"x": x, "p": p}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        flat = [v for row in p["x"] for v in row] if isinstance(p["x"][0], list) else p["x"]
        return all(v == 0 for v in flat)

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        x = torch.tensor(p["x"], dtype=DTYPE, device=device)
        t = Trace()
        if x.ndim == 1:
            value = self._vector(x, p["p"], t)
        else:
            value = self._matrix(x, p["p"], t)
        return Computed({"value": value}, t.steps)

    @staticmethod
    def _vector(x: torch.Tensor, p: str, t: Trace) -> torch.Tensor:
        mags = x.abs()
        if p == "0":
            value = torch.linalg.vector_norm(x, 0)
            t.step("Count the non-zero entries (not a true norm)", "数非零元素个数（不是真正的范数）",
                   r"\|x\|_0 = \#\{i : x_i \ne 0\}", nonzero=(x != 0).to(torch.int64), value=value)
            return value
        if p in ("inf", "-inf"):
            value = torch.linalg.vector_norm(x, _order(p))
            tex = r"\|x\|_\infty = \max_i |x_i|" if p == "inf" else r"\|x\|_{-\infty} = \min_i |x_i|"
            t.step("Largest magnitude" if p == "inf" else "Smallest magnitude (not a norm)",
                   "最大绝对值" if p == "inf" else "最小绝对值（不是范数）", tex, abs=mags, value=value)
            return value
        order = float(p)
        m = mags.max()
        value = m * torch.linalg.vector_norm(x / m, order) if m > 0 else m
        powers = mags**order
        t.step("Magnitudes raised to the power p", "绝对值的 p 次方", r"|x_i|^p",
               p=order, abs=mags, powers=powers)
        t.step("Sum them", "求和", r"\sum_i |x_i|^p", sum=powers.sum())
        t.step("Take the p-th root", "开 p 次方根", r"\|x\|_p = \Big(\sum_i |x_i|^p\Big)^{1/p}",
               value=value)
        return value

    @staticmethod
    def _matrix(a: torch.Tensor, p: str, t: Trace) -> torch.Tensor:
        value = torch.linalg.matrix_norm(a, _order(p))
        if p == "fro":
            t.step("Square every entry and sum", "每个元素平方后求和", r"\sum_{ij} a_{ij}^2",
                   squares=a**2, sum=(a**2).sum())
            t.step("Square root", "开平方", r"\|A\|_F = \sqrt{\sum_{ij} a_{ij}^2}", value=value)
        elif p in ("2", "nuc"):
            s = torch.linalg.svdvals(a)
            t.step("Singular values", "奇异值", r"s_k = \sqrt{\lambda_k(A^\top A)}", s=s)
            t.step("Largest singular value (spectral norm)" if p == "2" else "Sum of singular values",
                   "最大奇异值（谱范数）" if p == "2" else "奇异值之和",
                   r"\|A\|_2 = \max_k s_k" if p == "2" else r"\|A\|_* = \sum_k s_k", value=value)
        elif p == "1":
            t.step("Absolute column sums, then the largest", "各列绝对值之和，取最大",
                   r"\|A\|_1 = \max_j \sum_i |a_{ij}|", column_sums=a.abs().sum(dim=0), value=value)
        else:
            t.step("Absolute row sums, then the " + ("largest" if p == "inf" else "smallest"),
                   "各行绝对值之和，取" + ("最大" if p == "inf" else "最小"),
                   r"\|A\|_\infty = \max_i \sum_j |a_{ij}|" if p == "inf"
                   else r"\|A\|_{-\infty} = \min_i \sum_j |a_{ij}|",
                   row_sums=a.abs().sum(dim=1), value=value)
        return value

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        if isinstance(p["x"][0], list):
            return {"value": matrix_reference(p["x"], p["p"])}
        return {"value": vector_reference(p["x"], p["p"])}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        x, order = p["x"], p["p"]
        out = []
        if isinstance(x[0], list):
            flat = [abs(v) for row in x for v in row]
            if order == "2":
                out.append(Misconception("matrix_2_as_fro", "Took the matrix 2-norm as the Frobenius norm",
                                         "把矩阵 2 范数当成了 Frobenius 范数",
                                         {"value": matrix_reference(x, "fro")}))
            if order in ("1", "inf"):
                swapped = matrix_reference(x, "inf" if order == "1" else "1")
                out.append(Misconception("rows_columns_swapped", "Swapped row sums and column sums",
                                         "把行和与列和弄反了", {"value": swapped}))
                out.append(Misconception(
                    "entrywise", "Treated the matrix as one long vector (entry-wise norm)",
                    "把矩阵当成一个长向量（逐元素范数）",
                    {"value": math.fsum(flat) if order == "1" else max(flat)}))
            return out
        mags = [abs(v) for v in x]
        if order not in ("0", "inf", "-inf"):
            q = float(order)
            out.append(Misconception("power_two_not_p", "Raised |x_i| to the power 2 instead of p "
                                     "(the misprint in the notes)", "把 |x_i| 的 p 次方写成了平方（笔记中的错误）",
                                     {"value": math.fsum(v * v for v in mags) ** (1 / q)}))
            out.append(Misconception("forgot_root", "Forgot the p-th root", "忘了开 p 次方根",
                                     {"value": math.fsum(v**q for v in mags)}))
        elif order == "inf":
            out.append(Misconception("linf_as_sum", "Took L∞ as the sum of magnitudes",
                                     "把 L∞ 当成了绝对值之和", {"value": math.fsum(mags)}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, p in enumerate(ps):
            x = p["x"]
            shape = (len(x), len(x[0])) if isinstance(x[0], list) else (len(x),)
            groups.setdefault((shape, p["p"]), []).append(i)
        for (shape, order), idx in groups.items():
            x = torch.tensor([ps[i]["x"] for i in idx], dtype=DTYPE, device=device)  # (B, *shape)
            if len(shape) == 2:
                values = torch.linalg.matrix_norm(x, _order(order))
            elif order in ("0", "inf", "-inf"):
                values = torch.linalg.vector_norm(x, _order(order), dim=1)
            else:
                m = x.abs().amax(dim=1, keepdim=True)  # (B, 1)
                safe = torch.where(m > 0, m, torch.ones_like(m))
                values = (safe * torch.linalg.vector_norm(x / safe, float(order), dim=1,
                                                          keepdim=True)).squeeze(1)
            for j, v in zip(idx, values.tolist(), strict=True):
                results[j] = {"value": v}
        return results  # type: ignore[return-value]
