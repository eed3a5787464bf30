"""Estimating a Bernoulli probability θ three ways: maximum likelihood, MAP and Bayesian.

Symbols, as printed in the steps:
    n, k      trials and successes (k heads in n tosses)
    a, b      parameters of the Beta(a, b) prior on θ (a − 1 prior successes, b − 1 failures)
    a', b'    parameters of the posterior Beta(a', b') = Beta(a + k, b + n − k)
    θ_ML      argmax of the likelihood θ^k (1 − θ)^(n−k)
    θ_MAP     argmax of the posterior: its mode
    E[θ|D]    posterior mean, also the predictive probability that the next trial succeeds

Convention: the MAP estimate is the posterior mode (a' − 1)/(a' + b' − 2), which exists only
when a' ≥ 1 and b' ≥ 1 (then a' + b' > 2 because n ≥ 1). If a' < 1 or b' < 1 the posterior
density is unbounded at θ = 0 or 1 and has no maximum; such parameters are refused.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import torch
from torch.distributions import Beta

from engine.params import Integer, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_TRIALS = 10**6
MAX_PRIOR = 1000.0
BISECTION_STEPS = 200


def _argmax_log_density(successes: float, failures: float) -> float:
    """argmax over [0, 1] of s·ln θ + f·ln(1 − θ) (s, f ≥ 0, not both 0), by bisection.

    The derivative s/θ − f/(1 − θ) decreases from +∞ (or 0) to −∞ (or 0); its zero is the
    maximum, or the maximum is at the end where the derivative keeps its sign.
    """
    if successes == 0:
        return 0.0
    if failures == 0:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):  # the interval cannot shrink further in float64
            break
        if successes * (1 - mid) - failures * mid > 0:  # derivative · θ(1 − θ) > 0: rising
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _fraction(v: float) -> Fraction:
    return Fraction(v)  # exact binary value of the float


@register("bernoulli_estimate")
class BernoulliEstimate(Kind):
    r"""MLE, MAP and Bayesian estimates of a coin's probability θ of heads under a Beta prior.

    .. math::
        \theta_{ML} = \frac{k}{n}, \qquad
        a' = a + k, \quad b' = b + n - k, \qquad
        \theta_{MAP} = \frac{a' - 1}{a' + b' - 2} = \frac{k + a - 1}{n + a + b - 2}, \qquad
        \mathbb{E}[\theta \mid D] = \frac{a'}{a' + b'} = \frac{k + a}{n + a + b},

    with posterior variance :math:`\frac{a' b'}{(a' + b')^2 (a' + b' + 1)}`. The posterior
    mean is also the predictive probability :math:`p(x_{n+1} = 1 \mid D)`.
    """

    title = "Bernoulli parameter: MLE, MAP and Bayesian estimates"
    title_zh = "伯努利参数的 MLE、MAP 与贝叶斯估计"
    params = (
        Integer("n", min=1, max=MAX_TRIALS, help="number of trials"),
        Integer("k", min=0, max=MAX_TRIALS, help="number of successes, 0 ≤ k ≤ n"),
        Number("a", default=1.0, min=0, max=MAX_PRIOR, open_min=True,
               help="prior Beta(a, b): a > 0 (a − 1 pseudo-successes)"),
        Number("b", default=1.0, min=0, max=MAX_PRIOR, open_min=True,
               help="prior Beta(a, b): b > 0 (b − 1 pseudo-failures)"),
    )
    answers = (
        Answer("mle", AnswerType.SCALAR, "θ_ML = k / n"),
        Answer("map", AnswerType.SCALAR, "θ_MAP, the posterior mode"),
        Answer("posterior_mean", AnswerType.SCALAR,
               "E[θ | D], also the probability that the next trial succeeds"),
        Answer("posterior_a", AnswerType.SCALAR, "a' = a + k"),
        Answer("posterior_b", AnswerType.SCALAR, "b' = b + n − k"),
        Answer("posterior_var", AnswerType.SCALAR, "Var[θ | D]"),
    )
    check_method = ("MLE and MAP by bisection on the derivative of the log-likelihood / "
                    "log-posterior in Python floats; posterior parameters, mean and variance "
                    "in exact rational arithmetic (fractions.Fraction)")
    conventions = (
        "MAP is the posterior mode; it is defined only when a + k ≥ 1 and b + n − k ≥ 1 "
        "(a Beta density with a parameter below 1 is unbounded at 0 or 1), otherwise refused.",
        "Beta(1, 1) is the uniform prior: MAP = MLE. Beta(a, b) acts like a − 1 extra successes "
        "and b − 1 extra failures for the MAP, but like a and b for the posterior mean.",
        "The Bayesian point estimate reported is the posterior mean (optimal for squared loss).",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if p["k"] > p["n"]:
            raise ValueError(f"parameter 'k': {p['k']} successes in {p['n']} trials; "
                             "k must be at most n")
        if p["k"] + p["a"] < 1:
            raise ValueError(f"parameter 'a': the posterior Beta(a + k, ·) has a + k = "
                             f"{p['k'] + p['a']:g} < 1, so its density is unbounded at θ = 0 and "
                             "it has no mode (MAP undefined); use a ≥ 1 or k ≥ 1")
        if p["n"] - p["k"] + p["b"] < 1:
            raise ValueError(f"parameter 'b': the posterior Beta(·, b + n − k) has b + n − k = "
                             f"{p['n'] - p['k'] + p['b']:g} < 1, so its density is unbounded at "
                             "θ = 1 and it has no mode (MAP undefined); use b ≥ 1 or k < n")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        n = rng.choice([5, 8, 10, 10, 12, 20, 20, 30, 50, 100])
        k = rng.randint(0, n)
        a, b = rng.choice([(1.0, 1.0), (2.0, 2.0), (2.0, 2.0), (3.0, 3.0), (5.0, 5.0), (2.0, 5.0),
                           (5.0, 2.0), (3.0, 1.0), (1.0, 3.0), (0.5, 0.5), (10.0, 10.0)])
        return {"n": n, "k": k, "a": a, "b": b}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        # data exactly at the prior's centre: MLE, MAP and posterior mean coincide
        return p["k"] * (p["a"] + p["b"]) == p["n"] * p["a"]

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        n = torch.tensor(float(p["n"]), dtype=DTYPE, device=device)
        k = torch.tensor(float(p["k"]), dtype=DTYPE, device=device)
        a = torch.tensor(p["a"], dtype=DTYPE, device=device)
        b = torch.tensor(p["b"], dtype=DTYPE, device=device)
        mle = k / n
        a_post, b_post = a + k, b + n - k
        posterior = Beta(a_post, b_post)
        t = Trace()
        t.step("Maximum likelihood: the fraction of successes", "最大似然：成功的比例",
               r"\theta_{ML} = \arg\max_\theta \theta^k (1-\theta)^{n-k} = \frac{k}{n}",
               k=p["k"], n=p["n"], mle=mle)
        t.step("Conjugate update: the posterior is again a Beta distribution",
               "共轭更新：后验仍是 Beta 分布",
               r"a' = a + k, \quad b' = b + n - k", posterior_a=a_post, posterior_b=b_post)
        t.step("MAP: the mode of the posterior", "MAP：后验分布的众数",
               r"\theta_{MAP} = \frac{a' - 1}{a' + b' - 2} = \frac{k + a - 1}{n + a + b - 2}",
               map=posterior.mode)
        t.step("Bayesian: the posterior mean (the predictive probability of a success)",
               "贝叶斯：后验均值（下一次成功的预测概率）",
               r"\mathbb{E}[\theta \mid D] = \frac{a'}{a' + b'} = \frac{k + a}{n + a + b}",
               posterior_mean=posterior.mean)
        t.step("Posterior variance: the uncertainty a point estimate drops", "后验方差：点估计丢掉的不确定性",
               r"\mathrm{Var}[\theta \mid D] = \frac{a' b'}{(a' + b')^2 (a' + b' + 1)}",
               posterior_var=posterior.variance)
        return Computed({"mle": mle, "map": posterior.mode, "posterior_mean": posterior.mean,
                         "posterior_a": a_post, "posterior_b": b_post,
                         "posterior_var": posterior.variance}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        n, k = p["n"], p["k"]
        a_post = _fraction(p["a"]) + k
        b_post = _fraction(p["b"]) + n - k
        total = a_post + b_post
        return {
            "mle": _argmax_log_density(k, n - k),
            "map": _argmax_log_density(float(a_post - 1), float(b_post - 1)),
            "posterior_mean": float(a_post / total),
            "posterior_a": float(a_post),
            "posterior_b": float(b_post),
            "posterior_var": float(a_post * b_post / (total * total * (total + 1))),
        }

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        n, k, a, b = p["n"], p["k"], p["a"], p["b"]
        mean = (k + a) / (n + a + b)
        mode = (k + a - 1) / (n + a + b - 2)
        return [
            Misconception("map_is_mean", "Took the posterior mean (k + a)/(n + a + b) as the MAP",
                          "把后验均值 (k + a)/(n + a + b) 当成了 MAP", {"map": mean}),
            Misconception("mean_is_mode", "Took the posterior mode as the posterior mean",
                          "把后验众数当成了后验均值", {"posterior_mean": mode}),
            Misconception("mle_with_prior", "Added the prior pseudo-counts to the MLE",
                          "在 MLE 里也加上了先验的伪计数", {"mle": mean}),
            Misconception("map_numerator_no_minus_one",
                          "Dropped the −1 in the numerator: (k + a)/(n + a + b − 2)",
                          "分子漏了 −1：(k + a)/(n + a + b − 2)",
                          {"map": (k + a) / (n + a + b - 2)}),
            Misconception("map_denominator_minus_one",
                          "Subtracted 1 instead of 2 in the denominator: (k + a − 1)/(n + a + b − 1)",
                          "分母只减了 1：(k + a − 1)/(n + a + b − 1)",
                          {"map": (k + a - 1) / (n + a + b - 1)}),
            Misconception("failures_swapped", "Added the successes to b (swapped a' and b')",
                          "把成功次数加到了 b 上（a' 与 b' 颠倒）",
                          {"posterior_a": a + n - k, "posterior_b": b + k}),
            Misconception("all_trials_to_b", "Added all n trials to b: b' = b + n",
                          "把全部 n 次试验都加到了 b：b' = b + n", {"posterior_b": b + n}),
        ]

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        cols = torch.tensor([[p["n"], p["k"], p["a"], p["b"]] for p in ps], dtype=DTYPE,
                            device=device)  # (B, 4)
        n, k, a, b = cols.T
        a_post, b_post = a + k, b + n - k
        posterior = Beta(a_post, b_post)
        keys = ("mle", "map", "posterior_mean", "posterior_a", "posterior_b", "posterior_var")
        columns = [c.tolist() for c in (k / n, posterior.mode, posterior.mean, a_post, b_post,
                                        posterior.variance)]
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]
