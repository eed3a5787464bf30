"""Softmax and the cross-entropy loss on top of it.

Symbols, as printed in the steps:
    z_i  logits                    T    temperature
    m    max_i z_i / T             p_i  probabilities
    y    target class index        L    loss

Convention: softmax is computed after subtracting the maximum logit
(``p_i = e^{z_i/T - m} / Σ_j e^{z_j/T - m}``), which gives the same numbers as
the textbook formula without overflowing for large logits.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.params import Array, Integer, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_CLASSES = 1024
LOGIT_LIMIT = 1e6


def _logits(rng: random.Random, low: int = 2, high: int = 5) -> list[float]:
    return [round(rng.uniform(-4, 4), 1) for _ in range(rng.randint(low, high))]


def _sigmoid(v: float) -> float:
    """Logistic sigmoid that never overflows (exp of a non-positive number only)."""
    if v >= 0:
        return 1 / (1 + math.exp(-v))
    e = math.exp(v)
    return e / (1 + e)


def softmax_reference(z: list[float], temperature: float = 1.0) -> tuple[list[float], list[float]]:
    """Probabilities and log-probabilities by Python ``math`` and ``fsum`` (independent of torch)."""
    scaled = [v / temperature for v in z]
    m = max(scaled)
    exps = [math.exp(v - m) for v in scaled]
    total = math.fsum(exps)
    log_total = math.log(total) + m
    return [e / total for e in exps], [v - log_total for v in scaled]


@register("softmax")
class Softmax(Kind):
    r"""Softmax with temperature, computed stably.

    .. math::
        m = \max_j \frac{z_j}{T}, \qquad
        p_i = \frac{e^{z_i/T - m}}{\sum_j e^{z_j/T - m}}, \qquad
        \log p_i = \frac{z_i}{T} - m - \log \sum_j e^{z_j/T - m}
    """

    title = "Softmax"
    title_zh = "Softmax 概率"
    params = (
        Array("logits", ndim=(1,), min=-LOGIT_LIMIT, max=LOGIT_LIMIT, max_elements=MAX_CLASSES,
              help="logits z (one per class)"),
        Number("temperature", default=1.0, min=1e-3, max=1e3, help="temperature T > 0"),
    )
    answers = (
        Answer("probs", AnswerType.VECTOR, "p_i, summing to 1"),
        Answer("log_probs", AnswerType.VECTOR, "log p_i (natural log)"),
    )
    check_method = "max-subtracted exponentials with Python math.exp and math.fsum in float64"
    conventions = ("Natural logarithm; the maximum is subtracted before exponentiating.",)
    batchable = True

    def sample(self, rng: random.Random) -> dict[str, Any]:
        return {"logits": _logits(rng), "temperature": rng.choice([1.0, 1.0, 1.0, 0.5, 2.0])}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return len(set(p["logits"])) == 1

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        z = torch.tensor(p["logits"], dtype=DTYPE, device=device)
        T = p["temperature"]
        scaled = z / T
        m = scaled.max()
        exps = torch.exp(scaled - m)
        total = exps.sum()
        probs = torch.softmax(scaled, dim=0)
        log_probs = torch.log_softmax(scaled, dim=0)
        t = Trace()
        if T != 1.0:
            t.step("Divide the logits by the temperature", "logits 除以温度",
                   r"z_i / T", T=T, scaled=scaled)
        t.step("Subtract the largest (scaled) logit", "减去最大的 logit",
               r"m = \max_j \frac{z_j}{T}", m=m, shifted=scaled - m)
        t.step("Exponentiate", "取指数", r"e^{z_i/T - m}", exps=exps)
        t.step("Sum of the exponentials", "指数求和", r"\sum_j e^{z_j/T - m}", total=total)
        t.step("Normalise", "归一化", r"p_i = \frac{e^{z_i/T - m}}{\sum_j e^{z_j/T - m}}", probs=probs)
        t.step("Log-probabilities", "对数概率",
               r"\log p_i = \frac{z_i}{T} - m - \log \sum_j e^{z_j/T - m}", log_probs=log_probs)
        return Computed({"probs": probs, "log_probs": log_probs}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        probs, log_probs = softmax_reference(p["logits"], p["temperature"])
        return {"probs": probs, "log_probs": log_probs}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        z, T = p["logits"], p["temperature"]
        out = []
        if T != 1.0:
            probs, log_probs = softmax_reference(z, 1.0)
            out.append(Misconception("ignored_temperature", "Ignored the temperature", "忽略了温度",
                                     {"probs": probs, "log_probs": log_probs}))
        sig = [_sigmoid(v / T) for v in z]
        out.append(Misconception("sigmoid_per_logit", "Applied a sigmoid to each logit separately",
                                 "对每个 logit 单独做了 sigmoid", {"probs": sig}))
        total = math.fsum(z)
        if all(v > 0 for v in z) and total > 0:
            out.append(Misconception("normalised_logits", "Divided logits by their sum (no exponential)",
                                     "直接用 logit 除以总和（没有取指数）",
                                     {"probs": [v / total for v in z]}))
        _, log_probs = softmax_reference(z, T)
        out.append(Misconception("log10", "Used log base 10 for the log-probabilities",
                                 "对数用了以 10 为底",
                                 {"log_probs": [v / math.log(10) for v in log_probs]}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        by_len: dict[int, list[int]] = {}
        for i, p in enumerate(ps):
            by_len.setdefault(len(p["logits"]), []).append(i)
        for idx in by_len.values():
            z = torch.tensor([ps[i]["logits"] for i in idx], dtype=DTYPE, device=device)  # (B, C)
            T = torch.tensor([ps[i]["temperature"] for i in idx], dtype=DTYPE, device=device)
            scaled = z / T[:, None]
            probs = torch.softmax(scaled, dim=1).tolist()
            log_probs = torch.log_softmax(scaled, dim=1).tolist()
            for j, i in enumerate(idx):
                results[i] = {"probs": probs[j], "log_probs": log_probs[j]}
        return results  # type: ignore[return-value]


@register("cross_entropy")
class CrossEntropy(Kind):
    r"""Cross-entropy loss of one example with a class-index target, and its gradient.

    .. math::
        L = -\log p_y = \log \sum_j e^{z_j} - z_y, \qquad
        \frac{\partial L}{\partial z_i} = p_i - [i = y]
    """

    title = "Cross-entropy loss"
    title_zh = "交叉熵损失"
    params = (
        Array("logits", ndim=(1,), min=-LOGIT_LIMIT, max=LOGIT_LIMIT, max_elements=MAX_CLASSES,
              help="logits z (one per class)"),
        Integer("target", min=0, max=MAX_CLASSES - 1, help="index y of the true class"),
    )
    answers = (
        Answer("loss", AnswerType.SCALAR, "L = -log p_y (nats)"),
        Answer("probs", AnswerType.VECTOR, "softmax probabilities p"),
        Answer("grad_logits", AnswerType.VECTOR, "dL/dz = p - onehot(y)"),
    )
    check_method = "closed form log-sum-exp and p - onehot(y) in numpy float64"
    conventions = ("Natural logarithm (nats); the loss of a single example, no averaging.",)
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if p["target"] >= len(p["logits"]):
            raise ValueError(f"parameter 'target': {p['target']} is not a class index; valid range "
                             f"is [0, {len(p['logits']) - 1}]")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        logits = _logits(rng, 3, 5)
        return {"logits": logits, "target": rng.randrange(len(logits))}

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        z = torch.tensor(p["logits"], dtype=DTYPE, device=device, requires_grad=True)
        y = p["target"]
        loss = F.cross_entropy(z[None, :], torch.tensor([y], device=device))
        (grad,) = torch.autograd.grad(loss, z)
        z = z.detach()
        probs = torch.softmax(z, dim=0)
        lse = torch.logsumexp(z, dim=0)
        t = Trace()
        t.step("Log-sum-exp of the logits", "logits 的 log-sum-exp", r"\log \sum_j e^{z_j}", lse=lse)
        t.step("Loss: log-sum-exp minus the target logit", "损失：log-sum-exp 减去目标类的 logit",
               r"L = -\log p_y = \log \sum_j e^{z_j} - z_y", y=y, z_y=z[y], loss=loss)
        t.step("Probabilities", "概率", r"p_i = \frac{e^{z_i}}{\sum_j e^{z_j}}", probs=probs)
        t.step("Gradient with respect to the logits", "对 logits 的梯度",
               r"\frac{\partial L}{\partial z_i} = p_i - [i = y]", grad_logits=grad)
        return Computed({"loss": loss, "probs": probs, "grad_logits": grad}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        z = np.asarray(p["logits"], dtype=np.float64)
        m = z.max()
        lse = m + np.log(np.sum(np.exp(z - m)))
        probs = np.exp(z - lse)
        onehot = np.zeros_like(z)
        onehot[p["target"]] = 1.0
        return {"loss": float(lse - z[p["target"]]), "probs": probs, "grad_logits": probs - onehot}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        z, y = p["logits"], p["target"]
        probs, log_probs = softmax_reference(z)
        loss = -log_probs[y]
        return [
            Misconception("dropped_minus", "Dropped the minus sign", "漏掉了负号", {"loss": -loss}),
            Misconception("log2", "Used log base 2 (bits instead of nats)", "对数用了以 2 为底",
                          {"loss": loss / math.log(2)}),
            Misconception("log10", "Used log base 10", "对数用了以 10 为底", {"loss": loss / math.log(10)}),
            Misconception("raw_logit", "Took minus the raw logit (no softmax)", "直接对 logit 取负（没有 softmax）",
                          {"loss": -z[y]}),
            Misconception("grad_is_probs", "Forgot to subtract the one-hot target in the gradient",
                          "梯度忘了减去 one-hot 目标", {"grad_logits": probs}),
        ]

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        by_len: dict[int, list[int]] = {}
        for i, p in enumerate(ps):
            by_len.setdefault(len(p["logits"]), []).append(i)
        for idx in by_len.values():
            z = torch.tensor([ps[i]["logits"] for i in idx], dtype=DTYPE, device=device)  # (B, C)
            y = torch.tensor([ps[i]["target"] for i in idx], device=device)
            losses = F.cross_entropy(z, y, reduction="none")
            probs = torch.softmax(z, dim=1)
            grads = probs - F.one_hot(y, z.shape[1]).to(DTYPE)
            for j, (loss, pr, g) in enumerate(zip(losses.tolist(), probs.tolist(), grads.tolist(), strict=True)):
                results[idx[j]] = {"loss": loss, "probs": pr, "grad_logits": g}
        return results  # type: ignore[return-value]
