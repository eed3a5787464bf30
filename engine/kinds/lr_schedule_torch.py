"""The learning-rate formulas of ``lr_schedule`` in torch tensor ops.

One implementation serves ``solve`` (scalar tensors) and ``solve_batch`` (one column per
parameter, one row per variant). Symbols as in the kind's docstring. The restart period
of ``cosine_restarts`` is located with exact integer arithmetic, so a step that lands on
a restart is never mis-rounded into the previous period.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from engine.registry import DTYPE

STAIRCASE = ("exponential", "natural_exp", "inverse_time")
LINEAR_COSINE = ("linear_cosine", "noisy_linear_cosine")
_LINEAR_COSINE = {"lr": None, "decay_steps": None, "num_periods": 0.5, "alpha": 0.0, "beta": 0.001}
# What each schedule uses; None marks a parameter it requires.
USES: dict[str, dict[str, Any]] = {
    "piecewise_constant": {"boundaries": None, "values": None},
    **{name: {"lr": None, "decay_steps": None, "decay_rate": None, "staircase": False}
       for name in STAIRCASE},
    "step_lr": {"lr": None, "decay_steps": None, "decay_rate": None},
    "polynomial": {"lr": None, "decay_steps": None, "end_lr": 1e-4, "power": 1.0, "cycle": False},
    "cosine": {"lr": None, "decay_steps": None, "alpha": 0.0},
    "cosine_restarts": {"lr": None, "decay_steps": None, "alpha": 0.0, "t_mul": 2, "m_mul": 1.0},
    "linear_cosine": _LINEAR_COSINE,
    "noisy_linear_cosine": {**_LINEAR_COSINE, "initial_variance": 1.0, "variance_decay": 0.55,
                            "noise_z": None},
    "linear_warmup": {"lr": None, "warmup_steps": None, "after_warmup": "constant"},
}


def restart_start(i: int, period: int, t_mul: int) -> int:
    """First step of restart period i: T(1 + τ + … + τ^{i−1})."""
    return period * i if t_mul == 1 else period * (t_mul**i - 1) // (t_mul - 1)


def restart_index(step: int, period: int, t_mul: int) -> int:
    """The period i that contains ``step`` (log estimate, corrected with exact integers)."""
    if t_mul == 1:
        return step // period
    i = int(math.log(step * (t_mul - 1) / period + 1, t_mul))
    while restart_start(i + 1, period, t_mul) <= step:
        i += 1
    while restart_start(i, period, t_mul) > step:
        i -= 1
    return i


def torch_lr(name: str, v: dict[str, torch.Tensor]) -> torch.Tensor:
    """η_t in torch ops; every value in ``v`` is a float64 tensor (a scalar or one per variant)."""
    t = v["step"]
    if name == "piecewise_constant":  # index = number of boundaries strictly below t
        index = (v["boundaries"] < t.unsqueeze(-1)).sum(dim=-1, keepdim=True)
        return torch.gather(v["values"], -1, index).squeeze(-1)
    lr = v["lr"]
    if name in STAIRCASE:
        ratio = t / v["decay_steps"]
        ratio = torch.where(v["staircase"], torch.floor(ratio), ratio)
        r = v["decay_rate"]
        if name == "exponential":
            return lr * torch.pow(r, ratio)
        if name == "natural_exp":
            return lr * torch.exp(-r * ratio)
        return lr / (1 + r * ratio)
    if name == "step_lr":
        return lr * torch.pow(v["decay_rate"], torch.floor(t / v["decay_steps"]))
    if name == "polynomial":
        period = v["decay_steps"]
        cycles = torch.clamp(torch.ceil(t / period), min=1)
        period = torch.where(v["cycle"], period * cycles, period)
        t = torch.where(v["cycle"], t, torch.minimum(t, period))
        return (lr - v["end_lr"]) * torch.pow(1 - t / period, v["power"]) + v["end_lr"]
    if name == "cosine":
        return lr * cosine(torch.minimum(t, v["decay_steps"]) / v["decay_steps"], v["alpha"])
    if name == "cosine_restarts":  # i, into and length come from exact integers
        alpha, height = v["alpha"], torch.pow(v["m_mul"], v["restart"])
        wave = 0.5 * (1 + torch.cos(torch.pi * v["into"] / v["length"]))
        return lr * ((1 - alpha) * height * wave + alpha)
    if name in LINEAR_COSINE:
        return lr * linear_cosine(v)
    # linear_warmup
    ramp = lr * t / v["warmup_steps"]
    after = torch.where(v["cosine"], lr * cosine(
        torch.clamp(t - v["warmup_steps"], max=v["decay_steps"]) / v["decay_steps"], v["alpha"]),
        lr)
    return torch.where(t < v["warmup_steps"], ramp, after)


def cosine(fraction: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """(1 − α)·½(1 + cos πf) + α."""
    return (1 - alpha) * 0.5 * (1 + torch.cos(torch.pi * fraction)) + alpha


def linear_cosine(v: dict[str, torch.Tensor]) -> torch.Tensor:
    """(α + linear [+ ε_t])·cosine + β, with t' = min(t, T) and ε_t = z·σ_t when noisy."""
    period = v["decay_steps"]
    t = torch.minimum(v["step"], period)  # t'
    linear = (period - t) / period
    if "noise_z" in v:  # σ_t² = initial_variance / (1 + t')^variance_decay
        sigma = torch.sqrt(v["initial_variance"] / torch.pow(1 + t, v["variance_decay"]))
        linear = linear + v["noise_z"] * sigma
    wave = 0.5 * (1 + torch.cos(torch.pi * 2 * v["num_periods"] * t / period))
    return (v["alpha"] + linear) * wave + v["beta"]


def tensors(ps: list[dict[str, Any]], device: torch.device, scalar: bool) -> dict[str, Any]:
    """The values ``torch_lr`` needs: scalars for one variant, (B,) columns for many."""
    name = ps[0]["name"]
    keys = ["step", *(k for k in USES[name] if k != "after_warmup")]
    if name == "linear_warmup":
        keys += ["decay_steps", "alpha"]  # unused (masked) when the rate stays constant
    out: dict[str, Any] = {}
    for key in dict.fromkeys(keys):
        if key in ("staircase", "cycle"):
            data = [bool(p[key]) for p in ps]
            out[key] = torch.tensor(data[0] if scalar else data, device=device)
            continue
        data = [p[key] if p[key] is not None else 1.0 for p in ps]
        out[key] = torch.tensor(data[0] if scalar else data, dtype=DTYPE, device=device)
    if name == "linear_warmup":
        flags = [p["after_warmup"] == "cosine" for p in ps]
        out["cosine"] = torch.tensor(flags[0] if scalar else flags, device=device)
    if name == "cosine_restarts":
        pos = [_restart(p) for p in ps]
        for j, key in enumerate(("restart", "into", "length")):
            data = [q[j] for q in pos]
            out[key] = torch.tensor(data[0] if scalar else data, dtype=DTYPE, device=device)
    return out


def _restart(p: dict[str, Any]) -> tuple[int, int, int]:
    i = restart_index(p["step"], p["decay_steps"], p["t_mul"])
    start = restart_start(i, p["decay_steps"], p["t_mul"])
    return i, p["step"] - start, p["decay_steps"] * p["t_mul"] ** i
