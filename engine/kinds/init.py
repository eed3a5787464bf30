"""Weight initialisation: the scale of Xavier (Glorot), Kaiming (He) and LeCun schemes.

Symbols, as printed in the steps:
    n_in   fan-in (inputs per unit)        n_out  fan-out (outputs per unit)
    n      the fan a scheme divides by     g      gain
    σ      standard deviation of W         a      bound of the uniform U(−a, a)
    σ̂      spread of one drawn matrix      N      its number of elements (demonstration only)

The fans are read by torch from a weight of shape ``(n_out, n_in)`` (the layout
of ``nn.Linear``) on the ``meta`` device, the default gains come from
``torch.nn.init.calculate_gain``, and σ is computed with the same expression
``torch.nn.init`` uses before drawing. The independent check starts from the
variance each scheme asks for and takes square roots in Python ``math``.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
import torch.nn.init as init

from engine.params import Choice, Integer, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

SCHEMES = (
    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
    "lecun_normal", "lecun_uniform",
)
MAX_FAN = 10_000_000
DEMO_ELEMENTS = 4096  # initialise a real matrix only up to 64×64 elements (keeps solve fast)
SQRT3 = math.sqrt(3.0)

_DISPLAY = {"xavier": "Xavier", "kaiming": "Kaiming", "lecun": "LeCun"}


def _family(scheme: str) -> str:
    return scheme.split("_", 1)[0]


def _is_uniform(scheme: str) -> bool:
    return scheme.endswith("uniform")


def _std_formula(scheme: str) -> str:
    return {
        "xavier": r"\sigma = g \sqrt{\frac{2}{n_{in} + n_{out}}}",
        "kaiming": r"\sigma = \frac{g}{\sqrt{n}}",
        "lecun": r"\sigma = \frac{g}{\sqrt{n_{in}}}",
    }[_family(scheme)]


@register("init")
class Init(Kind):
    r"""Standard deviation and uniform bound of a weight initialisation scheme.

    .. math::
        \text{Xavier: } \sigma = g \sqrt{\frac{2}{n_{in} + n_{out}}}, \qquad
        \text{Kaiming: } \sigma = \frac{g}{\sqrt{n}},\ n \in \{n_{in}, n_{out}\}, \qquad
        \text{LeCun: } \sigma = \frac{g}{\sqrt{n_{in}}}, \qquad
        a = \sqrt{3}\,\sigma \quad (\operatorname{Var} U(-a, a) = a^2 / 3)
    """

    title = "Weight initialisation scale"
    title_zh = "权重初始化的尺度"
    params = (
        Choice("scheme", choices=SCHEMES, help="initialisation scheme"),
        Integer("fan_in", min=1, max=MAX_FAN, help="fan-in n_in (inputs per unit; C_in·k² for conv)"),
        Integer("fan_out", min=1, max=MAX_FAN,
                help="fan-out n_out (outputs per unit; C_out·k² for conv)"),
        Number("gain", default=None, min=0, open_min=True, max=100,
               help="gain g (default: 1 for Xavier and LeCun, √2 for Kaiming, i.e. ReLU)"),
        Choice("mode", default=None, choices=("fan_in", "fan_out"),
               help="Kaiming only: which fan n is (default fan_in, as PyTorch)"),
    )
    answers = (
        Answer("std", AnswerType.SCALAR, "standard deviation σ of the weights"),
        Answer("bound", AnswerType.SCALAR,
               "a = √3·σ: the bound of U(−a, a) (for normal schemes, the uniform bound with "
               "the same variance)"),
    )
    check_method = ("variance of the scheme (2g²/(n_in+n_out) or g²/n) and a = √(3·Var) "
                    "with Python math")
    conventions = (
        "Weights have shape (n_out, n_in), as nn.Linear; for a convolution both fans include k².",
        "Kaiming defaults to gain √2 (ReLU) and mode fan_in, as torch.nn.init.kaiming_*_.",
        "LeCun is Kaiming with gain 1 on the fan-in (plain normal, not the truncated normal "
        "of JAX/Keras).",
        "bound is √3·σ for every scheme: the real bound for uniform schemes, the uniform bound "
        "with the same variance for normal ones.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        family = _family(p["scheme"])
        if family == "xavier" and p["mode"] is not None:
            raise ValueError("parameter 'mode': Xavier averages both fans; leave mode unset "
                             "(it applies to Kaiming only)")
        if family == "lecun" and p["mode"] == "fan_out":
            raise ValueError("parameter 'mode': LeCun always divides by fan_in; use kaiming "
                             "with gain 1 for the fan-out variant")
        if family != "xavier" and p["mode"] is None:
            p["mode"] = "fan_in"
        if p["gain"] is None:
            p["gain"] = init.calculate_gain("relu") if family == "kaiming" else 1.0

    def sample(self, rng: random.Random) -> dict[str, Any]:
        scheme = rng.choice(SCHEMES)
        sizes = [3, 4, 8, 10, 16, 27, 32, 50, 64, 100, 128, 150, 256, 300, 512, 576, 784, 1024]
        if rng.random() < 0.3:  # pairs whose Xavier bound is a round number
            fan_in, fan_out = rng.choice([(100, 50), (4, 2), (16, 8), (400, 200), (10, 14),
                                          (2000, 400), (300, 300), (64, 32)])
        else:
            fan_in, fan_out = rng.choice(sizes), rng.choice(sizes)
        p: dict[str, Any] = {"scheme": scheme, "fan_in": fan_in, "fan_out": fan_out}
        if scheme.startswith("kaiming") and rng.random() < 0.25:
            p["mode"] = "fan_out"
        if rng.random() < 0.15:
            p["gain"] = rng.choice([1.0, 2.0])
        return p

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        scheme, g, mode = p["scheme"], p["gain"], p["mode"]
        family = _family(scheme)
        weight = torch.empty((p["fan_out"], p["fan_in"]), device="meta")  # (n_out, n_in)
        n_in, n_out = init._calculate_fan_in_and_fan_out(weight)
        t = Trace()
        t.step("Fans of a weight of shape (n_out, n_in)", "形状为 (n_out, n_in) 的权重的扇入与扇出",
               r"W \in \mathbb{R}^{n_{out} \times n_{in}}", n_in=n_in, n_out=n_out)
        t.step("Gain", "增益", r"g", gain=g)
        if family == "xavier":
            std = g * math.sqrt(2.0 / float(n_in + n_out))  # as torch.nn.init.xavier_normal_
            t.step("Xavier: average the two fans", "Xavier：对扇入与扇出取平均",
                   _std_formula(scheme), std=std)
        else:
            n = init._calculate_correct_fan(weight, mode) if family == "kaiming" else n_in
            std = g / math.sqrt(n)  # as torch.nn.init.kaiming_normal_
            name = _DISPLAY[family]
            t.step(f"{name}: divide by the {'fan-in' if mode == 'fan_in' else 'fan-out'}",
                   f"{name}：除以{'扇入' if mode == 'fan_in' else '扇出'}",
                   _std_formula(scheme), mode=mode, n=n, std=std)
        bound = SQRT3 * std  # as torch.nn.init.kaiming_uniform_
        if _is_uniform(scheme):
            labels = ("Uniform bound: Var U(−a, a) = a²/3", "均匀分布边界：Var U(−a, a) = a²/3")
        else:
            labels = ("Uniform bound with the same variance", "方差相同的均匀分布的边界")
        t.step(*labels, r"a = \sqrt{3}\,\sigma", bound=bound)
        if p["fan_in"] * p["fan_out"] <= DEMO_ELEMENTS:
            self._demo(t, p, device)
        return Computed({"std": std, "bound": bound}, t.steps)

    @staticmethod
    def _demo(t: Trace, p: dict[str, Any], device: torch.device) -> None:
        """Initialise one real matrix with torch.nn.init and report its spread (not the answer)."""
        scheme, g, mode = p["scheme"], p["gain"], p["mode"]
        w = torch.empty((p["fan_out"], p["fan_in"]), dtype=DTYPE)
        gen = torch.Generator().manual_seed(0)  # CPU generator: the same numbers on any device
        if _family(scheme) == "xavier":
            fill = init.xavier_uniform_ if _is_uniform(scheme) else init.xavier_normal_
            fill(w, gain=g, generator=gen)
        else:  # Kaiming and LeCun (Kaiming on the fan-in with gain 1, then scaled by g)
            fill = init.kaiming_uniform_ if _is_uniform(scheme) else init.kaiming_normal_
            relu = math.isclose(g, math.sqrt(2.0))
            fill(w, mode=mode, nonlinearity="relu" if relu else "linear", generator=gen)
            if not relu:
                w.mul_(g)
        w = w.to(device)
        t.step("Demonstration: one matrix drawn with torch.nn.init (seed 0)",
               "演示：用 torch.nn.init 抽取一个矩阵（种子 0）",
               r"\hat\sigma = \sqrt{\tfrac{1}{N}\sum_{ij} W_{ij}^2}",
               elements=w.numel(), empirical_std=w.square().mean().sqrt(),
               largest_abs=w.abs().max())

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        g, fan_in, fan_out = p["gain"], p["fan_in"], p["fan_out"]
        family = _family(p["scheme"])
        if family == "xavier":
            variance = 2.0 * g * g / (fan_in + fan_out)
        else:
            n = fan_out if p["mode"] == "fan_out" else fan_in
            variance = g * g / n
        return {"std": math.sqrt(variance), "bound": math.sqrt(3.0 * variance)}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        g, fan_in, fan_out, mode = p["gain"], p["fan_in"], p["fan_out"], p["mode"]
        family = _family(p["scheme"])
        right = self.check(p)
        std, bound = right["std"], right["bound"]

        def scaled(s: float) -> dict[str, float]:
            return {"std": s, "bound": SQRT3 * s}

        out = []
        if family == "xavier":
            out.append(Misconception(
                "xavier_fan_in_only", "Xavier with only the fan-in (that is LeCun)",
                "Xavier 只用了扇入（那是 LeCun）", scaled(g / math.sqrt(fan_in))))
        else:
            other, n_other = ("fan_in", fan_in) if mode == "fan_out" else ("fan_out", fan_out)
            out.append(Misconception(
                "other_fan", f"Used {other} instead of {mode}", f"用了 {other} 而不是 {mode}",
                scaled(g / math.sqrt(n_other))))
        if family == "kaiming" and math.isclose(g, math.sqrt(2.0)):
            out.append(Misconception(
                "kaiming_no_factor_2", "Kaiming without the factor 2 (variance 1/n, not 2/n)",
                "Kaiming 漏掉了因子 2（方差 1/n 而不是 2/n）", scaled(std / g)))
        elif g != 1.0:
            out.append(Misconception("forgot_gain", "Forgot the gain", "漏掉了增益",
                                     scaled(std / g)))
        out.append(Misconception(
            "bound_is_std", "Confused the uniform bound with the standard deviation",
            "把均匀分布的边界和标准差混为一谈", {"std": bound, "bound": std}))
        out.append(Misconception(
            "variance_not_std", "Gave the variance instead of the standard deviation (no √)",
            "给出的是方差而不是标准差（忘了开方）", {"std": std * std, "bound": bound * bound}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        cols = list(zip(*((p["fan_in"], p["fan_out"], p["gain"], p["mode"] == "fan_out",
                           p["scheme"][0] == "x") for p in ps), strict=True))
        fan_in, fan_out, g = (torch.tensor(c, dtype=DTYPE, device=device) for c in cols[:3])
        use_fan_out, xavier = (torch.tensor(c, dtype=torch.bool, device=device) for c in cols[3:])
        n = torch.where(use_fan_out, fan_out, fan_in)
        std = torch.where(xavier, g * torch.sqrt(2.0 / (fan_in + fan_out)), g / torch.sqrt(n))
        bound = SQRT3 * std
        return [{"std": s, "bound": b} for s, b in zip(std.tolist(), bound.tolist(), strict=True)]
