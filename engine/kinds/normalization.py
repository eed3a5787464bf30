"""Batch normalisation (training mode) and layer normalisation of an N×D matrix.

Symbols, as printed in the steps:
    x_{ij}   input: example i = 1..N (rows), feature j = 1..D (columns)
    μ, σ²    mean and biased variance (per feature for BN, per example for LN)
    ε        small constant added to the variance      x̂   normalised input
    γ, β     learnable scale and shift (per feature)   y    output
    m        momentum of the running statistics (BN)   s²   unbiased variance (BN)

Both kinds normalise with the BIASED variance (divide by the count), as PyTorch
does; only BN's running variance uses the unbiased estimate s².
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.kinds import normalization_reference as ref
from engine.params import Array, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace


def _shared_params() -> tuple[Array | Number, ...]:
    return (
        Array("x", ndim=(2,), min=-ref.X_LIMIT, max=ref.X_LIMIT,
              help="input matrix x, N examples (rows) × D features (columns)"),
        Array("gamma", default=None, ndim=(1,), min=-ref.X_LIMIT, max=ref.X_LIMIT,
              help="scale γ, one per feature (default all ones)"),
        Array("beta", default=None, ndim=(1,), min=-ref.X_LIMIT, max=ref.X_LIMIT,
              help="shift β, one per feature (default all zeros)"),
        Number("eps", default=1e-5, min=0, open_min=True, max=1,
               help="ε > 0 added to the variance"),
    )


def _per_feature(p: dict[str, Any], key: str, fill: float) -> None:
    """Fill a per-feature vector with its default, or check that it has D elements."""
    d = len(p["x"][0])
    if p[key] is None:
        p[key] = [fill] * d
    elif len(p[key]) != d:
        raise ValueError(f"parameter '{key}': has {len(p[key])} elements but x has {d} "
                         f"features (columns); they must match")


def _decimals(rng: random.Random, n: int, low: float, high: float) -> list[float]:
    return [round(rng.uniform(low, high), 1) + 0.0 for _ in range(n)]  # + 0.0: no -0.0


def _sample(rng: random.Random, n: int, d: int) -> dict[str, Any]:
    """A small matrix (integers, or one decimal), sometimes with a non-trivial γ and β."""
    if rng.random() < 0.7:
        x = [[float(rng.randint(-5, 5)) for _ in range(d)] for _ in range(n)]
    else:
        x = [_decimals(rng, d, -3, 3) for _ in range(n)]
    out: dict[str, Any] = {"x": x}
    if rng.random() < 0.4:
        out["gamma"] = _decimals(rng, d, 0.5, 2)
    if rng.random() < 0.4:
        out["beta"] = _decimals(rng, d, -1, 1)
    return out


def as_lists(t: torch.Tensor) -> list[Any]:
    """Nested Python lists of a (large) tensor; via numpy, much faster than Tensor.tolist."""
    return t.detach().cpu().numpy().tolist()


def _batches(ps: list[dict[str, Any]], device: torch.device) -> Iterator[tuple[list[int], Any]]:
    """For each group of variants whose x has the same shape: their indices, and a function
    stacking one parameter of the group into a tensor (variants first)."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, p in enumerate(ps):
        groups.setdefault((len(p["x"]), len(p["x"][0])), []).append(i)
    for idx in groups.values():
        yield idx, lambda key, idx=idx: torch.tensor([ps[i][key] for i in idx], dtype=DTYPE,
                                                     device=device)


def _store(results: list[dict[str, Any]], idx: list[int], answers: dict[str, torch.Tensor]):
    cols = {key: as_lists(t) for key, t in answers.items()}
    for j, i in enumerate(idx):
        results[i] = {key: col[j] for key, col in cols.items()}


class _Normalisation(Kind):
    """What BN and LN share: x, γ, β, ε, the numpy check and the common mistakes."""

    axis = 0  # the axis the statistics run over: 0 = batch (BN), 1 = features (LN)
    tolerance = ref.TOLERANCE
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        _per_feature(p, "gamma", 1.0)
        _per_feature(p, "beta", 0.0)

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        x = np.asarray(p["x"])
        return x.shape[self.axis] < 2 or bool(np.any(np.ptp(x, axis=self.axis) == 0))

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        answer = ref.reference(p["x"], self.axis, p["gamma"], p["beta"], p["eps"])
        return dict(zip(ref.KEYS, answer, strict=True))


@register("batch_norm")
class BatchNorm(_Normalisation):
    r"""Batch normalisation of an N×D mini-batch in training mode (``nn.BatchNorm1d``).

    .. math::
        \mu_j = \frac{1}{N}\sum_i x_{ij}, \quad
        \sigma_j^2 = \frac{1}{N}\sum_i (x_{ij} - \mu_j)^2, \quad
        \hat{x}_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}, \quad
        y_{ij} = \gamma_j \hat{x}_{ij} + \beta_j

        s_j^2 = \frac{N}{N-1}\sigma_j^2, \quad
        \mu^{run}_j \leftarrow (1-m)\,\mu^{run}_j + m\,\mu_j, \quad
        \sigma^{2,run}_j \leftarrow (1-m)\,\sigma^{2,run}_j + m\,s_j^2

    With :math:`\gamma_j = \sqrt{\sigma_j^2+\epsilon}` and :math:`\beta_j = \mu_j` the layer
    gives back its input, y = x: the identity mapping BN can learn.
    """

    axis = 0
    title = "Batch normalisation (training)"
    title_zh = "批归一化（训练模式）"
    params = (
        *_shared_params(),
        Number("momentum", default=0.1, min=0, max=1, help="m, weight of the new batch statistic"),
        Array("running_mean", default=None, ndim=(1,), min=-ref.X_LIMIT, max=ref.X_LIMIT,
              help="running mean before this batch (default zeros)"),
        Array("running_var", default=None, ndim=(1,), min=0, max=ref.X_LIMIT,
              help="running variance before this batch (default ones)"),
    )
    answers = (
        Answer("mean", AnswerType.VECTOR, "μ_j, one per feature"),
        Answer("var", AnswerType.VECTOR, "σ²_j, biased (divide by N), one per feature"),
        Answer("x_hat", AnswerType.TENSOR, "normalised input x̂ (N×D)"),
        Answer("y", AnswerType.TENSOR, "output y = γ x̂ + β (N×D)"),
        Answer("gamma_identity", AnswerType.VECTOR, "γ = √(σ²+ε): with β = μ it gives y = x"),
        Answer("running_mean_new", AnswerType.VECTOR, "running mean after this batch"),
        Answer("running_var_new", AnswerType.VECTOR, "running variance after this batch"),
    )
    check_method = "explicit numpy sums over the batch axis and the running-average formulas"
    conventions = (
        "Training mode: μ and σ² are the statistics of this mini-batch, over the batch axis; "
        "x̂ uses the BIASED variance (divide by N), as PyTorch and the original paper do.",
        "The running variance is updated with the UNBIASED batch variance s² = N/(N−1)·σ², as "
        "PyTorch's running_var is; evaluation mode normalises with the running statistics.",
        "PyTorch's momentum m weights the new batch statistic (default 0.1); Keras/TensorFlow's "
        "momentum weights the old running value (default 0.99).",
    )

    def clean(self, p: dict[str, Any]) -> None:
        if len(p["x"]) < 2:
            raise ValueError(f"parameter 'x': batch norm in training mode needs at least 2 "
                             f"examples (rows), got {len(p['x'])}")
        super().clean(p)
        _per_feature(p, "running_mean", 0.0)
        _per_feature(p, "running_var", 1.0)

    def sample(self, rng: random.Random) -> dict[str, Any]:
        d = rng.choice([1, 2, 2, 3])
        out = _sample(rng, rng.choice([2, 2, 3, 4]), d)
        if rng.random() < 0.3:
            out["running_mean"] = _decimals(rng, d, -1, 1)
            out["running_var"] = _decimals(rng, d, 0.5, 2)
            out["momentum"] = rng.choice([0.1, 0.1, 0.2, 0.5])
        return out

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        x, gamma, beta, running_mean, running_var = (  # (N, D), then (D,) each
            torch.tensor(p[k], dtype=DTYPE, device=device)
            for k in ("x", "gamma", "beta", "running_mean", "running_var"))
        eps, m, n = p["eps"], p["momentum"], len(p["x"])
        mu = x.mean(dim=0)  # (D,)
        var = x.var(dim=0, correction=0)  # (D,) biased
        x_hat = (x - mu) / torch.sqrt(var + eps)
        # F.batch_norm updates the running statistics in place, with the unbiased variance.
        y = F.batch_norm(x, running_mean, running_var, gamma, beta, training=True,
                         momentum=m, eps=eps)
        gamma_identity = torch.sqrt(var + eps)
        t = Trace()
        t.step("Mean of each feature over the batch", "每个特征在批次上的均值",
               r"\mu_j = \frac{1}{N}\sum_i x_{ij}", N=n, mean=mu)
        t.step("Biased variance of each feature (divide by N)", "每个特征的有偏方差（除以 N）",
               r"\sigma_j^2 = \frac{1}{N}\sum_i (x_{ij} - \mu_j)^2", var=var)
        t.step("Normalise", "标准化",
               r"\hat{x}_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}",
               eps=eps, x_hat=x_hat)
        t.step("Scale and shift", "缩放和平移", r"y_{ij} = \gamma_j \hat{x}_{ij} + \beta_j",
               gamma=gamma, beta=beta, y=y)
        t.step("The γ and β that would give back the input", "能还原输入的 γ 和 β",
               r"\gamma_j = \sqrt{\sigma_j^2 + \epsilon},\ \beta_j = \mu_j \Rightarrow y = x",
               gamma_identity=gamma_identity, beta_identity=mu)
        t.step("Update the running statistics (unbiased variance)", "更新滑动统计量（无偏方差）",
               r"\mu^{run}_j \leftarrow (1-m)\mu^{run}_j + m\mu_j,\ "
               r"\sigma^{2,run}_j \leftarrow (1-m)\sigma^{2,run}_j + m s_j^2",
               m=m, s2=var * n / (n - 1), running_mean_new=running_mean,
               running_var_new=running_var)
        return Computed({"mean": mu, "var": var, "x_hat": x_hat, "y": y,
                         "gamma_identity": gamma_identity, "running_mean_new": running_mean,
                         "running_var_new": running_var}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        out = super().check(p)
        out["gamma_identity"] = np.sqrt(out["var"] + p["eps"])
        out["running_mean_new"], out["running_var_new"] = ref.running_stats(
            out["mean"], out["var"], len(p["x"]), p["momentum"], p["running_mean"],
            p["running_var"])
        return out

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        return [*ref.mistakes(p["x"], 0, p["gamma"], p["beta"], p["eps"]),
                *ref.batch_norm_mistakes(p["x"], p["momentum"], p["running_mean"],
                                         p["running_var"])]

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{}] * len(ps)
        for idx, stack in _batches(ps, device):
            x = stack("x")  # (B, N, D)
            eps, m = stack("eps")[:, None], stack("momentum")[:, None]  # (B, 1)
            n = x.shape[1]
            mu, var = x.mean(dim=1), x.var(dim=1, correction=0)  # (B, D)
            std = torch.sqrt(var + eps)
            x_hat = (x - mu[:, None]) / std[:, None]
            y = stack("gamma")[:, None] * x_hat + stack("beta")[:, None]
            rm = (1 - m) * stack("running_mean") + m * mu
            rv = (1 - m) * stack("running_var") + m * var * n / (n - 1)
            _store(results, idx, {"mean": mu, "var": var, "x_hat": x_hat, "y": y,
                                  "gamma_identity": std, "running_mean_new": rm,
                                  "running_var_new": rv})
        return results


@register("layer_norm")
class LayerNorm(_Normalisation):
    r"""Layer normalisation of each row of an N×D matrix (``F.layer_norm`` over the last axis).

    .. math::
        \mu_i = \frac{1}{D}\sum_j x_{ij}, \quad
        \sigma_i^2 = \frac{1}{D}\sum_j (x_{ij} - \mu_i)^2, \quad
        \hat{x}_{ij} = \frac{x_{ij} - \mu_i}{\sqrt{\sigma_i^2 + \epsilon}}, \quad
        y_{ij} = \gamma_j \hat{x}_{ij} + \beta_j
    """

    axis = 1
    title = "Layer normalisation"
    title_zh = "层归一化"
    params = _shared_params()
    answers = (
        Answer("mean", AnswerType.VECTOR, "μ_i, one per example (row)"),
        Answer("var", AnswerType.VECTOR, "σ²_i, biased (divide by D), one per example"),
        Answer("x_hat", AnswerType.TENSOR, "normalised input x̂ (N×D)"),
        Answer("y", AnswerType.TENSOR, "output y = γ x̂ + β (N×D)"),
    )
    check_method = "explicit numpy sums over the feature axis"
    conventions = (
        "Statistics per example over its D features (the last axis), with the BIASED variance "
        "(divide by D), as torch.nn.functional.layer_norm(x, (D,)).",
        "γ and β are per feature, so unlike BN's they cannot undo a per-example normalisation "
        "in general; LN computes the same in training and evaluation (no running statistics).",
    )

    def sample(self, rng: random.Random) -> dict[str, Any]:
        return _sample(rng, rng.choice([1, 2, 2, 3]), rng.choice([2, 3, 4]))

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        x, gamma, beta = (torch.tensor(p[k], dtype=DTYPE, device=device)  # (N, D), (D,), (D,)
                          for k in ("x", "gamma", "beta"))
        eps, d = p["eps"], len(p["x"][0])
        mu = x.mean(dim=1)  # (N,)
        var = x.var(dim=1, correction=0)  # (N,) biased
        x_hat = (x - mu[:, None]) / torch.sqrt(var[:, None] + eps)
        y = F.layer_norm(x, (d,), gamma, beta, eps)
        t = Trace()
        t.step("Mean of each example over its features", "每个样本在特征上的均值",
               r"\mu_i = \frac{1}{D}\sum_j x_{ij}", D=d, mean=mu)
        t.step("Biased variance of each example (divide by D)", "每个样本的有偏方差（除以 D）",
               r"\sigma_i^2 = \frac{1}{D}\sum_j (x_{ij} - \mu_i)^2", var=var)
        t.step("Normalise", "标准化",
               r"\hat{x}_{ij} = \frac{x_{ij} - \mu_i}{\sqrt{\sigma_i^2 + \epsilon}}",
               eps=eps, x_hat=x_hat)
        t.step("Scale and shift (per feature)", "按特征缩放和平移",
               r"y_{ij} = \gamma_j \hat{x}_{ij} + \beta_j", gamma=gamma, beta=beta, y=y)
        return Computed({"mean": mu, "var": var, "x_hat": x_hat, "y": y}, t.steps)

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        return ref.mistakes(p["x"], 1, p["gamma"], p["beta"], p["eps"])

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{}] * len(ps)
        for idx, stack in _batches(ps, device):
            x = stack("x")  # (B, N, D)
            mu, var = x.mean(dim=2), x.var(dim=2, correction=0)  # (B, N)
            x_hat = (x - mu[..., None]) / torch.sqrt(var + stack("eps")[:, None])[..., None]
            y = stack("gamma")[:, None] * x_hat + stack("beta")[:, None]
            _store(results, idx, {"mean": mu, "var": var, "x_hat": x_hat, "y": y})
        return results
