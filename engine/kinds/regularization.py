"""Regularisation in one step: weight decay (L2 / L1 penalties) and inverted dropout.

Symbols, as printed in the steps:
    w       weights                  g     gradient of the data loss J at w
    η       learning rate (lr)       λ₂, λ₁  L2 and L1 coefficients (l2, l1)
    x       input of the dropout layer           p   DROP probability
    m       keep mask (1 = kept, 0 = dropped)    s   scale      y   output

Gradient clipping lives in ``engine.kinds.grad_clip``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.params import Array, Boolean, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

W_LIMIT = 1e6


def as_lists(t: torch.Tensor) -> list[Any]:
    """Nested Python lists of a (large) tensor; via numpy, much faster than Tensor.tolist."""
    return t.detach().cpu().numpy().tolist()


def _decimal(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 1) + 0.0  # + 0.0 turns -0.0 into 0.0


@register("weight_decay")
class WeightDecay(Kind):
    r"""One SGD step on the data loss plus L2 and L1 penalties.

    .. math::
        \tilde{J}(w) = J(w) + \frac{\lambda_2}{2}\|w\|_2^2 + \lambda_1 \|w\|_1, \quad
        \nabla \tilde{J} = g + \lambda_2 w + \lambda_1 \operatorname{sign}(w)

        w' = w - \eta\,\nabla\tilde{J}
           = (1 - \eta\lambda_2)\, w - \eta\,\big(g + \lambda_1 \operatorname{sign}(w)\big)

    :math:`1 - \eta\lambda_2` is the factor the L2 term shrinks the weights by each step.
    """

    title = "Weight decay (L2 / L1) in one SGD step"
    title_zh = "一步 SGD 中的权重衰减（L2 / L1）"
    params = (
        Array("w", ndim=(1,), min=-W_LIMIT, max=W_LIMIT, help="weights w"),
        Array("grad", ndim=(1,), min=-W_LIMIT, max=W_LIMIT, help="gradient g of the data loss"),
        Number("lr", min=0, open_min=True, max=10, help="learning rate η > 0"),
        Number("l2", default=0.0, min=0, max=100, help="L2 coefficient λ₂ (penalty λ₂/2·‖w‖²)"),
        Number("l1", default=0.0, min=0, max=100, help="L1 coefficient λ₁ (penalty λ₁·‖w‖₁)"),
    )
    answers = (
        Answer("w_new", AnswerType.VECTOR, "weights after the step"),
        Answer("shrink_factor", AnswerType.SCALAR, "1 − η·λ₂, the L2 shrinkage per step"),
    )
    check_method = "closed form (1 − ηλ₂)w − η(g + λ₁ sign w) in numpy"
    conventions = (
        "The L2 penalty is λ₂/2·‖w‖², so its gradient is λ₂·w: the same as PyTorch's "
        "SGD(weight_decay=λ₂). Some texts write λ‖w‖² (gradient 2λw).",
        "The L1 penalty λ₁·‖w‖₁ has the (sub)gradient λ₁·sign(w), with sign(0) = 0 as torch's "
        "abs backward uses.",
        "For plain SGD, adding λ₂w to the gradient and decoupled decay (AdamW style) give the "
        "same step; they differ only for adaptive optimisers such as Adam.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if len(p["grad"]) != len(p["w"]):
            raise ValueError(f"parameter 'grad': has {len(p['grad'])} elements but w has "
                             f"{len(p['w'])}; they must match")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        n = rng.randint(2, 4)
        w = [0.0 if rng.random() < 0.1 else _decimal(rng, -2, 2) for _ in range(n)]
        return {"w": w, "grad": [_decimal(rng, -1, 1) for _ in range(n)],
                "lr": rng.choice([0.1, 0.1, 0.01, 0.5, 1.0]),
                "l2": rng.choice([0.0, 0.1, 0.1, 0.01, 0.5]),
                "l1": rng.choice([0.0, 0.0, 0.1, 0.05, 0.5])}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return (p["l2"] == 0 and p["l1"] == 0) or not any(p["w"])

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        lr, l2, l1 = p["lr"], p["l2"], p["l1"]
        w = torch.tensor(p["w"], dtype=DTYPE, device=device, requires_grad=True)
        g = torch.tensor(p["grad"], dtype=DTYPE, device=device)
        # The data loss is represented by g·w, which has gradient g at the current w.
        penalised = torch.dot(g, w) + l2 / 2 * torch.sum(w * w) + l1 * torch.sum(torch.abs(w))
        (grad_total,) = torch.autograd.grad(penalised, w)
        w = w.detach()
        w_new = w - lr * grad_total
        shrink = 1 - lr * l2
        t = Trace()
        if l2:
            t.step("Gradient of the L2 penalty", "L2 惩罚项的梯度",
                   r"\nabla \frac{\lambda_2}{2}\|w\|_2^2 = \lambda_2 w", l2=l2, grad_l2=l2 * w)
        if l1:
            t.step("Gradient of the L1 penalty (sign(0) = 0)", "L1 惩罚项的梯度（sign(0) = 0）",
                   r"\nabla \lambda_1\|w\|_1 = \lambda_1 \operatorname{sign}(w)",
                   l1=l1, grad_l1=l1 * torch.sign(w))
        t.step("Total gradient", "总梯度",
               r"\nabla\tilde{J} = g + \lambda_2 w + \lambda_1 \operatorname{sign}(w)",
               grad_total=grad_total)
        t.step("SGD step", "SGD 更新", r"w' = w - \eta\,\nabla\tilde{J}", lr=lr, w_new=w_new)
        t.step("Same step read as shrink-then-descend", "等价写法：先收缩再下降",
               r"w' = (1 - \eta\lambda_2)\, w - \eta\,(g + \lambda_1 \operatorname{sign}(w))",
               shrink_factor=shrink)
        return Computed({"w_new": w_new, "shrink_factor": shrink}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        w, g = np.asarray(p["w"], dtype=np.float64), np.asarray(p["grad"], dtype=np.float64)
        lr, l2, l1 = p["lr"], p["l2"], p["l1"]
        shrink = 1.0 - lr * l2
        return {"w_new": shrink * w - lr * (g + l1 * np.sign(w)), "shrink_factor": shrink}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        w, g = np.asarray(p["w"], dtype=np.float64), np.asarray(p["grad"], dtype=np.float64)
        lr, l2, l1 = p["lr"], p["l2"], p["l1"]
        s = np.sign(w)

        def step(decay: np.ndarray, shrink: float) -> dict[str, Any]:
            return {"w_new": w - lr * g - decay, "shrink_factor": shrink}

        out = []
        if l2:
            out.append(Misconception(
                "l2_no_half", "Took the penalty as λ₂‖w‖² without the ½ (decay doubled)",
                "惩罚项写成 λ₂‖w‖²（少了 ½，衰减翻倍）",
                step(lr * (2 * l2 * w + l1 * s), 1 - 2 * lr * l2)))
        out.append(Misconception(
            "decay_without_lr", "Forgot the learning rate on the decay term",
            "衰减项忘了乘学习率", step(l2 * w + l1 * s, 1 - l2)))
        if l1:
            out.append(Misconception(
                "l1_as_l2", "Took the L1 gradient as λ₁·w (treated like L2)",
                "把 L1 的梯度当成 λ₁·w（当作 L2 处理）",
                {"w_new": w - lr * (g + l2 * w + l1 * w)}))
            out.append(Misconception(
                "l1_without_coefficient", "Took the L1 gradient as sign(w) without λ₁",
                "L1 梯度只写了 sign(w)，漏了系数 λ₁", {"w_new": w - lr * (g + l2 * w + s)}))
        out.append(Misconception(
            "decay_wrong_sign", "Subtracted the penalty gradient (weights grow instead of shrink)",
            "惩罚项梯度符号弄反（权重变大而不是收缩）",
            step(-lr * (l2 * w + l1 * s), 1 + lr * l2)))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{}] * len(ps)
        groups: dict[int, list[int]] = {}
        for i, p in enumerate(ps):
            groups.setdefault(len(p["w"]), []).append(i)
        for idx in groups.values():
            def col(key: str, idx: list[int] = idx) -> torch.Tensor:
                return torch.tensor([ps[i][key] for i in idx], dtype=DTYPE, device=device)
            w, g = col("w"), col("grad")  # (B, n)
            lr, l2, l1 = (col(k)[:, None] for k in ("lr", "l2", "l1"))  # (B, 1)
            shrink = 1 - lr * l2
            w_new = w - lr * (g + l2 * w + l1 * torch.sign(w))
            for i, wn, s in zip(idx, as_lists(w_new), as_lists(shrink[:, 0]), strict=True):
                results[i] = {"w_new": wn, "shrink_factor": s}
        return results


@register("dropout")
class Dropout(Kind):
    r"""Inverted dropout with a given keep mask (``nn.Dropout``), in training or evaluation.

    .. math::
        \text{training: } s = \frac{1}{1-p}, \quad y = s\,(m \odot x); \qquad
        \text{evaluation: } s = 1, \quad y = x

    ``F.dropout`` draws its own random mask, so it cannot take the mask of a question; the
    training output is computed with the same torch ops it performs (x·m/(1−p)), and a test
    checks that every element of ``F.dropout``'s output is 0 or x/(1−p).
    """

    title = "Dropout (inverted)"
    title_zh = "Dropout（反向缩放）"
    params = (
        Array("x", ndim=(1, 2), min=-W_LIMIT, max=W_LIMIT, help="input x (vector or matrix)"),
        Number("p", min=0, max=1, help="DROP probability p, 0 <= p < 1"),
        Array("mask", default=None, ndim=(1, 2), min=0, max=1, integer=True,
              help="keep mask m, same shape as x: 1 = kept, 0 = dropped (needed in training)"),
        Boolean("train", default=True, help="training mode (false: evaluation)"),
    )
    answers = (
        Answer("output", AnswerType.TENSOR, "y, same shape as x"),
        Answer("scale", AnswerType.SCALAR, "s = 1/(1 − p) in training, 1 in evaluation"),
    )
    check_method = "numpy: x / (1 − p) where the mask is 1, else 0"
    conventions = (
        "p is the probability of DROPPING a unit (PyTorch's nn.Dropout(p)); the seeds disagree, "
        "some (and the original paper, TensorFlow 1's keep_prob) use p for the KEEP probability.",
        "Inverted dropout, as PyTorch: kept units are scaled by 1/(1−p) during training so the "
        "expected output equals x, and evaluation is the identity. The original scheme instead "
        "leaves training unscaled and multiplies by the keep probability 1−p at test time.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if p["p"] >= 1:
            raise ValueError(f"parameter 'p': {p['p']:g} is out of range; valid range is [0, 1)")
        mask = p["mask"]
        if mask is None:
            if p["train"]:
                raise ValueError("parameter 'mask': required in training mode (1 = kept, "
                                 "0 = dropped, same shape as x)")
            return
        if np.shape(mask) != np.shape(p["x"]):
            raise ValueError(f"parameter 'mask': shape {list(np.shape(mask))} does not match "
                             f"x's shape {list(np.shape(p['x']))}")
        if p["p"] == 0 and not np.all(mask):
            raise ValueError("parameter 'mask': with p = 0 no unit is dropped, so every entry "
                             "must be 1")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        rows, cols = rng.choice([(1, 4), (1, 5), (1, 6), (2, 3), (2, 4)])
        integers, p = rng.random() < 0.7, rng.choice([0.5, 0.5, 0.2, 0.25, 0.1, 0.8])
        x = [[float(rng.randint(-5, 5)) if integers else _decimal(rng, -3, 3)
              for _ in range(cols)] for _ in range(rows)]
        mask = [[int(rng.random() < 1 - p) for _ in range(cols)] for _ in range(rows)]
        if rows == 1:  # a vector
            x, mask = x[0], mask[0]
        if rng.random() < 0.15:
            return {"x": x, "p": p, "train": False}
        return {"x": x, "p": p, "mask": mask, "train": True}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        x = np.asarray(p["x"])
        if p["train"]:
            return not np.any(x * np.asarray(p["mask"])) or bool(np.all(p["mask"]))
        return not np.any(x)

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        x = torch.tensor(p["x"], dtype=DTYPE, device=device)
        drop = p["p"]
        t = Trace()
        if not p["train"]:
            output = F.dropout(x, drop, training=False)  # the identity
            t.step("Evaluation: dropout is the identity (scaling was done in training)",
                   "评估模式：dropout 不起作用（缩放已在训练时完成）", r"y = x, \quad s = 1",
                   output=output, scale=1.0)
            return Computed({"output": output, "scale": 1.0}, t.steps)
        mask = torch.tensor(p["mask"], dtype=DTYPE, device=device)
        scale = 1.0 / (1.0 - drop)
        output = x * mask / (1.0 - drop) + 0.0  # F.dropout's ops, with this mask; + 0.0: no -0.0
        t.step("Keep probability", "保留概率", r"1 - p", p=drop, keep=1.0 - drop)
        t.step("Scale for the kept units", "保留单元的缩放系数", r"s = \frac{1}{1-p}", scale=scale)
        t.step("Zero the dropped units", "把丢弃的单元置零", r"m \odot x", mask=mask, masked=x * mask + 0.0)
        t.step("Scale the kept units", "放大保留的单元", r"y = s\,(m \odot x)", output=output)
        return Computed({"output": output, "scale": scale}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p["train"]:
            return {"output": p["x"], "scale": 1.0}
        keep = 1.0 - p["p"]
        kept = np.asarray(p["mask"]) == 1
        return {"output": np.where(kept, np.asarray(p["x"], dtype=np.float64) / keep, 0.0),
                "scale": 1.0 / keep}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        x, drop = np.asarray(p["x"], dtype=np.float64), p["p"]
        masked = None if p["mask"] is None else x * np.asarray(p["mask"]) + 0.0  # no -0.0
        if not p["train"]:
            out = [Misconception("scaled_by_p_at_test",
                                 "Multiplied by p (the drop probability) at test time",
                                 "测试时乘以了 p（丢弃概率）", {"output": drop * x, "scale": drop})]
            if drop != 0.5:  # at p = 0.5 this is the same number as the mistake above
                out.append(Misconception(
                    "scaled_by_keep_at_test", "Also multiplied by the keep probability 1 − p "
                    "at test time", "测试时又乘了保留概率 1 − p（训练时已缩放过）",
                    {"output": (1 - drop) * x, "scale": 1 - drop}))
            if masked is not None:
                out.append(Misconception(
                    "dropped_at_eval", "Kept dropping units at evaluation (forgot eval mode)",
                    "评估时仍在丢弃单元（忘了切换到评估模式）",
                    {"output": masked / (1 - drop), "scale": 1 / (1 - drop)}))
            return out
        out = []
        if drop > 0:
            out.append(Misconception(
                "p_as_keep", "Treated p as the keep probability (scaled by 1/p)",
                "把 p 当成保留概率（乘以 1/p）", {"output": masked / drop, "scale": 1 / drop}))
        out.append(Misconception(
            "no_rescaling", "No rescaling in training (as if scaling by p at test time instead)",
            "训练时没有缩放（以为应在测试时乘以 p）", {"output": masked, "scale": 1.0}))
        out.append(Misconception(
            "multiplied_by_keep", "Multiplied the kept units by 1 − p instead of dividing",
            "保留的单元乘以 1 − p 而不是除以", {"output": masked * (1 - drop), "scale": 1 - drop}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{}] * len(ps)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, p in enumerate(ps):
            groups.setdefault((np.shape(p["x"]), p["train"]), []).append(i)
        for (_, train), idx in groups.items():
            x = torch.tensor([ps[i]["x"] for i in idx], dtype=DTYPE, device=device)  # (B, ...)
            if not train:
                for i, out in zip(idx, as_lists(x), strict=True):
                    results[i] = {"output": out, "scale": 1.0}
                continue
            mask = torch.tensor([ps[i]["mask"] for i in idx], dtype=DTYPE, device=device)
            keep = 1 - torch.tensor([ps[i]["p"] for i in idx], dtype=DTYPE, device=device)
            output = x * mask / keep.view(-1, *([1] * (x.ndim - 1))) + 0.0
            for i, out, s in zip(idx, as_lists(output), as_lists(1 / keep), strict=True):
                results[i] = {"output": out, "scale": s}
        return results
