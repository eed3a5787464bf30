"""The Gaussian (normal) density in one to three dimensions, and its differential entropy.

Symbols, as printed in the steps:
    x, μ      point and mean (numbers in 1-D, vectors of length d otherwise)
    Σ         covariance matrix (d × d, symmetric positive definite); σ² in 1-D
    σ         standard deviation: with ``std`` the covariance is Σ = σ² I
    Δ²        squared Mahalanobis distance (x − μ)ᵀ Σ⁻¹ (x − μ); Δ = |x − μ| / σ in 1-D
    Z         normaliser √((2π)^d |Σ|)
    h         differential entropy ½ ln((2πe)^d |Σ|), in nats

The covariance is given either as ``cov`` (a d × d matrix, or the variance σ² when d = 1)
or as ``std`` (σ, for the isotropic Σ = σ² I), never both.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
from torch.distributions import MultivariateNormal

from engine.params import Array, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_DIM = 3
VALUE_LIMIT = 1e3
SYMMETRY_TOL = 1e-9
PIVOT_TOL = 1e-10  # relative: a Cholesky pivot below this times the largest diagonal is singular


def _vector(value: Any) -> list[float]:
    return [value] if isinstance(value, float) else list(value)


def covariance(p: dict[str, Any]) -> list[list[float]]:
    """Σ as a d × d list of rows, from ``cov`` or from ``std``."""
    d = len(_vector(p["x"]))
    if p["std"] is not None:
        s2 = p["std"] ** 2
        return [[s2 if i == j else 0.0 for j in range(d)] for i in range(d)]
    cov = p["cov"]
    return [[cov]] if isinstance(cov, float) else [list(row) for row in cov]


def cholesky(S: list[list[float]]) -> list[list[float]] | None:
    """Lower-triangular L with L Lᵀ = S by the textbook loops; None if S is not positive definite."""
    d = len(S)
    L = [[0.0] * d for _ in range(d)]
    floor = PIVOT_TOL * max(abs(S[i][i]) for i in range(d))
    for j in range(d):
        pivot = S[j][j] - math.fsum(L[j][k] ** 2 for k in range(j))
        if pivot <= floor:
            return None
        L[j][j] = math.sqrt(pivot)
        for i in range(j + 1, d):
            L[i][j] = (S[i][j] - math.fsum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    return L


def gaussian_reference(p: dict[str, Any], *, root: bool = True, half: bool = True,
                       sigma_in_exponent: bool = False) -> dict[str, float]:
    """Density, log density, Mahalanobis distance and entropy by a Cholesky factor in loops.

    The keyword switches reproduce named mistakes: ``root=False`` drops the square root of
    the normaliser, ``half=False`` the ½ of the exponent, ``sigma_in_exponent=True`` divides
    (x_i − μ_i)² by σ_i instead of σ_i² (for a diagonal Σ only).
    """
    x, mu = _vector(p["x"]), _vector(p["mean"])
    S = covariance(p)
    d = len(x)
    L = cholesky(S)
    if L is None:
        raise ValueError("parameter 'cov': must be positive definite")
    log_det = 2 * math.fsum(math.log(L[i][i]) for i in range(d))
    diff = [xi - mi for xi, mi in zip(x, mu, strict=True)]
    if sigma_in_exponent:
        delta2 = math.fsum(diff[i] ** 2 / math.sqrt(S[i][i]) for i in range(d))
    else:  # forward substitution L y = x − μ, then Δ² = yᵀ y
        y = [0.0] * d
        for i in range(d):
            y[i] = (diff[i] - math.fsum(L[i][k] * y[k] for k in range(i))) / L[i][i]
        delta2 = math.fsum(v * v for v in y)
    log_norm = (d * math.log(2 * math.pi) + log_det) * (0.5 if root else 1.0)
    log_density = -(0.5 if half else 1.0) * delta2 - log_norm
    return {"density": math.exp(log_density), "log_density": log_density,
            "mahalanobis": math.sqrt(delta2),
            "entropy": 0.5 * (d * (1 + math.log(2 * math.pi)) + log_det)}


def _is_diagonal(S: list[list[float]]) -> bool:
    return all(S[i][j] == 0 for i in range(len(S)) for j in range(len(S)) if i != j)


@register("gaussian")
class Gaussian(Kind):
    r"""Density of the normal distribution N(μ, Σ) at a point, in d = 1, 2 or 3 dimensions.

    .. math::
        \Delta^2 = (x-\mu)^\top \Sigma^{-1} (x-\mu), \qquad
        Z = \sqrt{(2\pi)^d |\Sigma|}, \qquad
        \mathcal{N}(x; \mu, \Sigma) = \frac{1}{Z} \exp\!\left(-\tfrac12 \Delta^2\right),

    which in one dimension is
    :math:`\mathcal{N}(x; \mu, \sigma^2) = \sqrt{\frac{1}{2\pi\sigma^2}}
    \exp\!\left(-\frac{(x-\mu)^2}{2\sigma^2}\right)`. Also
    :math:`\ln \mathcal{N} = -\tfrac12 \Delta^2 - \ln Z`, the Mahalanobis distance
    :math:`\Delta`, and the differential entropy
    :math:`h = \tfrac12 \ln\big((2\pi e)^d |\Sigma|\big)` — the largest of all distributions
    with covariance Σ.
    """

    title = "Gaussian density and entropy"
    title_zh = "高斯分布的密度与熵"
    params = (
        Array("x", ndim=(0, 1), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_DIM,
              help="the point: a number (1-D) or a vector of length d ≤ 3"),
        Array("mean", ndim=(0, 1), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_DIM,
              help="μ, same shape as x"),
        Array("cov", default=None, ndim=(0, 2), min=-VALUE_LIMIT, max=VALUE_LIMIT,
              max_elements=MAX_DIM * MAX_DIM,
              help="Σ: d × d symmetric positive definite (the variance σ² when x is a number)"),
        Number("std", default=None, min=0, max=VALUE_LIMIT, open_min=True,
               help="σ, for the isotropic Σ = σ² I (instead of cov)"),
    )
    answers = (
        Answer("density", AnswerType.SCALAR, "N(x; μ, Σ)"),
        Answer("log_density", AnswerType.SCALAR, "ln N(x; μ, Σ)"),
        Answer("mahalanobis", AnswerType.SCALAR, "Δ = √((x−μ)ᵀΣ⁻¹(x−μ)); |x − μ|/σ in 1-D"),
        Answer("entropy", AnswerType.SCALAR, "differential entropy ½ ln((2πe)^d |Σ|), in nats"),
    )
    check_method = ("Cholesky factor of Σ and forward substitution by explicit Python loops "
                    "(|Σ| = Π L_ii², Δ² = ‖L⁻¹(x − μ)‖²)")
    conventions = (
        "The second parameter of N(μ, σ²) is the variance: cov = σ² in 1-D; std gives σ itself "
        "(torch.distributions.Normal and scipy.stats.norm take σ, numpy's multivariate_normal Σ).",
        "The density is a density, not a probability: it can exceed 1 when σ is small.",
        "Entropy in nats (natural logarithm); it is a differential entropy and can be negative.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        x_shape = "number" if isinstance(p["x"], float) else len(p["x"])
        m_shape = "number" if isinstance(p["mean"], float) else len(p["mean"])
        if x_shape != m_shape:
            raise ValueError(f"parameter 'mean': must have the same shape as x ({x_shape}), "
                             f"got {m_shape}")
        if (p["cov"] is None) == (p["std"] is None):
            raise ValueError("parameter 'cov': give exactly one of cov (the covariance matrix "
                             "or variance) and std (σ for Σ = σ² I)")
        if p["cov"] is None:
            return
        d = len(_vector(p["x"]))
        cov = p["cov"]
        if isinstance(cov, float):
            if d != 1:
                raise ValueError(f"parameter 'cov': a single number is the variance of a 1-D "
                                 f"Gaussian, but x has length {d}; give a {d} × {d} matrix")
            if cov <= 0:
                raise ValueError(f"parameter 'cov': the variance must be positive, got {cov:g}")
            return
        if len(cov) != d or len(cov[0]) != d:
            raise ValueError(f"parameter 'cov': must be {d} × {d} for x of length {d}, got "
                             f"{len(cov)} × {len(cov[0])}")
        scale = max(abs(v) for row in cov for v in row)
        for i in range(d):
            for j in range(i):
                if abs(cov[i][j] - cov[j][i]) > SYMMETRY_TOL * max(scale, 1.0):
                    raise ValueError(f"parameter 'cov': must be symmetric, but cov[{i}][{j}] = "
                                     f"{cov[i][j]:g} ≠ cov[{j}][{i}] = {cov[j][i]:g}")
        if cholesky(cov) is None:
            raise ValueError("parameter 'cov': must be positive definite (every eigenvalue > 0); "
                             "this matrix is singular, nearly singular or indefinite")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        if rng.random() < 0.55:  # univariate, given by σ or by σ²
            mean = float(rng.randint(-3, 3))
            std = rng.choice([0.5, 1.0, 1.0, 1.5, 2.0, 3.0])
            x = round(mean + std * rng.choice([-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]), 2)
            if rng.random() < 0.7:
                return {"x": x, "mean": mean, "std": std}
            return {"x": x, "mean": mean, "cov": round(std * std, 2)}
        d = rng.choice([2, 2, 3])
        mean = [float(rng.randint(-2, 2)) for _ in range(d)]
        x = [m + rng.choice([-1.5, -1, -0.5, 0, 0.5, 1, 1.5]) for m in mean]
        if rng.random() < 0.2:
            return {"x": x, "mean": mean, "std": rng.choice([0.5, 1.0, 2.0])}
        # Σ = B Bᵀ + diag(k): small integers, positive definite by construction
        B = [[rng.choice([-1, 0, 0, 1]) for _ in range(d)] for _ in range(d)]
        k = [rng.randint(1, 3) for _ in range(d)]
        cov = [[float(sum(B[i][t] * B[j][t] for t in range(d)) + (k[i] if i == j else 0))
                for j in range(d)] for i in range(d)]
        return {"x": x, "mean": mean, "cov": cov}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return gaussian_reference(p)["mahalanobis"] > 3  # the density is too small to ask about

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        x = torch.tensor(_vector(p["x"]), dtype=DTYPE, device=device)  # (d,)
        mu = torch.tensor(_vector(p["mean"]), dtype=DTYPE, device=device)
        Sigma = torch.tensor(covariance(p), dtype=DTYPE, device=device)  # (d, d)
        d = x.shape[0]
        N = MultivariateNormal(mu, covariance_matrix=Sigma, validate_args=False)
        det = torch.linalg.det(Sigma)
        diff = x - mu
        delta2 = diff @ torch.linalg.solve(Sigma, diff)
        Z = torch.sqrt((2 * math.pi) ** d * det)
        log_density = N.log_prob(x)
        density = torch.exp(log_density)
        entropy = N.entropy()
        t = Trace()
        if p["std"] is not None:
            t.step("Covariance from the standard deviation", "由标准差得到协方差",
                   r"\Sigma = \sigma^2 I", sigma=p["std"], Sigma=Sigma)
        t.step("Determinant of the covariance", "协方差矩阵的行列式", r"|\Sigma|", d=d, det=det)
        t.step("Normaliser", "归一化常数", r"Z = \sqrt{(2\pi)^d |\Sigma|}", Z=Z)
        t.step("Squared Mahalanobis distance of x from μ", "x 到 μ 的马氏距离平方",
               r"\Delta^2 = (x-\mu)^\top \Sigma^{-1} (x-\mu)", x_minus_mu=diff, delta2=delta2,
               mahalanobis=torch.sqrt(delta2))
        t.step("Density", "概率密度", r"\mathcal{N}(x; \mu, \Sigma) = \frac{1}{Z}"
               r"\exp\!\left(-\tfrac12 \Delta^2\right)", exponent=-0.5 * delta2, density=density)
        t.step("Log density", "对数密度", r"\ln \mathcal{N} = -\tfrac12 \Delta^2 - \ln Z",
               log_density=log_density)
        t.step("Differential entropy (maximal for this covariance)", "微分熵（给定协方差时最大）",
               r"h = \tfrac12 \ln\big((2\pi e)^d |\Sigma|\big)", entropy=entropy, unit="nats")
        return Computed({"density": density, "log_density": log_density,
                         "mahalanobis": torch.sqrt(delta2), "entropy": entropy}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return gaussian_reference(p)

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        right = gaussian_reference(p)

        def wrong(ref: dict[str, float]) -> dict[str, float]:
            return {"density": ref["density"], "log_density": ref["log_density"]}

        out = [
            Misconception("no_sqrt_normaliser", "Forgot the square root in the normaliser: "
                          "divided by (2π)^d |Σ| instead of its square root",
                          "归一化常数忘了开方：除以 (2π)^d |Σ| 而不是它的平方根",
                          wrong(gaussian_reference(p, root=False))),
            Misconception("no_half_exponent", "Forgot the ½ in the exponent: exp(−Δ²)",
                          "指数里漏了 ½：写成 exp(−Δ²)", wrong(gaussian_reference(p, half=False))),
        ]
        if _is_diagonal(covariance(p)):
            out.append(Misconception(
                "sigma_for_variance", "Used σ instead of σ² in the exponent: (x − μ)²/(2σ)",
                "指数里用了 σ 而不是 σ²：(x − μ)²/(2σ)",
                {k: v for k, v in gaussian_reference(p, sigma_in_exponent=True).items()
                 if k != "entropy"}))
        d = len(_vector(p["x"]))
        out.append(Misconception("entropy_without_e", "Left out the e: ½ ln((2π)^d |Σ|)",
                                 "熵的公式漏了 e：½ ln((2π)^d |Σ|)",
                                 {"entropy": right["entropy"] - d / 2}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[int, list[int]] = {}
        for i, p in enumerate(ps):
            groups.setdefault(len(_vector(p["x"])), []).append(i)
        for idx in groups.values():
            x = torch.tensor([_vector(ps[i]["x"]) for i in idx], dtype=DTYPE, device=device)  # (B, d)
            mu = torch.tensor([_vector(ps[i]["mean"]) for i in idx], dtype=DTYPE, device=device)
            Sigma = torch.tensor([covariance(ps[i]) for i in idx], dtype=DTYPE, device=device)
            N = MultivariateNormal(mu, covariance_matrix=Sigma, validate_args=False)  # batch (B,)
            log_density = N.log_prob(x)
            diff = x - mu
            delta2 = (diff * torch.linalg.solve(Sigma, diff.unsqueeze(-1)).squeeze(-1)).sum(-1)
            rows = zip(log_density.exp().tolist(), log_density.tolist(),
                       delta2.sqrt().tolist(), N.entropy().tolist(), strict=True)
            for i, (dens, logd, maha, ent) in zip(idx, rows, strict=True):
                results[i] = {"density": dens, "log_density": logd, "mahalanobis": maha,
                              "entropy": ent}
        return results  # type: ignore[return-value]
