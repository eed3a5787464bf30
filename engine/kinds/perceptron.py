"""The single perceptron (Rosenblatt, 1957): a weighted sum, a bias and a hard threshold.

Symbols, as printed in the steps:
    x_i  inputs                 w_i  weights
    b    bias (b = -θ for a threshold θ)
    net  w·x + b                o    output (0/1 for the step, -1/+1 for the sign)

Tie convention: ``net = 0`` gives ``o = 1`` (step) and ``o = +1`` (sign), the Heaviside
convention H(0) = 1. Both seed notes write the strict rule (``o = 1`` only when
``net > 0``); the two agree everywhere except on the boundary hyperplane, and the strict
rule is offered as a named misconception there. A sum that cancels to rounding noise
(``0.1 + 0.2 - 0.3``) counts as a tie, so decimal inputs classify as they would by hand.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch

from engine.params import Array, Choice, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_INPUTS = 1024
VALUE_LIMIT = 1e6
# |net| below this fraction of sum_i |w_i x_i| + |b| is floating-point noise: treated as net = 0.
TIE_RTOL = 1e-12


def _threshold(net: float, output: str) -> int:
    """o for an already tie-snapped net, with H(0) = 1."""
    if output == "sign":
        return 1 if net >= 0 else -1
    return 1 if net >= 0 else 0


def perceptron_reference(
    x: list[float], w: list[float], b: float, output: str
) -> tuple[float, int]:
    """net and o by Python ``math.fsum`` (independent of torch)."""
    products = [wi * xi for wi, xi in zip(w, x, strict=True)]
    net = math.fsum(products) + b
    scale = math.fsum(abs(v) for v in products) + abs(b)
    if abs(net) <= TIE_RTOL * scale:
        net = 0.0
    return net, _threshold(net, output)


@register("perceptron")
class Perceptron(Kind):
    r"""Output of a single perceptron with a step or sign activation.

    .. math::
        net = \mathbf{w} \cdot \mathbf{x} + b = \sum_i w_i x_i + b, \qquad
        o = \begin{cases} 1 & net \ge 0 \\ 0 & net < 0 \end{cases}
        \quad\text{(step)}, \qquad
        o = \begin{cases} +1 & net \ge 0 \\ -1 & net < 0 \end{cases}
        \quad\text{(sign)}

    A threshold θ is the same as a bias b = -θ: ``w·x ≥ θ`` ⇔ ``w·x + b ≥ 0``.
    """

    title = "Perceptron output"
    title_zh = "感知机输出"
    params = (
        Array("x", ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_INPUTS,
              help="inputs x_i"),
        Array("w", ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_INPUTS,
              help="weights w_i, one per input"),
        Number("b", default=0.0, min=-VALUE_LIMIT, max=VALUE_LIMIT,
               help="bias b (minus the threshold θ)"),
        Choice("output", default="step", choices=("step", "sign"),
               help="step: 0/1; sign: -1/+1"),
    )
    answers = (
        Answer("net", AnswerType.SCALAR, "weighted sum plus bias, w·x + b"),
        Answer("output", AnswerType.INTEGER, "1/0 (step) or +1/-1 (sign)"),
    )
    check_method = "Python math.fsum of the products w_i x_i plus b, then the threshold rule"
    conventions = (
        "At net = 0 the output is 1 (step) or +1 (sign): H(0) = 1. The seeds use the strict "
        "rule (1 only when net > 0); torch.sign and numpy.sign would give 0 there.",
        "The bias is minus the threshold: b = -θ.",
        "A net that cancels to rounding noise (|net| <= 1e-12 · (Σ|w_i x_i| + |b|)) is a tie.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if len(p["w"]) != len(p["x"]):
            raise ValueError(f"parameter 'w': has {len(p['w'])} elements but x has "
                             f"{len(p['x'])}; give one weight per input")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        output = "sign" if rng.random() < 0.3 else "step"
        if rng.random() < 0.5:  # a logic gate on binary inputs, as in the NAND example
            n = rng.choice([2, 2, 2, 3])
            return {"x": [rng.randint(0, 1) for _ in range(n)],
                    "w": [rng.choice([-3, -2, -1, -0.5, 0.5, 1, 2, 3]) for _ in range(n)],
                    "b": rng.choice([-3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3]),
                    "output": output}
        n = rng.randint(2, 4)  # a weighted vote, as in the judges example
        return {"x": [rng.randint(-5, 5) for _ in range(n)],
                "w": [round(rng.uniform(-2, 2), 1) for _ in range(n)],
                "b": round(rng.uniform(-3, 3), 1), "output": output}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return all(v == 0 for v in p["w"]) or all(v == 0 for v in p["x"])

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        x = torch.tensor(p["x"], dtype=DTYPE, device=device)
        w = torch.tensor(p["w"], dtype=DTYPE, device=device)
        b = p["b"]
        products = w * x
        weighted_sum = products.sum()
        net = weighted_sum + b
        tie = net.abs() <= TIE_RTOL * (products.abs().sum() + abs(b))
        net = torch.where(tie, torch.zeros_like(net), net)
        if p["output"] == "sign":
            o = torch.where(net >= 0, 1, -1)
            rule = (r"o = \operatorname{sign}(net) = "
                    r"\begin{cases} +1 & net \ge 0 \\ -1 & net < 0 \end{cases}")
        else:
            o = torch.heaviside(net, torch.ones_like(net))  # the step with H(0) = 1
            rule = r"o = H(net) = \begin{cases} 1 & net \ge 0 \\ 0 & net < 0 \end{cases}"
        net_value, out, tie = net.item(), int(o.item()), bool(tie)
        t = Trace()
        t.step("Multiply each input by its weight", "每个输入乘以对应权重", r"w_i x_i",
               products=products)
        t.step("Weighted sum", "加权求和", r"\mathbf{w} \cdot \mathbf{x} = \sum_i w_i x_i",
               weighted_sum=weighted_sum)
        t.step("Add the bias (minus the threshold)", "加上偏置（即减去阈值）",
               r"net = \mathbf{w} \cdot \mathbf{x} + b, \quad b = -\theta", b=b, threshold=0.0 - b,
               net=net_value)
        t.step("Apply the threshold" + (" (a tie: net = 0 counts as firing)" if tie else ""),
               "阈值判断" + ("（恰好 net = 0，按激活处理）" if tie else ""), rule, output=out)
        return Computed({"net": net_value, "output": out}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        net, out = perceptron_reference(p["x"], p["w"], p["b"], p["output"])
        return {"net": net, "output": out}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        x, w, b, output = p["x"], p["w"], p["b"], p["output"]
        net, out = perceptron_reference(x, w, b, output)
        no_bias = perceptron_reference(x, w, 0.0, output)
        plus_threshold = perceptron_reference(x, w, -b, output)
        other = "step" if output == "sign" else "sign"
        low = -1 if output == "sign" else 0
        wrong = [
            ("forgot_bias", "Forgot the bias", "漏掉了偏置",
             {"net": no_bias[0], "output": no_bias[1]}),
            ("threshold_added", "Added the threshold instead of subtracting it (took b = +θ)",
             "把阈值加上而不是减去（取 b = +θ）",
             {"net": plus_threshold[0], "output": plus_threshold[1]}),
            ("other_convention", f"Used the {other} convention instead of the {output}",
             "混淆了阶跃（0/1）与符号（±1）两种输出约定", {"output": _threshold(net, other)}),
            ("strict_inequality", "Used the strict rule (fires only when net > 0) at a tie",
             "在 net = 0 处用了严格不等式（仅 net > 0 时输出 1）",
             {"output": low if net == 0 else out}),
        ]
        right = {"net": net, "output": out}
        result = []
        for key, label, label_zh, answer in wrong:
            # Keep only the answers the mistake changes, so a right answer is never flagged.
            changed = {k: v for k, v in answer.items() if abs(v - right[k]) > 1e-9 * (1 + abs(v))}
            if changed:
                result.append(Misconception(key, label, label_zh, changed))
        return result

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        by_len: dict[int, list[int]] = {}
        for i, p in enumerate(ps):
            by_len.setdefault(len(p["x"]), []).append(i)
        for idx in by_len.values():
            x = torch.tensor([ps[i]["x"] for i in idx], dtype=DTYPE, device=device)  # (B, n)
            w = torch.tensor([ps[i]["w"] for i in idx], dtype=DTYPE, device=device)  # (B, n)
            b = torch.tensor([ps[i]["b"] for i in idx], dtype=DTYPE, device=device)  # (B,)
            sign = torch.tensor([ps[i]["output"] == "sign" for i in idx], device=device)
            products = w * x
            net = products.sum(dim=1) + b
            tie = net.abs() <= TIE_RTOL * (products.abs().sum(dim=1) + b.abs())
            net = torch.where(tie, torch.zeros_like(net), net)
            fires = net >= 0
            low = torch.where(sign, -1, 0)
            out = torch.where(fires, torch.ones_like(low), low)
            for i, n, o in zip(idx, net.tolist(), out.tolist(), strict=True):
                results[i] = {"net": n, "output": o}
        return results  # type: ignore[return-value]
