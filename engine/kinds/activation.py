"""Activation functions and their derivatives, element by element.

Symbols, as printed in the steps:
    x   input (a number or a vector)        f(x)   the activation
    f'(x)  derivative                       σ      logistic sigmoid
    a   leaky-ReLU slope (negative_slope)   α      ELU alpha
    Φ, φ   standard normal CDF and density (exact GELU)

The value comes from the torch function (``torch.sigmoid``, ``F.relu``, ...)
and the derivative from autograd; the independent check is the closed form of
each derivative in Python ``math``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from engine.params import Array, Choice, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softsign", "gelu", "hardtanh")
X_LIMIT = 1000.0  # keeps every exponential finite in float64
MAX_X = 1024
SOFTPLUS_THRESHOLD = 40.0  # above it ln(1 + e^x) == x in float64, so the shortcut is exact
GELU_TANH_C = math.sqrt(2 / math.pi)  # constant of the tanh approximation (a misconception here)

# (value, derivative) in LaTeX, in the symbols of the class docstring.
FORMULAS = {
    "sigmoid": (r"\sigma(x) = \frac{1}{1 + e^{-x}}", r"\sigma'(x) = \sigma(x)\,(1 - \sigma(x))"),
    "tanh": (r"\tanh x = \frac{e^x - e^{-x}}{e^x + e^{-x}}", r"\tanh'(x) = 1 - \tanh^2 x"),
    "relu": (r"f(x) = \max(0, x)", r"f'(x) = [x > 0]"),
    "leaky_relu": (r"f(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}",
                   r"f'(x) = \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}"),
    "elu": (r"f(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}",
            r"f'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^x & x \le 0 \end{cases}"),
    "softplus": (r"f(x) = \ln(1 + e^x)", r"f'(x) = \sigma(x)"),
    "softsign": (r"f(x) = \frac{x}{1 + |x|}", r"f'(x) = \frac{1}{(1 + |x|)^2}"),
    "gelu": (r"f(x) = x\,\Phi(x)", r"f'(x) = \Phi(x) + x\,\varphi(x)"),
    "hardtanh": (r"f(x) = \max(-1, \min(1, x))", r"f'(x) = [-1 < x < 1]"),
}
KINKS = {  # where the derivative jumps, and the value autograd returns there
    "relu": (0.0, "f'(0) = 0"),
    "leaky_relu": (0.0, "f'(0) = a"),
    "hardtanh": (1.0, r"f'(\pm 1) = 0"),
    "elu": (0.0, r"f'(0) = \alpha"),
}


def _torch_fn(p: dict[str, Any]) -> Callable[[torch.Tensor], torch.Tensor]:
    name, slope, alpha = p["name"], p["negative_slope"], p["alpha"]
    return {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, slope),
        "elu": lambda t: F.elu(t, alpha),
        "softplus": lambda t: F.softplus(t, threshold=SOFTPLUS_THRESHOLD),
        "softsign": F.softsign,
        "gelu": F.gelu,  # exact erf form (approximate="none")
        "hardtanh": F.hardtanh,
    }[name]


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def _Phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def closed_form(name: str, x: float, a: float = 0.01, alpha: float = 1.0) -> tuple[float, float]:
    """(f(x), f'(x)) by hand-derived formulas, with PyTorch's choice at the kinks."""
    if name == "sigmoid":
        s = _sigmoid(x)
        return s, s * (1 - s)
    if name == "tanh":
        t = math.tanh(x)
        return t, 1 - t * t
    if name == "relu":
        return max(0.0, x), 1.0 if x > 0 else 0.0
    if name == "leaky_relu":
        return (x, 1.0) if x > 0 else (a * x, a)
    if name == "elu":
        return (x, 1.0) if x > 0 else (alpha * math.expm1(x), alpha * math.exp(x))
    if name == "softplus":
        return max(x, 0.0) + math.log1p(math.exp(-abs(x))), _sigmoid(x)
    if name == "softsign":
        return x / (1 + abs(x)), 1 / (1 + abs(x)) ** 2
    if name == "gelu":
        return x * _Phi(x), _Phi(x) + x * _phi(x)
    if name == "hardtanh":
        return min(1.0, max(-1.0, x)), 1.0 if -1 < x < 1 else 0.0
    raise ValueError(f"parameter 'name': {name!r} is not one of {', '.join(NAMES)}")


def gelu_tanh(x: float) -> tuple[float, float]:
    """The tanh approximation of GELU and its derivative (what a mix-up gives)."""
    u = GELU_TANH_C * (x + 0.044715 * x**3)
    t = math.tanh(u)
    du = GELU_TANH_C * (1 + 3 * 0.044715 * x * x)
    return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du


def _shaped(values: list[float], scalar: bool) -> float | list[float]:
    return values[0] if scalar else values


@register("activation")
class Activation(Kind):
    r"""An activation function and its derivative at x (element-wise for a vector).

    .. math::
        \sigma(x) = \frac{1}{1 + e^{-x}},\ \sigma'(x) = \sigma(x)(1 - \sigma(x)); \qquad
        \tanh'(x) = 1 - \tanh^2 x; \qquad
        \mathrm{ReLU}(x) = \max(0, x),\ f'(x) = [x > 0];

        \text{leaky: } f(x) = x \ (x > 0),\ a x \ (x \le 0); \qquad
        \mathrm{ELU}: f(x) = x \ (x > 0),\ \alpha (e^x - 1) \ (x \le 0),\ f'(x) = \alpha e^x \ (x \le 0);

        \mathrm{softplus}(x) = \ln(1 + e^x),\ f'(x) = \sigma(x); \qquad
        \mathrm{softsign}(x) = \frac{x}{1 + |x|},\ f'(x) = \frac{1}{(1 + |x|)^2};

        \mathrm{GELU}(x) = x\,\Phi(x),\ f'(x) = \Phi(x) + x\,\varphi(x); \qquad
        \mathrm{hardtanh}(x) = \max(-1, \min(1, x)),\ f'(x) = [-1 < x < 1]
    """

    title = "Activation function and derivative"
    title_zh = "激活函数及其导数"
    params = (
        Choice("name", choices=NAMES, help="which activation"),
        Array("x", ndim=(0, 1), min=-X_LIMIT, max=X_LIMIT, max_elements=MAX_X,
              help="input x: a number or a list of numbers"),
        Number("negative_slope", default=0.01, min=0, max=1,
               help="leaky ReLU slope a for x <= 0 (used by leaky_relu only)"),
        Number("alpha", default=1.0, min=0, max=10, help="ELU alpha (used by elu only)"),
    )
    answers = (
        Answer("value", AnswerType.VECTOR, "f(x), same shape as x (a number when x is a number)"),
        Answer("derivative", AnswerType.VECTOR,
               "f'(x), same shape as x (a number when x is a number)"),
    )
    check_method = "hand-derived closed forms of f and f' in Python math (erfc for GELU)"
    conventions = (
        "Answers have the shape of x: a number for a number, a list for a list (graded element-wise).",
        "At a kink the derivative is the one PyTorch autograd returns: ReLU'(0) = 0, "
        "leaky ReLU'(0) = a, hardtanh'(±1) = 0, ELU'(0) = α (the left-hand value).",
        "GELU is the exact form x·Φ(x) with the normal CDF (PyTorch's default approximate='none'), "
        "not the tanh approximation.",
        "Softplus is ln(1 + e^x) exactly; PyTorch's linear shortcut is moved from x > 20 to x > 40, "
        "where it is exact in float64.",
        "hardtanh clips to [-1, 1]; leaky ReLU uses slope a for x <= 0; ELU uses α for x <= 0.",
    )
    batchable = True

    def sample(self, rng: random.Random) -> dict[str, Any]:
        name = rng.choice(NAMES)
        if rng.random() < 0.4:
            x: Any = rng.choice([0.0, 1.0, -1.0, 2.0, -2.0, 10.0, -10.0, round(rng.uniform(-4, 4), 1)])
        else:
            x = [round(rng.uniform(-4, 4), 1) for _ in range(rng.randint(3, 5))]
            if rng.random() < 0.3:
                x[rng.randrange(len(x))] = rng.choice([0.0, 1.0, -1.0])
        p: dict[str, Any] = {"name": name, "x": x}
        if name == "leaky_relu":
            p["negative_slope"] = rng.choice([0.01, 0.1, 0.2, 0.5])
        elif name == "elu":
            p["alpha"] = rng.choice([1.0, 1.0, 0.5, 2.0])
        return p

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return isinstance(p["x"], list) and len(set(p["x"])) == 1

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        name = p["name"]
        x = torch.tensor(p["x"], dtype=DTYPE, device=device, requires_grad=True)
        value = _torch_fn(p)(x)
        (derivative,) = torch.autograd.grad(value.sum(), x)  # element-wise, so grad of the sum
        x, value = x.detach(), value.detach()
        value_tex, deriv_tex = FORMULAS[name]
        extra: dict[str, Any] = {}
        if name == "leaky_relu":
            extra["a"] = p["negative_slope"]
        elif name == "elu":
            extra["alpha"] = p["alpha"]
        t = Trace()
        t.step(f"Apply {name}", f"计算 {name}", value_tex, x=x, **extra, value=value)
        t.step("Differentiate (autograd)", "求导（自动微分）", deriv_tex,
               **self._intermediates(name, x), derivative=derivative)
        kinked = name in KINKS and not (name == "elu" and p["alpha"] == 1.0)
        if kinked and bool((x.abs() == KINKS[name][0]).any()):
            t.step("At the kink, use PyTorch's one-sided value", "在折点处取 PyTorch 采用的单侧导数",
                   KINKS[name][1], derivative=derivative)
        return Computed({"value": value, "derivative": derivative}, t.steps)

    @staticmethod
    def _intermediates(name: str, x: torch.Tensor) -> dict[str, Any]:
        if name in ("sigmoid", "softplus"):
            return {"sigma": torch.sigmoid(x)}
        if name == "tanh":
            return {"tanh": torch.tanh(x)}
        if name == "gelu":
            return {"Phi": torch.special.ndtr(x),
                    "phi": torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)}
        return {}

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        scalar = not isinstance(p["x"], list)
        xs = [p["x"]] if scalar else p["x"]
        pairs = [closed_form(p["name"], v, p["negative_slope"], p["alpha"]) for v in xs]
        return {"value": _shaped([v for v, _ in pairs], scalar),
                "derivative": _shaped([d for _, d in pairs], scalar)}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        name = p["name"]
        scalar = not isinstance(p["x"], list)
        xs = [p["x"]] if scalar else p["x"]
        out = []
        if name == "tanh":
            out.append(Misconception(
                "tanh_minus_square", "Took tanh'(x) = −tanh²(x) (the misprint in the notes)",
                "把 tanh 的导数写成 −tanh²(x)（笔记中的错误）",
                {"derivative": _shaped([-math.tanh(v) ** 2 for v in xs], scalar)}))
        elif name == "sigmoid":
            out.append(Misconception(
                "sigmoid_forgot_one_minus", "Took σ'(x) = σ(x) (forgot the factor 1 − σ)",
                "把 σ'(x) 写成 σ(x)（漏了 1 − σ 因子）",
                {"derivative": _shaped([_sigmoid(v) for v in xs], scalar)}))
        elif name == "relu":
            out.append(Misconception(
                "relu_derivative_one", "Took the ReLU derivative as 1 everywhere",
                "认为 ReLU 的导数处处为 1", {"derivative": _shaped([1.0] * len(xs), scalar)}))
        elif name == "leaky_relu":
            a = p["negative_slope"]
            out.append(Misconception(
                "leaky_slope_on_positive", "Applied the leaky slope to positive inputs instead",
                "把泄漏斜率用在了正输入上",
                {"value": _shaped([a * v if v > 0 else v for v in xs], scalar),
                 "derivative": _shaped([a if v > 0 else 1.0 for v in xs], scalar)}))
        elif name == "gelu":
            approx = [gelu_tanh(v) for v in xs]
            out.append(Misconception(
                "gelu_tanh_approximation", "Used the tanh approximation of GELU",
                "用了 GELU 的 tanh 近似式",
                {"value": _shaped([v for v, _ in approx], scalar),
                 "derivative": _shaped([d for _, d in approx], scalar)}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple[str, float, float], list[int]] = {}
        for i, p in enumerate(ps):  # the function depends on the name and its own parameter only
            key = (p["name"], p["negative_slope"] if p["name"] == "leaky_relu" else 0.0,
                   p["alpha"] if p["name"] == "elu" else 0.0)
            groups.setdefault(key, []).append(i)
        for idx in groups.values():
            flat: list[float] = []
            for i in idx:
                x = ps[i]["x"]
                flat.extend(x if isinstance(x, list) else (x,))
            x = torch.tensor(flat, dtype=DTYPE, device=device, requires_grad=True)  # (total,)
            value = _torch_fn(ps[idx[0]])(x)
            (derivative,) = torch.autograd.grad(value.sum(), x)
            values, derivs = value.detach().tolist(), derivative.tolist()
            start = 0
            for i in idx:
                x_i = ps[i]["x"]
                if isinstance(x_i, list):
                    end = start + len(x_i)
                    results[i] = {"value": values[start:end], "derivative": derivs[start:end]}
                else:
                    end = start + 1
                    results[i] = {"value": values[start], "derivative": derivs[start]}
                start = end
        return results  # type: ignore[return-value]
