"""Bootstrap sampling (bagging): how many distinct examples a resample holds.

Symbols, as printed in the steps:
    n          examples in the original dataset
    m          draws, uniform and independent, with replacement (m = n in bagging)
    q          1 - 1/n, the chance that one draw misses a given example
    p_out      (1 - 1/n)^m, the chance that every draw misses it: out-of-bag
    p_in       1 - p_out, the chance that it is drawn at least once
    D          number of distinct original examples in the resample; E[D] = n p_in

By linearity of expectation p_in is also the expected fraction E[D]/n of distinct originals
(the actual fraction varies from resample to resample). For n -> inf at a fixed ratio m/n,
p_in -> 1 - e^(-m/n): 1 - 1/e ≈ 0.632 for m = n.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

import torch

from engine.params import Integer
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_N = 10**6
MAX_DRAWS = 10**6  # the check sums m terms in Python
EXACT_DRAWS = 200  # up to this many draws the check is an exact rational computation


def distinct_distribution(n: int, m: int) -> list[Fraction]:
    """P(D = d) for d = 0 … min(n, m): C(n, d) · d! · S(m, d) / n^m, exactly.

    S(m, d), the Stirling numbers of the second kind, count the ways to split the m draws
    into d non-empty groups; C(n, d) · d! assigns distinct examples to the groups.
    """
    top = min(n, m)
    stirling = [1] + [0] * top  # S(0, d)
    for _t in range(1, m + 1):  # S(t, d) = d S(t-1, d) + S(t-1, d-1)
        stirling = [0] + [d * stirling[d] + stirling[d - 1] for d in range(1, top + 1)]
    total = n**m
    return [Fraction(math.comb(n, d) * math.factorial(d) * stirling[d], total)
            for d in range(top + 1)]


def bootstrap_reference(n: int, m: int) -> dict[str, float]:
    """The answers without the closed form (1 - 1/n)^m.

    For m <= EXACT_DRAWS: E[D] from the exact distribution of D (Python fractions). Otherwise
    the first-draw decomposition p_in = Σ_{t=1}^{m} (1/n)(1 - 1/n)^{t-1} (the example is
    first drawn at draw t), summed with math.fsum.
    """
    if m <= EXACT_DRAWS:
        dist = distinct_distribution(n, m)
        expected = sum((d * p for d, p in enumerate(dist)), Fraction(0))
        p_in = expected / n
        p_out = 1 - p_in
        out = {"p_in": float(p_in), "p_out": float(p_out), "expected_distinct": float(expected)}
    else:
        q = 1.0 - 1.0 / n
        p_in = math.fsum(math.pow(q, t - 1) for t in range(1, m + 1)) / n
        out = {"p_in": p_in, "p_out": 1.0 - p_in, "expected_distinct": n * p_in}
    out["p_in_limit"] = 1.0 - math.exp(-m / n)
    return out


@register("bootstrap")
class Bootstrap(Kind):
    r"""Chance that an example is in a bootstrap resample, and the expected distinct count.

    .. math::
        p_{out} = \left(1 - \frac{1}{n}\right)^{m}, \qquad p_{in} = 1 - p_{out}, \qquad
        \mathbb{E}[D] = n\,p_{in}, \qquad
        \lim_{n\to\infty} p_{in} = 1 - e^{-m/n} \;(= 1 - 1/e \text{ for } m = n)
    """

    title = "Bootstrap sampling: in-bag and out-of-bag fractions"
    title_zh = "自助采样：袋内与袋外样本比例"
    params = (
        Integer("n", min=1, max=MAX_N, help="n, examples in the original dataset"),
        Integer("draws", default=None, min=1, max=MAX_DRAWS,
                help="m, draws with replacement (default n, as in bagging)"),
    )
    answers = (
        Answer("p_in", AnswerType.SCALAR,
               "P(a given example is drawn at least once) = expected fraction of distinct originals"),
        Answer("p_out", AnswerType.SCALAR, "P(never drawn) = expected out-of-bag fraction"),
        Answer("expected_distinct", AnswerType.SCALAR, "E[D] = n p_in, expected distinct examples"),
        Answer("p_in_limit", AnswerType.SCALAR, "1 - e^(-m/n), the n -> inf limit of p_in"),
    )
    check_method = ("E[D] from the exact distribution C(n,d)·d!·S(m,d)/n^m of distinct examples "
                    "(Stirling numbers, Python fractions) for m ≤ 200; otherwise the first-draw "
                    "sum Σ_t (1/n)(1 − 1/n)^(t−1) with math.fsum")
    conventions = (
        "Draws are uniform, independent and with replacement; draws defaults to n (a resample "
        "the size of the data, as bagging uses).",
        "p_in is an expectation: the fraction of distinct originals in one resample varies around "
        "it; out-of-bag means never drawn, with expected fraction p_out = 1 − p_in.",
        "p_in_limit is 1 − e^(−m/n), the limit for n → ∞ at the same ratio m/n; 1 − 1/e ≈ 0.632 "
        "for m = n. Sampled variants use m = n.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if p["draws"] is None:
            p["draws"] = p["n"]

    def sample(self, rng: random.Random) -> dict[str, Any]:
        return {"n": rng.choice([2, 3, 4, 5, 6, 8, 10, 12, 20, 50, 100, 1000])}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return p["n"] == 1  # a single example is always drawn

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        n = torch.tensor(p["n"], dtype=DTYPE, device=device)
        m = torch.tensor(p["draws"], dtype=DTYPE, device=device)
        q = 1 - 1 / n
        log_p_out = m * torch.log1p(-1 / n)  # -inf for n = 1: the example is always drawn
        p_out = torch.exp(log_p_out)
        p_in = -torch.expm1(log_p_out)  # 1 - p_out without cancellation for small p_in
        expected_distinct = n * p_in
        p_in_limit = -torch.expm1(-m / n)
        t = Trace()
        t.step("Chance that one draw misses a given example", "一次抽取没有抽到某个样本的概率",
               r"q = 1 - \frac{1}{n}", n=p["n"], q=q)
        t.step("Chance that all m draws miss it (out-of-bag)", "m 次抽取都没有抽到它的概率（袋外）",
               r"p_{out} = \left(1 - \frac{1}{n}\right)^{m}", m=p["draws"], p_out=p_out)
        t.step("Chance that it is drawn at least once (in-bag)", "它至少被抽到一次的概率（袋内）",
               r"p_{in} = 1 - \left(1 - \frac{1}{n}\right)^{m}", p_in=p_in)
        t.step("Expected number of distinct examples (linearity of expectation)",
               "不同样本个数的期望（期望的线性性）", r"\mathbb{E}[D] = n\,p_{in}",
               expected_distinct=expected_distinct)
        t.step("Limit for large n at the same ratio m/n", "n 很大、m/n 不变时的极限",
               r"\lim_{n\to\infty} p_{in} = 1 - e^{-m/n}", p_in_limit=p_in_limit)
        return Computed({"p_in": p_in, "p_out": p_out, "expected_distinct": expected_distinct,
                         "p_in_limit": p_in_limit}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return bootstrap_reference(p["n"], p["draws"])

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        n, m = p["n"], p["draws"]
        p_out = math.exp(m * math.log1p(-1 / n)) if n > 1 else 0.0
        limit = -math.expm1(-m / n)
        out = []
        if m == n:
            out.append(Misconception(
                "two_thirds", "Took the round figure 2/3 as the exact in-bag fraction",
                "把粗略的 2/3 当成了准确的袋内比例",
                {"p_in": 2 / 3, "p_out": 1 / 3, "expected_distinct": 2 * n / 3}))
        out += [
            Misconception(
                "swapped_in_out", "Swapped in-bag and out-of-bag: (1 − 1/n)^m (≈ 1/e) is the "
                "fraction never drawn, not the fraction drawn",
                "把袋内和袋外弄反了：(1 − 1/n)^m（≈ 1/e）是从未被抽到的比例",
                {"p_in": p_out, "p_out": 1 - p_out, "expected_distinct": n * p_out}),
            Misconception(
                "ignored_repeats", "Ignored repeats: counted the m draws as m different examples",
                "忽略了重复：把 m 次抽取当成了 m 个不同的样本",
                {"p_in": min(1.0, m / n), "p_out": max(0.0, 1 - m / n),
                 "expected_distinct": float(min(n, m))}),
            Misconception(
                "used_limit", "Used the large-n limit 1 − e^(−m/n) for a finite n",
                "对有限的 n 直接用了 n → ∞ 的极限 1 − e^(−m/n)",
                {"p_in": limit, "p_out": 1 - limit, "expected_distinct": n * limit}),
        ]
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        n = torch.tensor([p["n"] for p in ps], dtype=DTYPE, device=device)  # (B,)
        m = torch.tensor([p["draws"] for p in ps], dtype=DTYPE, device=device)
        log_p_out = m * torch.log1p(-1 / n)
        p_in = -torch.expm1(log_p_out)
        columns = {"p_in": p_in, "p_out": torch.exp(log_p_out), "expected_distinct": n * p_in,
                   "p_in_limit": -torch.expm1(-m / n)}
        lists = {k: v.tolist() for k, v in columns.items()}
        return [{k: lists[k][i] for k in lists} for i in range(len(ps))]
