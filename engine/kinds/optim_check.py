"""Optimiser updates written out coordinate by coordinate, in plain Python floats.

This is the independent check of the ``optimizer`` kind (which runs ``torch.optim``)
and the generator of its misconceptions: a :class:`Rule` switches one part of the
correct update to a common mistake. Symbols are those of the kind's docstring:

    θ  parameters          g  gradient (after coupled weight decay)   η  lr
    μ  momentum            b  momentum buffer                          λ  weight_decay
    r  Adagrad sum         v  RMSprop / Adam second moment              α  RMSprop smoothing
    m  Adam first moment   β1, β2  Adam decay rates                     ε  eps

No torch here: the loops are over steps t = 1..T and coordinates i, with ``math``.
Sizes are capped by the kind (at most 4096 numbers in a trajectory), so a pure
Python loop stays fast and is easy to read against the equations. Runs that bounce
chaotically for hundreds of steps (e.g. RMSprop on Rosenbrock with a large lr) amplify
the last-bit rounding differences between torch's kernels and these loops; there the
verification reports the disagreement rather than hiding it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Vector = list[float]


@dataclass(frozen=True)
class Rule:
    """How the update is done; the defaults are the correct (PyTorch) rules."""

    use_lr: bool = True  # False: forgot the learning rate (η = 1)
    ema_momentum: bool = False  # b_0 = 0 and b ← μb + (1 − μ)g instead of b_1 = g_1
    nesterov_as_classical: bool = False  # θ ← θ − ηb even when nesterov
    sqrt: bool = True  # False: divide by v (or r) instead of √v
    eps_inside_sqrt: bool = False  # √(v + ε) instead of √v + ε
    bias_correction: bool = True  # False: Adam with m and v used raw
    decay: str = "default"  # default | coupled | decoupled | decoupled_no_lr


def quadratic_grad(curvature: Vector) -> Callable[[Vector], Vector]:
    """∇f for f(θ) = ½ Σ a_i θ_i²: ∂f/∂θ_i = a_i θ_i."""
    return lambda theta: [a * x for a, x in zip(curvature, theta, strict=True)]


def rosenbrock_grad(theta: Vector) -> Vector:
    """∇f for f = (1 − x)² + 100(y − x²)²."""
    x, y = theta
    return [-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)]


def quadratic_loss(curvature: Vector, theta: Vector) -> float:
    return 0.5 * math.fsum(a * x * x for a, x in zip(curvature, theta, strict=True))


def rosenbrock_loss(theta: Vector) -> float:
    x, y = theta
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def gradient_source(p: dict[str, Any]) -> Callable[[int, Vector], Vector]:
    """g_t as a function of (t, θ_{t−1}): a row of ``grads`` or the objective's gradient."""
    if p["grads"] is not None:
        grads = p["grads"]
        return lambda t, theta: grads[t - 1]
    if p["objective"] == "rosenbrock":
        return lambda t, theta: rosenbrock_grad(theta)
    grad = quadratic_grad(p["curvature"])
    return lambda t, theta: grad(theta)


def run(p: dict[str, Any], rule: Rule = Rule()) -> tuple[list[Vector], dict[str, Any]]:
    """Trajectory θ_1..θ_T and the final state of optimiser ``p['name']`` under ``rule``."""
    name = p["name"]
    theta = list(p["theta0"])
    n = len(theta)
    lr = p["lr"] if rule.use_lr else 1.0
    wd = p["weight_decay"]
    decay = rule.decay
    if decay == "default":
        decay = "decoupled" if name == "adamw" else "coupled"
    gradient = gradient_source(p)
    mu = p["momentum"] or 0.0
    nesterov = name == "nesterov" and not rule.nesterov_as_classical
    b: Vector = [0.0] * n  # momentum buffer
    r: Vector = [0.0] * n  # Adagrad running sum of g²
    m: Vector = [0.0] * n  # first moment
    v: Vector = [0.0] * n  # second moment
    trajectory: list[Vector] = []
    for t in range(1, p["steps"] + 1):
        g = list(gradient(t, theta))
        if wd:
            if decay == "coupled":  # L2 penalty: its gradient λθ joins g
                g = [gi + wd * x for gi, x in zip(g, theta, strict=True)]
            else:  # decoupled: θ ← θ − ηλθ (or θ − λθ) before the adaptive step
                shrink = 1.0 - (wd if decay == "decoupled_no_lr" else lr * wd)
                theta = [x * shrink for x in theta]
        for i in range(n):
            gi = g[i]
            if name in ("sgd", "momentum", "nesterov"):
                if mu:
                    if rule.ema_momentum:
                        b[i] = mu * b[i] + (1.0 - mu) * gi
                    else:
                        b[i] = gi if t == 1 else mu * b[i] + gi
                    direction = gi + mu * b[i] if nesterov else b[i]
                else:
                    direction = gi
                theta[i] -= lr * direction
            elif name == "adagrad":
                r[i] += gi * gi
                theta[i] -= lr * gi / _denominator(r[i], p["eps"], rule)
            elif name == "rmsprop":
                alpha = p["alpha"]
                v[i] = alpha * v[i] + (1.0 - alpha) * gi * gi
                theta[i] -= lr * gi / _denominator(v[i], p["eps"], rule)
            else:  # adam, adamw
                beta1, beta2 = p["beta1"], p["beta2"]
                m[i] = beta1 * m[i] + (1.0 - beta1) * gi
                v[i] = beta2 * v[i] + (1.0 - beta2) * gi * gi
                m_hat, v_hat = m[i], v[i]
                if rule.bias_correction:
                    m_hat = m[i] / (1.0 - beta1**t)
                    v_hat = v[i] / (1.0 - beta2**t)
                theta[i] -= lr * m_hat / _denominator(v_hat, p["eps"], rule)
        trajectory.append(list(theta))
    return trajectory, _state(p, b, r, m, v)


def _denominator(second: float, eps: float, rule: Rule) -> float:
    """√v + ε, or the mistaken √(v + ε) / v + ε."""
    if not rule.sqrt:
        return second + eps
    if rule.eps_inside_sqrt:
        return math.sqrt(second + eps)
    return math.sqrt(second) + eps


def _state(p: dict[str, Any], b: Vector, r: Vector, m: Vector, v: Vector) -> dict[str, Any]:
    name, steps = p["name"], p["steps"]
    if name in ("sgd", "momentum", "nesterov"):
        return {"step": steps, "momentum_buffer": b} if p["momentum"] else {"step": steps}
    if name == "adagrad":
        return {"step": steps, "sum": r}
    if name == "rmsprop":
        return {"step": steps, "square_avg": v}
    return {"step": steps, "exp_avg": m, "exp_avg_sq": v}


def mistake_rules(p: dict[str, Any]) -> list[tuple[str, str, str, Rule]]:
    """(key, label, label_zh, rule) of the mistakes worth naming for optimiser ``p``."""
    name, wd = p["name"], p["weight_decay"]
    rules: list[tuple[str, str, str, Rule]] = [
        ("forgot_lr", "Forgot the learning rate (η = 1)", "忘了乘学习率（η = 1）",
         Rule(use_lr=False)),
    ]
    if name in ("sgd", "momentum", "nesterov") and p["momentum"]:
        rules.append(("ema_momentum", "Momentum buffer started at 0 with dampening: "
                      "b_t = μb_{t−1} + (1 − μ)g_t", "动量缓冲从 0 开始并乘 (1 − μ)（指数滑动平均形式）",
                      Rule(ema_momentum=True)))
    if name == "nesterov":
        rules.append(("nesterov_as_classical", "Used the classical step θ − ηb_t (Sutskever's "
                      "variable, not PyTorch's shifted one)", "按普通动量更新 θ − ηb_t（Sutskever 的变量而非 "
                      "PyTorch 的平移变量）", Rule(nesterov_as_classical=True)))
    if name in ("adagrad", "rmsprop", "adam", "adamw"):
        rules.append(("eps_inside_sqrt", "Put ε inside the square root: √(v + ε)",
                      "把 ε 放进了根号里：√(v + ε)", Rule(eps_inside_sqrt=True)))
        rules.append(("no_sqrt", "Divided by the second moment without the square root",
                      "除以二阶矩时忘了开平方", Rule(sqrt=False)))
    if name in ("adam", "adamw"):
        rules.append(("no_bias_correction", "Adam without bias correction (m̂ = m, v̂ = v)",
                      "Adam 没有做偏差修正（m̂ = m，v̂ = v）", Rule(bias_correction=False)))
    if name == "adamw":
        rules.append(("coupled_l2", "Coupled L2 (λθ added to the gradient) instead of "
                      "decoupled decay", "把解耦权重衰减当成了 L2（λθ 加到梯度上）",
                      Rule(decay="coupled")))
        rules.append(("decay_without_lr", "Decoupled decay not scaled by the learning rate: "
                      "θ ← θ(1 − λ)", "解耦衰减没有乘学习率：θ ← θ(1 − λ)",
                      Rule(decay="decoupled_no_lr")))
    elif wd:
        rules.append(("decoupled_decay", "Decoupled decay θ ← θ(1 − ηλ) instead of L2 in the "
                      "gradient", "用了解耦衰减 θ ← θ(1 − ηλ) 而不是梯度里的 L2 项",
                      Rule(decay="decoupled")))
    return rules
