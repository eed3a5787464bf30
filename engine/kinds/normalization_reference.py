"""Normalisation without torch: the independent numpy check of ``batch_norm`` and
``layer_norm`` and the numbers their common mistakes give.

Same symbols as ``engine.kinds.normalization``: statistics μ and σ² are taken
along ``axis`` (0 = over the batch, BN; 1 = over the features, LN).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.registry import Misconception, Tolerance

X_LIMIT = 1e4  # largest |x|, γ, β accepted
# x̂ divides x − μ by σ. The two means (torch, numpy) may differ in the last bit, about
# 1e-16·|x| <= 1e-12 for |x| <= 1e4, and a small σ magnifies that: hence atol 1e-9.
TOLERANCE = Tolerance(rtol=1e-9, atol=1e-9)
# Forgetting ε is named only when it moves x̂ by more than this relative amount: next to a
# variance of order one, ε = 1e-5 changes x̂ by 5e-6, which no grader can tell from right.
VISIBLE_RTOL = 1e-3
KEYS = ("mean", "var", "x_hat", "y")


def reference(x: Any, axis: int, gamma: Any, beta: Any, eps: float) -> tuple[np.ndarray, ...]:
    """μ, σ² (biased), x̂ = (x − μ)/√(σ² + ε) and y = γ x̂ + β by explicit numpy sums."""
    x = np.asarray(x, dtype=np.float64)
    count = x.shape[axis]
    mu = x.sum(axis=axis, keepdims=True) / count
    centred = x - mu
    var = (centred * centred).sum(axis=axis, keepdims=True) / count
    x_hat = centred / np.sqrt(var + eps)
    y = np.asarray(gamma, dtype=np.float64) * x_hat + np.asarray(beta, dtype=np.float64)
    return mu.squeeze(axis), var.squeeze(axis), x_hat, y


def mistakes(x: Any, axis: int, gamma: Any, beta: Any, eps: float) -> list[Misconception]:
    """The answers of the mistakes BN and LN share: n − 1, no ε, wrong axis, ÷ σ²."""
    x = np.asarray(x, dtype=np.float64)
    g, b = np.asarray(gamma, dtype=np.float64), np.asarray(beta, dtype=np.float64)
    count = x.shape[axis]
    mu = x.mean(axis=axis, keepdims=True)
    centred = x - mu
    var = (centred * centred).mean(axis=axis, keepdims=True)
    out = []
    if count > 1:
        var_u = var * count / (count - 1)
        x_hat = centred / np.sqrt(var_u + eps)
        out.append(Misconception(
            "unbiased_var", "Used the unbiased variance (divide by n − 1)",
            "用了无偏方差（除以 n − 1）",
            {"var": var_u.squeeze(axis), "x_hat": x_hat, "y": g * x_hat + b}))
    if np.all(var > 0) and np.sqrt(1 + eps / var.min()) - 1 > VISIBLE_RTOL:
        x_hat = centred / np.sqrt(var)
        out.append(Misconception("forgot_eps", "Forgot ε under the square root",
                                 "根号下漏掉了 ε", {"x_hat": x_hat, "y": g * x_hat + b}))
    other = dict(zip(KEYS, reference(x, 1 - axis, g, b, eps), strict=True))
    if axis == 0:
        out.append(Misconception(
            "wrong_axis", "Normalised each example over its features (layer norm)",
            "按样本在特征维上归一化（成了层归一化）", other))
    else:
        out.append(Misconception(
            "wrong_axis", "Normalised each feature over the batch (batch norm)",
            "按特征在批次维上归一化（成了批归一化）", other))
    x_hat = centred / (var + eps)
    out.append(Misconception(
        "divided_by_variance", "Divided by the variance instead of the standard deviation",
        "除以方差而不是标准差", {"x_hat": x_hat, "y": g * x_hat + b}))
    return out


def running_stats(mu: np.ndarray, var: np.ndarray, n: int, m: float,
                  running_mean: Any, running_var: Any) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's update: (1 − m)·old + m·new, with the unbiased variance s² = N/(N−1)·σ²."""
    rm, rv = np.asarray(running_mean, dtype=np.float64), np.asarray(running_var, dtype=np.float64)
    return (1 - m) * rm + m * mu, (1 - m) * rv + m * var * n / (n - 1)


def batch_norm_mistakes(x: Any, m: float, running_mean: Any,
                        running_var: Any) -> list[Misconception]:
    """BN's own mistakes: the seed's γ = σ² (NORM-08) and two running-statistics slips."""
    x = np.asarray(x, dtype=np.float64)
    n, mu, var = len(x), x.mean(axis=0), x.var(axis=0)
    rm, rv = np.asarray(running_mean, dtype=np.float64), np.asarray(running_var, dtype=np.float64)
    return [Misconception(
        "gamma_is_variance", "Set γ to the variance (instead of √(σ²+ε)) to undo the "
        "normalisation", "以为 γ 取方差（而不是 √(σ²+ε)）就能还原输入", {"gamma_identity": var},
    ), Misconception(
        "biased_running_var", "Updated the running variance with the biased variance",
        "滑动方差用了有偏方差来更新", {"running_var_new": (1 - m) * rv + m * var},
    ), Misconception(
        "momentum_reversed", "Weighted the old running value by m (the Keras convention)",
        "把 m 当成旧值的权重（Keras 的约定）",
        {"running_mean_new": m * rm + (1 - m) * mu,
         "running_var_new": m * rv + (1 - m) * var * n / (n - 1)},
    )]
