"""Two regression/classification losses and their gradients: binary cross-entropy and MSE.

Symbols, as printed in the steps:
    y_i   targets                   a_i = σ(z_i)   predicted probabilities (sigmoid outputs)
    z_i   logits, z_i = ln(a_i / (1 - a_i))        ŷ_i   predictions (regression)
    n     number of examples        L     the loss, averaged over the examples
    c     1/2 when half is true, else 1 (MSE)

Both losses are means over the n examples (PyTorch's reduction='mean'), with
the natural logarithm.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
import torch.nn.functional as F

from engine.params import Array, Boolean
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_N = 1024
A_MIN = 1e-6  # keeps a(1 - a) far above the 1e-12 floor torch puts under the BCE gradient
Y_LIMIT = 1e6


def _by_length(ps: list[dict[str, Any]], key: str) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(ps):
        groups.setdefault(len(p[key]), []).append(i)
    return groups


def _same_length(p: dict[str, Any], first: str, second: str) -> None:
    if len(p[second]) != len(p[first]):
        raise ValueError(f"parameter '{second}': has {len(p[second])} elements but {first} has "
                         f"{len(p[first])}; they must have the same length")


@register("binary_cross_entropy")
class BinaryCrossEntropy(Kind):
    r"""Binary cross-entropy of sigmoid outputs, and its gradients before and after the sigmoid.

    .. math::
        L = -\frac{1}{n} \sum_i \big[ y_i \ln a_i + (1 - y_i) \ln(1 - a_i) \big], \qquad
        \frac{\partial L}{\partial a_i} = -\frac{1}{n}\Big(\frac{y_i}{a_i} - \frac{1 - y_i}{1 - a_i}\Big),

        \sigma'(z_i) = a_i (1 - a_i), \qquad
        \frac{\partial L}{\partial z_i} = \frac{\partial L}{\partial a_i}\,\sigma'(z_i)
        = \frac{a_i - y_i}{n}
    """

    title = "Binary cross-entropy and its gradient"
    title_zh = "二元交叉熵及其梯度"
    params = (
        Array("y", ndim=(1,), min=0, max=1, max_elements=MAX_N, help="targets y_i in [0, 1]"),
        Array("a", ndim=(1,), min=A_MIN, max=1 - A_MIN, max_elements=MAX_N,
              help="predicted probabilities a_i = σ(z_i), strictly between 0 and 1"),
    )
    answers = (
        Answer("loss", AnswerType.SCALAR, "L, the mean over the examples (nats)"),
        Answer("grad_a", AnswerType.VECTOR, "dL/da_i"),
        Answer("grad_z", AnswerType.VECTOR, "dL/dz_i for a sigmoid output, (a_i - y_i)/n"),
    )
    check_method = "closed forms in Python math (log1p for ln(1 - a)) and (a - y)/n"
    conventions = (
        "Mean over the n examples (reduction='mean') and the natural logarithm.",
        "a must lie in [1e-6, 1 - 1e-6], so the logs are finite and PyTorch's clamps "
        "(log >= -100, a(1 - a) >= 1e-12 in the gradient) never act.",
        "grad_z assumes a = σ(z): the sigmoid's derivative cancels, leaving (a - y)/n.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        _same_length(p, "y", "a")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        n = rng.randint(1, 4)
        soft = rng.random() < 0.15
        y = [round(rng.uniform(0, 1), 1) if soft else float(rng.randint(0, 1)) for _ in range(n)]
        return {"y": y, "a": [round(rng.uniform(0.05, 0.95), 2) for _ in range(n)]}

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        y = torch.tensor(p["y"], dtype=DTYPE, device=device)
        a = torch.tensor(p["a"], dtype=DTYPE, device=device, requires_grad=True)
        z = torch.logit(a.detach()).requires_grad_()  # the logits that give a through the sigmoid
        loss = F.binary_cross_entropy(a, y)
        # through the sigmoid, autograd multiplies dL/da by σ'(z): the cancellation happens in
        # the numbers; the two graphs are separate, so one backward pass gives both gradients
        loss_z = F.binary_cross_entropy(torch.sigmoid(z), y)
        grad_a, grad_z = torch.autograd.grad(loss + loss_z, (a, z))
        a = a.detach()
        n = len(p["y"])
        terms = -(y * torch.log(a) + (1 - y) * torch.log1p(-a))
        t = Trace()
        t.step("Loss of each example", "每个样本的损失",
               r"\ell_i = -\big[ y_i \ln a_i + (1 - y_i) \ln(1 - a_i) \big]", terms=terms)
        t.step("Average over the examples", "对样本取平均",
               r"L = -\frac{1}{n} \sum_i \big[ y_i \ln a_i + (1 - y_i) \ln(1 - a_i) \big]",
               n=n, loss=loss)
        t.step("Gradient with respect to the probabilities", "对概率 a 的梯度",
               r"\frac{\partial L}{\partial a_i} = -\frac{1}{n}\Big(\frac{y_i}{a_i} - "
               r"\frac{1 - y_i}{1 - a_i}\Big) = \frac{a_i - y_i}{n\, a_i (1 - a_i)}", grad_a=grad_a)
        t.step("Derivative of the sigmoid", "sigmoid 的导数", r"\sigma'(z_i) = a_i (1 - a_i)",
               z=z.detach(), sigma_prime=a * (1 - a))
        t.step("Chain rule: σ'(z) cancels", "链式法则：σ'(z) 被约掉",
               r"\frac{\partial L}{\partial z_i} = \frac{\partial L}{\partial a_i}\,\sigma'(z_i) "
               r"= \frac{a_i - y_i}{n}", grad_z=grad_z)
        return Computed({"loss": loss, "grad_a": grad_a, "grad_z": grad_z}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        y, a, n = p["y"], p["a"], len(p["y"])
        pairs = list(zip(y, a, strict=True))
        loss = -math.fsum(yi * math.log(ai) + (1 - yi) * math.log1p(-ai) for yi, ai in pairs) / n
        return {"loss": loss,
                "grad_a": [-(yi / ai - (1 - yi) / (1 - ai)) / n for yi, ai in pairs],
                "grad_z": [(ai - yi) / n for yi, ai in pairs]}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        right, n = self.check(p), len(p["y"])
        brackets = [yi * math.log(ai) + (1 - yi) * math.log1p(-ai)
                    for yi, ai in zip(p["y"], p["a"], strict=True)]
        return [
            Misconception("dropped_minus", "Dropped the leading minus sign", "漏掉了前面的负号",
                          {"loss": -right["loss"]}),
            Misconception("squared_bracket", "Squared the bracket (as one set of notes prints it)",
                          "把方括号整体平方了（某份笔记中的写法）",
                          {"loss": math.fsum(b * b for b in brackets) / n}),
            Misconception("summed_not_averaged", "Summed over the examples instead of averaging",
                          "对样本求和而没有取平均",
                          {k: [n * g for g in v] if isinstance(v, list) else n * v
                           for k, v in right.items()}),
            Misconception("kept_sigma_prime",
                          "Kept a factor σ'(z) in dL/dz (the squared-error gradient)",
                          "dL/dz 中保留了 σ'(z) 因子（平方误差的梯度）",
                          {"grad_z": [g * a * (1 - a) for g, a in zip(right["grad_z"], p["a"],
                                                                      strict=True)]}),
        ]

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        for idx in _by_length(ps, "y").values():
            y = torch.tensor([ps[i]["y"] for i in idx], dtype=DTYPE, device=device)  # (B, n)
            a = torch.tensor([ps[i]["a"] for i in idx], dtype=DTYPE, device=device,
                             requires_grad=True)
            z = torch.logit(a.detach()).requires_grad_()
            losses = F.binary_cross_entropy(a, y, reduction="none").mean(dim=1)  # (B,)
            per_row = F.binary_cross_entropy(torch.sigmoid(z), y, reduction="none").mean(dim=1)
            # rows (and the two graphs) are independent, so the sums give every row's gradient
            grad_a, grad_z = torch.autograd.grad(losses.sum() + per_row.sum(), (a, z))
            for j, (loss, ga, gz) in enumerate(zip(losses.tolist(), grad_a.tolist(),
                                                   grad_z.tolist(), strict=True)):
                results[idx[j]] = {"loss": loss, "grad_a": ga, "grad_z": gz}
        return results  # type: ignore[return-value]


@register("mse")
class MeanSquaredError(Kind):
    r"""Mean squared error (optionally halved) and its gradient.

    .. math::
        L = \frac{c}{n} \sum_i (\hat y_i - y_i)^2, \qquad
        \frac{\partial L}{\partial \hat y_i} = \frac{2c}{n} (\hat y_i - y_i), \qquad
        c = \tfrac12 \text{ if half else } 1
    """

    title = "Mean squared error and its gradient"
    title_zh = "均方误差及其梯度"
    params = (
        Array("y", ndim=(1,), min=-Y_LIMIT, max=Y_LIMIT, max_elements=MAX_N, help="targets y_i"),
        Array("yhat", ndim=(1,), min=-Y_LIMIT, max=Y_LIMIT, max_elements=MAX_N,
              help="predictions ŷ_i"),
        Boolean("half", default=False, help="multiply by 1/2 (so the 2 of the derivative cancels)"),
    )
    answers = (
        Answer("loss", AnswerType.SCALAR, "L, the mean over the examples"),
        Answer("grad_yhat", AnswerType.VECTOR, "dL/dŷ_i"),
    )
    check_method = "closed forms in Python math"
    conventions = (
        "Mean over the n examples (PyTorch's F.mse_loss, reduction='mean'); half multiplies by 1/2.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        _same_length(p, "y", "yhat")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        n = rng.randint(2, 4)
        y = [round(rng.uniform(-3, 3), 1) for _ in range(n)]
        return {"y": y, "yhat": [round(v + rng.uniform(-2, 2), 1) for v in y],
                "half": rng.random() < 0.4}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return p["y"] == p["yhat"]

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        y = torch.tensor(p["y"], dtype=DTYPE, device=device)
        yhat = torch.tensor(p["yhat"], dtype=DTYPE, device=device, requires_grad=True)
        c = 0.5 if p["half"] else 1.0
        loss = c * F.mse_loss(yhat, y)
        (grad,) = torch.autograd.grad(loss, yhat)
        r = yhat.detach() - y
        t = Trace()
        t.step("Residuals", "残差", r"\hat y_i - y_i", residuals=r)
        t.step("Mean of the squares" + (", halved" if p["half"] else ""),
               "平方的平均" + ("，再乘 1/2" if p["half"] else ""),
               r"L = \frac{c}{n} \sum_i (\hat y_i - y_i)^2", squares=r**2, n=len(p["y"]), c=c,
               loss=loss)
        t.step("Gradient", "梯度", r"\frac{\partial L}{\partial \hat y_i} = \frac{2c}{n} (\hat y_i - y_i)",
               grad_yhat=grad)
        return Computed({"loss": loss, "grad_yhat": grad}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        n, c = len(p["y"]), 0.5 if p["half"] else 1.0
        r = [yh - y for y, yh in zip(p["y"], p["yhat"], strict=True)]
        return {"loss": c * math.fsum(v * v for v in r) / n, "grad_yhat": [2 * c * v / n for v in r]}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        right, n = self.check(p), len(p["y"])
        loss, grad = right["loss"], right["grad_yhat"]
        other = 2.0 if p["half"] else 0.5  # the factor that switches to the other convention
        out = [
            Misconception("summed_not_averaged", "Summed over the examples instead of averaging",
                          "对样本求和而没有取平均",
                          {"loss": n * loss, "grad_yhat": [n * g for g in grad]}),
            Misconception("other_half_convention",
                          "Used the other convention (with/without the factor 1/2)",
                          "用错了约定（是否乘 1/2）",
                          {"loss": other * loss, "grad_yhat": [other * g for g in grad]}),
            Misconception("gradient_sign", "Flipped the sign of the gradient (y − ŷ instead of ŷ − y)",
                          "梯度符号反了（用了 y − ŷ）", {"grad_yhat": [-g for g in grad]}),
        ]
        if not p["half"]:
            out.append(Misconception("forgot_power_rule_2", "Forgot the 2 from differentiating the square",
                                     "求导时漏了平方带来的 2", {"grad_yhat": [g / 2 for g in grad]}))
            out.append(Misconception("took_root", "Took the square root (RMSE)", "开了平方根（RMSE）",
                                     {"loss": math.sqrt(loss)}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        for idx in _by_length(ps, "y").values():
            y = torch.tensor([ps[i]["y"] for i in idx], dtype=DTYPE, device=device)  # (B, n)
            yhat = torch.tensor([ps[i]["yhat"] for i in idx], dtype=DTYPE, device=device,
                                requires_grad=True)
            c = torch.tensor([0.5 if ps[i]["half"] else 1.0 for i in idx], dtype=DTYPE,
                             device=device)
            losses = c * F.mse_loss(yhat, y, reduction="none").mean(dim=1)  # (B,)
            (grad,) = torch.autograd.grad(losses.sum(), yhat)
            for j, (loss, g) in enumerate(zip(losses.tolist(), grad.tolist(), strict=True)):
                results[idx[j]] = {"loss": loss, "grad_yhat": g}
        return results  # type: ignore[return-value]
