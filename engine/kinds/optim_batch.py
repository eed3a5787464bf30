"""Many ``optimizer`` variants at once: PyTorch's update rules as batched tensor ops.

Variants are grouped by (name, gradient source, len(θ), T); each group runs the T
steps once on tensors of shape (B, n), with every hyper-parameter a (B, 1) column,
so thousands of variants cost a handful of torch calls per step. The equations are
those of the kind's docstring (symbols as there); ``torch.optim`` itself would need
one optimiser object per variant.
"""

from __future__ import annotations

from typing import Any

import torch

from engine.kinds.optim_torch import SGD_FAMILY
from engine.registry import DTYPE


def _group_key(p: dict[str, Any]) -> tuple:
    source = "grads" if p["grads"] is not None else p["objective"]
    return (p["name"], source, len(p["theta0"]), p["steps"])


def solve_batch(ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
    results: list[dict[str, Any] | None] = [None] * len(ps)
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(ps):
        groups.setdefault(_group_key(p), []).append(i)
    for idx in groups.values():
        for i, answer in zip(idx, run_group([ps[i] for i in idx], device), strict=True):
            results[i] = answer
    return results  # type: ignore[return-value]


def _column(ps: list[dict[str, Any]], key: str, device: torch.device) -> torch.Tensor:
    """Hyper-parameter ``key`` of every variant as a (B, 1) column."""
    return torch.tensor([[p[key]] for p in ps], dtype=DTYPE, device=device)


def _gradient(ps: list[dict[str, Any]], device: torch.device):
    """g_t as a function of (t, θ_{t-1}) for the whole group: (B, n)."""
    first = ps[0]
    if first["grads"] is not None:
        given = torch.tensor([p["grads"] for p in ps], dtype=DTYPE, device=device)  # (B, T, n)
        return lambda t, theta: given[:, t - 1]
    if first["objective"] == "rosenbrock":
        def rosenbrock(t: int, theta: torch.Tensor) -> torch.Tensor:
            x, y = theta[:, 0], theta[:, 1]
            return torch.stack((-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)), dim=1)
        return rosenbrock
    a = torch.tensor([p["curvature"] for p in ps], dtype=DTYPE, device=device)  # (B, n)
    return lambda t, theta: a * theta


def run_group(ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
    """Answers of variants that share name, gradient source, len(θ) and T."""
    name, steps = ps[0]["name"], ps[0]["steps"]
    theta = torch.tensor([p["theta0"] for p in ps], dtype=DTYPE, device=device)  # (B, n)
    gradient = _gradient(ps, device)
    lr, wd = _column(ps, "lr", device), _column(ps, "weight_decay", device)
    trajectory = torch.empty((len(ps), steps, theta.shape[1]), dtype=DTYPE, device=device)
    first = torch.zeros_like(theta)  # b, or m for adam
    second = torch.zeros_like(theta)  # r (adagrad) or v (rmsprop, adam)
    if name in SGD_FAMILY:
        mu = _column(ps, "momentum", device)
    elif name == "rmsprop":
        alpha = _column(ps, "alpha", device)
    elif name in ("adam", "adamw"):
        beta1, beta2 = _column(ps, "beta1", device), _column(ps, "beta2", device)
    if name not in SGD_FAMILY:
        eps = _column(ps, "eps", device)
    for t in range(1, steps + 1):
        g = gradient(t, theta)
        if name == "adamw":
            theta = theta * (1 - lr * wd)  # decoupled decay
        else:
            g = g + wd * theta  # L2 term in the gradient
        if name in SGD_FAMILY:
            first = g if t == 1 else mu * first + g  # b_t (μ = 0 gives b_t = g_t)
            theta = theta - lr * (g + mu * first if name == "nesterov" else first)
        elif name == "adagrad":
            second = second + g * g
            theta = theta - lr * g / (second.sqrt() + eps)
        elif name == "rmsprop":
            second = alpha * second + (1 - alpha) * g * g
            theta = theta - lr * g / (second.sqrt() + eps)
        else:
            first = beta1 * first + (1 - beta1) * g
            second = beta2 * second + (1 - beta2) * g * g
            bias_correction1, bias_correction2 = 1 - beta1**t, 1 - beta2**t
            m_hat, v_hat = first / bias_correction1, second / bias_correction2
            theta = theta - lr * m_hat / (v_hat.sqrt() + eps)
        trajectory[:, t - 1] = theta
    return _answers(ps, trajectory, first, second)


def _answers(ps: list[dict[str, Any]], trajectory: torch.Tensor, first: torch.Tensor,
             second: torch.Tensor) -> list[dict[str, Any]]:
    name, steps = ps[0]["name"], ps[0]["steps"]
    if not bool(torch.isfinite(trajectory).all()):
        raise ValueError("parameter 'lr': the iterates of a variant overflowed to infinity; "
                         "use a smaller lr or fewer steps")
    rows = trajectory.tolist()
    firsts, seconds = first.tolist(), second.tolist()
    out = []
    for j, p in enumerate(ps):
        state: dict[str, Any] = {"step": steps}
        if name in SGD_FAMILY:
            if p["momentum"]:
                state["momentum_buffer"] = firsts[j]
        elif name == "adagrad":
            state["sum"] = seconds[j]
        elif name == "rmsprop":
            state["square_avg"] = seconds[j]
        else:
            state["exp_avg"], state["exp_avg_sq"] = firsts[j], seconds[j]
        out.append({"theta": rows[j][-1], "trajectory": rows[j], "state": state})
    return out
