"""Information theory of discrete distributions: entropy, cross-entropy, KL divergence.

Symbols, as printed in the steps:
    p_i, q_i   probabilities of outcome i under P and Q
    b          base of the logarithm (e: nats, 2: bits, 10: hartleys)
    I_i        self-information -log_b p_i
    H(P)       entropy            H(P, Q)   cross-entropy
    D_KL(P‖Q)  Kullback-Leibler divergence of P from Q

Convention: 0 · log 0 = 0, so outcomes with p_i = 0 contribute nothing. Both
vectors are divided by their sums (which must be 1 within 1e-6) before use.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
from torch.distributions import Categorical, kl_divergence

from engine.params import Array, Choice
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_OUTCOMES = 1024
SUM_TOL = 1e-6
BASES = ("e", "2", "10")
LN_BASE = {"e": 1.0, "2": math.log(2), "10": math.log(10)}
UNITS = {"e": "nats", "2": "bits", "10": "hartleys"}


def _check_distribution(name: str, v: list[float]) -> None:
    total = math.fsum(v)
    if abs(total - 1) > SUM_TOL:
        raise ValueError(f"parameter '{name}': the probabilities sum to {total:.10g}, not 1 "
                         f"(tolerance {SUM_TOL:g})")


def _normalised(v: list[float]) -> list[float]:
    total = math.fsum(v)
    return [x / total for x in v]


def _base_param() -> Choice:
    return Choice("base", default="e", choices=BASES,
                  help="logarithm base: e (nats), 2 (bits) or 10 (hartleys)")


def _probs(values: Any, device: torch.device) -> torch.Tensor:
    v = torch.tensor(values, dtype=DTYPE, device=device)
    return v / v.sum(dim=-1, keepdim=True)  # (..., n), rows sum to 1 exactly up to rounding


def kl_reference(p: list[float], q: list[float], base: str) -> dict[str, float]:
    """H(P), H(P, Q) and D_KL(P‖Q) by explicit sums in Python math, with 0 · log 0 = 0."""
    p, q = _normalised(p), _normalised(q)
    ln_b = LN_BASE[base]
    h = -math.fsum(pi * math.log(pi) for pi in p if pi > 0) / ln_b
    ce = -math.fsum(pi * math.log(qi) for pi, qi in zip(p, q, strict=True) if pi > 0) / ln_b
    kl = math.fsum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0) / ln_b
    return {"kl": kl, "entropy_p": h, "cross_entropy": ce}


@register("kl_divergence")
class KLDivergence(Kind):
    r"""KL divergence of P from Q, with the entropy and cross-entropy it links.

    .. math::
        H(P) = -\sum_i p_i \log_b p_i, \qquad
        H(P, Q) = -\sum_i p_i \log_b q_i, \qquad
        D_{KL}(P \| Q) = \sum_i p_i \log_b \frac{p_i}{q_i} = H(P, Q) - H(P)
    """

    title = "KL divergence"
    title_zh = "KL 散度"
    params = (
        Array("p", ndim=(1,), min=0, max=1, max_elements=MAX_OUTCOMES,
              help="distribution P (non-negative, sums to 1)"),
        Array("q", ndim=(1,), min=0, max=1, max_elements=MAX_OUTCOMES,
              help="distribution Q, same length, q_i > 0 wherever p_i > 0"),
        _base_param(),
    )
    answers = (
        Answer("kl", AnswerType.SCALAR, "D_KL(P‖Q) in the chosen base"),
        Answer("entropy_p", AnswerType.SCALAR, "H(P)"),
        Answer("cross_entropy", AnswerType.SCALAR, "H(P, Q)"),
    )
    check_method = "explicit sums in Python math.fsum with 0·log 0 = 0"
    conventions = (
        "D_KL(P‖Q) = E_P[log P/Q]: the expectation is under the first argument P.",
        "0·log 0 = 0; Q must be positive wherever P is (otherwise D_KL is infinite and refused).",
        "p and q are divided by their sums, which must be 1 within 1e-6.",
        "Natural logarithm unless base says otherwise (2: bits, 10: hartleys).",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if len(p["q"]) != len(p["p"]):
            raise ValueError(f"parameter 'q': has {len(p['q'])} probabilities but p has "
                             f"{len(p['p'])}; they must have the same length")
        _check_distribution("p", p["p"])
        _check_distribution("q", p["q"])
        for i, (pi, qi) in enumerate(zip(p["p"], p["q"], strict=True)):
            if pi > 0 and qi == 0:
                raise ValueError(f"parameter 'q': q[{i}] = 0 where p[{i}] = {pi:g} > 0, so the KL "
                                 "divergence is infinite; q must be positive wherever p is")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        n = rng.randint(2, 4)
        return {"p": _sample_probs(rng, n, zeros=rng.random() < 0.2),
                "q": _sample_probs(rng, n, zeros=False), "base": rng.choice(["e", "e", "2", "10"])}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return p["p"] == p["q"]

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        b = p["base"]
        ln_b = LN_BASE[b]
        P_probs, Q_probs = _probs(p["p"], device), _probs(p["q"], device)
        P = Categorical(probs=P_probs, validate_args=False)
        Q = Categorical(probs=Q_probs, validate_args=False)
        h_terms = -torch.special.xlogy(P_probs, P_probs) / ln_b  # 0 where p_i = 0
        ce_terms = -torch.special.xlogy(P_probs, Q_probs) / ln_b
        entropy_p = P.entropy() / ln_b
        cross_entropy = ce_terms.sum()
        kl = kl_divergence(P, Q) / ln_b
        t = Trace()
        t.step("Entropy of P (terms with p_i = 0 give 0)", "P 的熵（p_i = 0 的项为 0）",
               r"H(P) = -\sum_i p_i \log_b p_i", b=b, terms=h_terms, entropy_p=entropy_p)
        t.step("Cross-entropy of Q relative to P", "P 相对 Q 的交叉熵",
               r"H(P, Q) = -\sum_i p_i \log_b q_i", terms=ce_terms, cross_entropy=cross_entropy)
        t.step("KL divergence: cross-entropy minus entropy", "KL 散度：交叉熵减去熵",
               r"D_{KL}(P \| Q) = \sum_i p_i \log_b \frac{p_i}{q_i} = H(P, Q) - H(P)",
               kl=kl, unit=UNITS[b])
        return Computed({"kl": kl, "entropy_p": entropy_p, "cross_entropy": cross_entropy}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return kl_reference(p["p"], p["q"], p["base"])

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        P, Q, b = _normalised(p["p"]), _normalised(p["q"]), p["base"]
        right = kl_reference(P, Q, b)
        out = [
            Misconception("seed_difference_formula",
                          "Used Σ P(x)[P(x) − Q(x)] (differences instead of log-ratios)",
                          "用了 Σ P(x)[P(x) − Q(x)]（用差代替了对数比）",
                          {"kl": math.fsum(pi * (pi - qi) for pi, qi in zip(P, Q, strict=True))}),
            Misconception("kl_is_cross_entropy", "Forgot to subtract the entropy H(P)",
                          "忘了减去熵 H(P)", {"kl": right["cross_entropy"]}),
        ]
        if all(pi > 0 for pi, qi in zip(P, Q, strict=True) if qi > 0):  # else KL(Q‖P) is infinite
            out.append(Misconception("swapped_arguments", "Swapped the arguments: computed KL(Q‖P)",
                                     "参数顺序颠倒：算成了 KL(Q‖P)",
                                     {"kl": kl_reference(Q, P, b)["kl"]}))
        out.extend(_wrong_bases(b, right))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        for idx in _by_length(ps).values():
            P_probs = _probs([ps[i]["p"] for i in idx], device)  # (B, n)
            Q_probs = _probs([ps[i]["q"] for i in idx], device)
            ln_b = torch.tensor([LN_BASE[ps[i]["base"]] for i in idx], dtype=DTYPE, device=device)
            P = Categorical(probs=P_probs, validate_args=False)
            Q = Categorical(probs=Q_probs, validate_args=False)
            kl = (kl_divergence(P, Q) / ln_b).tolist()
            h = (P.entropy() / ln_b).tolist()
            ce = (-torch.special.xlogy(P_probs, Q_probs).sum(dim=1) / ln_b).tolist()
            for j, i in enumerate(idx):
                results[i] = {"kl": kl[j], "entropy_p": h[j], "cross_entropy": ce[j]}
        return results  # type: ignore[return-value]


@register("entropy")
class Entropy(Kind):
    r"""Self-information of each outcome and the entropy of a distribution.

    .. math::
        I_i = -\log_b p_i, \qquad H(P) = \sum_i p_i I_i = -\sum_i p_i \log_b p_i
    """

    title = "Entropy and self-information"
    title_zh = "信息熵与自信息"
    params = (
        Array("p", ndim=(1,), min=0, max=1, max_elements=MAX_OUTCOMES,
              help="distribution P: every p_i > 0, summing to 1"),
        _base_param(),
    )
    answers = (
        Answer("entropy", AnswerType.SCALAR, "H(P) in the chosen base"),
        Answer("self_information", AnswerType.VECTOR, "I_i = -log_b p_i, one per outcome"),
    )
    check_method = "explicit sums and logarithms in Python math"
    conventions = (
        "Every p_i must be positive: the self-information of an impossible outcome is infinite, "
        "so zeros are refused here (the kl_divergence kind accepts them, with 0·log 0 = 0).",
        "p is divided by its sum, which must be 1 within 1e-6.",
        "Natural logarithm unless base says otherwise (2: bits, 10: hartleys).",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        _check_distribution("p", p["p"])
        for i, pi in enumerate(p["p"]):
            if pi == 0:
                raise ValueError(f"parameter 'p': p[{i}] = 0, but every probability must be "
                                 "positive (the self-information -log 0 is infinite)")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        if rng.random() < 0.25:  # uniform, with sizes whose 1/n is a short decimal
            n = rng.choice([2, 4, 5, 8])
            p = [1 / n] * n
        else:
            p = _sample_probs(rng, rng.randint(2, 5), zeros=False)
        return {"p": p, "base": rng.choice(["e", "2", "2", "10"])}

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        b = p["base"]
        ln_b = LN_BASE[b]
        probs = _probs(p["p"], device)
        self_information = -torch.log(probs) / ln_b
        entropy = Categorical(probs=probs, validate_args=False).entropy() / ln_b
        t = Trace()
        t.step("Self-information of each outcome", "每个结果的自信息", r"I_i = -\log_b p_i",
               b=b, self_information=self_information)
        t.step("Entropy: the expected self-information", "熵：自信息的期望",
               r"H(P) = \sum_i p_i I_i = -\sum_i p_i \log_b p_i",
               terms=probs * self_information, entropy=entropy, unit=UNITS[b])
        return Computed({"entropy": entropy, "self_information": self_information}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        probs, ln_b = _normalised(p["p"]), LN_BASE[p["base"]]
        info = [-math.log(pi) / ln_b for pi in probs]
        return {"entropy": math.fsum(pi * ii for pi, ii in zip(probs, info, strict=True)),
                "self_information": info}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        right = self.check(p)
        return [
            Misconception("dropped_minus", "Dropped the minus sign of −log p", "漏掉了 −log p 的负号",
                          {"entropy": -right["entropy"],
                           "self_information": [-v for v in right["self_information"]]}),
            Misconception("unweighted_sum", "Summed the self-information without weighting by p_i",
                          "自信息求和时没有乘以 p_i",
                          {"entropy": math.fsum(right["self_information"])}),
            *_wrong_bases(p["base"], right),
        ]

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        for idx in _by_length(ps).values():
            probs = _probs([ps[i]["p"] for i in idx], device)  # (B, n)
            ln_b = torch.tensor([LN_BASE[ps[i]["base"]] for i in idx], dtype=DTYPE, device=device)
            info = (-torch.log(probs) / ln_b[:, None]).tolist()
            h = (Categorical(probs=probs, validate_args=False).entropy() / ln_b).tolist()
            for j, i in enumerate(idx):
                results[i] = {"entropy": h[j], "self_information": info[j]}
        return results  # type: ignore[return-value]


def _sample_probs(rng: random.Random, n: int, *, zeros: bool) -> list[float]:
    """n probabilities with two decimals summing to exactly 1 (some zero when asked)."""
    weights = [rng.randint(1, 9) for _ in range(n)]
    if zeros:
        weights[rng.randrange(n)] = 0
    total = sum(weights)
    probs = [round(w / total, 2) for w in weights]
    probs[probs.index(max(probs))] += round(1 - sum(probs), 2)  # absorb the rounding error
    return [round(v, 2) for v in probs]


def _by_length(ps: list[dict[str, Any]]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(ps):
        groups.setdefault(len(p["p"]), []).append(i)
    return groups


def _wrong_bases(base: str, right: dict[str, Any]) -> list[Misconception]:
    """The same answers in each other base: what mixing up ln, log2 and log10 gives."""
    out = []
    for other in BASES:
        if other == base:
            continue
        factor = LN_BASE[base] / LN_BASE[other]
        wrong = {k: [v * factor for v in x] if isinstance(x, list) else x * factor
                 for k, x in right.items()}
        label = {"e": "the natural log", "2": "log base 2", "10": "log base 10"}[other]
        label_zh = {"e": "自然对数", "2": "以 2 为底的对数", "10": "以 10 为底的对数"}[other]
        out.append(Misconception(f"log_base_{other}", f"Used {label} instead",
                                 f"误用了{label_zh}", wrong))
    return out
