"""Learning-rate schedules in Python ``math``: the independent check of ``lr_schedule``
and the answers of its misconceptions. No torch here.

Symbols as in the kind's docstring: η_0 lr, t step, T decay_steps, r decay_rate,
η_end end_lr, p power, α alpha, W warmup_steps, τ_mul t_mul, m_mul, k num_periods, β beta,
z noise_z.
"""

from __future__ import annotations

import math
from typing import Any


def progress(p: dict[str, Any], step: float | None = None, *, floor: bool | None = None) -> float:
    """t / T, rounded down when staircase (or when ``floor`` says so)."""
    ratio = (p["step"] if step is None else step) / p["decay_steps"]
    use_floor = p["staircase"] if floor is None else floor
    return float(math.floor(ratio)) if use_floor else ratio


def cosine_factor(fraction: float, alpha: float) -> float:
    """(1 − α)·½(1 + cos πf) + α."""
    return (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * fraction)) + alpha


def restart_position(step: int, period: int, t_mul: int) -> tuple[int, int, int]:
    """(i, t − start of period i, length of period i) for periods T, T·τ, T·τ², …"""
    if t_mul == 1:
        return step // period, step % period, period
    i, start, length = 0, 0, period
    while step >= start + length:  # at most ~30 periods: lengths grow geometrically
        start += length
        length *= t_mul
        i += 1
    return i, step - start, length


def piecewise_index(boundaries: list[int], step: int) -> int:
    """Index of the value in force: values[0] while t ≤ b_0, values[i] while b_{i−1} < t ≤ b_i."""
    index = 0
    for boundary in boundaries:
        if step > boundary:
            index += 1
    return index


def learning_rate(p: dict[str, Any]) -> float:
    """η_t by the documented formula of schedule ``p['name']``."""
    name, t = p["name"], p["step"]
    lr = p["lr"]
    if name == "piecewise_constant":
        return p["values"][piecewise_index(p["boundaries"], t)]
    if name == "exponential":
        return lr * p["decay_rate"] ** progress(p)
    if name == "natural_exp":
        return lr * math.exp(-p["decay_rate"] * progress(p))
    if name == "inverse_time":
        return lr / (1.0 + p["decay_rate"] * progress(p))
    if name == "step_lr":
        return lr * p["decay_rate"] ** (t // p["decay_steps"])
    if name == "polynomial":
        return polynomial(p, clamp=True)
    if name == "cosine":
        return lr * cosine_factor(min(t, p["decay_steps"]) / p["decay_steps"], p["alpha"])
    if name == "cosine_restarts":
        i, into, length = restart_position(t, p["decay_steps"], p["t_mul"])
        alpha = p["alpha"]
        return lr * ((1.0 - alpha) * p["m_mul"] ** i * 0.5 * (1.0 + math.cos(math.pi * into / length))
                     + alpha)
    if name in ("linear_cosine", "noisy_linear_cosine"):
        return lr * linear_cosine_factor(p)
    if name == "linear_warmup":
        return warmup(p, shift=True)
    raise ValueError(f"parameter 'name': unknown schedule {name!r}")


def noise_sigma(p: dict[str, Any], *, clamp: bool = True, squared: bool = False) -> float:
    """σ_t = √(initial_variance / (1 + t')^variance_decay); σ_t² when ``squared``."""
    t = min(p["step"], p["decay_steps"]) if clamp else p["step"]
    variance = p["initial_variance"] / (1.0 + t) ** p["variance_decay"]
    return variance if squared else math.sqrt(variance)


def linear_cosine_factor(p: dict[str, Any], *, clamp: bool = True, two: bool = True,
                         use_beta: bool = True, noise: str = "linear") -> float:
    """(α + linear + ε_t)·cosine + β, evaluated term by term.

    The keywords produce the named mistakes: ``clamp=False`` uses t for t', ``two=False``
    drops the 2 in cos(2πk t'/T), ``use_beta=False`` drops β, and ``noise`` says where
    ε_t goes: "linear" (TF), "none", "outside" (added after the product) or
    "variance" (z·σ_t² instead of z·σ_t).
    """
    period = p["decay_steps"]
    t = min(p["step"], period) if clamp else p["step"]
    linear = (period - t) / period
    epsilon = 0.0
    if p["name"] == "noisy_linear_cosine" and noise != "none":
        epsilon = p["noise_z"] * noise_sigma(p, clamp=clamp, squared=noise == "variance")
    cycles = (2.0 if two else 1.0) * p["num_periods"] * t / period
    cosine = 0.5 * (1.0 + math.cos(math.pi * cycles))
    inside = p["alpha"] + linear + (0.0 if noise == "outside" else epsilon)
    return inside * cosine + (p["beta"] if use_beta else 0.0) + (
        epsilon if noise == "outside" else 0.0)


def polynomial(p: dict[str, Any], *, clamp: bool) -> float:
    """(η_0 − η_end)(1 − t/T')^p + η_end; T' = T·⌈t/T⌉ with cycle, else t = min(t, T)."""
    t, period = p["step"], p["decay_steps"]
    if p["cycle"]:
        period = period * max(1, -(-t // period))  # ceil for integers, at least one period
    elif clamp:
        t = min(t, period)
    return (p["lr"] - p["end_lr"]) * power(1.0 - t / period, p["power"]) + p["end_lr"]


def warmup(p: dict[str, Any], *, shift: bool, plus_one: bool = False) -> float:
    """η_0·t/W during warm-up, then η_0 or a cosine over the next T steps."""
    t, w = p["step"], p["warmup_steps"]
    if t < w:
        return p["lr"] * ((t + 1) if plus_one else t) / w
    if p["after_warmup"] == "constant":
        return p["lr"]
    into = t - w if shift else t
    return p["lr"] * cosine_factor(min(into, p["decay_steps"]) / p["decay_steps"], p["alpha"])


def power(base: float, exponent: float) -> float:
    """base ** exponent, or inf where a float cannot hold it (a mistaken formula may blow up)."""
    try:
        return base**exponent
    except OverflowError:
        return math.inf


def mistakes(p: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(key, label, label_zh, η_t) of common mistakes that apply to ``p``."""
    name, t, lr = p["name"], p["step"], p["lr"]
    out: list[tuple[str, str, str, Any]] = []
    if name in ("exponential", "natural_exp", "inverse_time"):
        flipped = dict(p, staircase=not p["staircase"])
        if p["staircase"]:
            out.append(("forgot_staircase", "Forgot the staircase floor (used t/T, not ⌊t/T⌋)",
                        "忘了阶梯取整（用了 t/T 而不是 ⌊t/T⌋）", learning_rate(flipped)))
        else:
            out.append(("floor_without_staircase", "Applied the floor ⌊t/T⌋ without staircase",
                        "没有 staircase 却做了向下取整 ⌊t/T⌋", learning_rate(flipped)))
    if name == "exponential":
        out.append(("ignored_decay_steps", "Used r^t (forgot to divide t by decay_steps)",
                    "用了 r^t（忘了除以 decay_steps）", lr * power(p["decay_rate"], t)))
    if name == "natural_exp":
        if t > 0:
            out.append(("seed_natural_exp", "Used η_0·e^(−r/t), a formula misprinted in some notes",
                        "用了 η_0·e^(−r/t)（部分笔记中的错误公式）", lr * math.exp(-p["decay_rate"] / t)))
        out.append(("base_r_not_e", "Used the plain exponential η_0·r^(t/T)",
                    "用成了普通指数衰减 η_0·r^(t/T)", lr * power(p["decay_rate"], progress(p))))
    if name == "step_lr":
        out.append(("forgot_staircase", "Forgot the floor (used γ^(t/T))", "忘了向下取整（用了 γ^(t/T)）",
                    lr * p["decay_rate"] ** (t / p["decay_steps"])))
        out.append(("ceil_not_floor", "Rounded t/T up instead of down", "t/T 向上取整而不是向下取整",
                    lr * p["decay_rate"] ** math.ceil(t / p["decay_steps"])))
    if name == "polynomial":
        if not p["cycle"] and t > p["decay_steps"] and float(p["power"]).is_integer():
            out.append(("polynomial_no_clamp", "Did not clamp the step at decay_steps",
                        "没有把步数截断在 decay_steps", polynomial(p, clamp=False)))
        if p["cycle"]:
            out.append(("ignored_cycle", "Ignored cycle (clamped the step instead)",
                        "忽略了 cycle（按截断处理）", polynomial(dict(p, cycle=False), clamp=True)))
        out.append(("forgot_end_lr", "Decayed to 0, forgetting end_lr", "衰减到 0，忘了 end_lr",
                    polynomial(dict(p, end_lr=0.0, lr=lr - p["end_lr"]), clamp=True)))
    if name == "cosine":
        period, alpha = p["decay_steps"], p["alpha"]
        if alpha:
            out.append(("cosine_no_alpha", "Cosine without the α floor", "余弦衰减漏掉了下限 α",
                        lr * cosine_factor(min(t, period) / period, 0.0)))
            out.append(("alpha_absolute", "Read α as an absolute minimum rate (like eta_min)",
                        "把 α 当成了绝对的最小学习率（像 eta_min）",
                        alpha + (lr - alpha) * cosine_factor(min(t, period) / period, 0.0)))
        if t > period:
            out.append(("cosine_no_clamp", "Did not clamp the step: the cosine rises again",
                        "没有截断步数：余弦又升了回去", lr * cosine_factor(t / period, alpha)))
    if name == "cosine_restarts":
        period, alpha = p["decay_steps"], p["alpha"]
        out.append(("no_restart", "No restart: a single cosine clamped at decay_steps",
                    "没有重启：只做一次余弦衰减", lr * cosine_factor(min(t, period) / period, alpha)))
        if p["t_mul"] > 1:
            out.append(("fixed_period", "Kept every period at decay_steps (ignored t_mul)",
                        "每个周期都取 decay_steps（忽略了 t_mul）",
                        learning_rate(dict(p, t_mul=1))))
        if p["m_mul"] != 1:
            out.append(("ignored_m_mul", "Restarted at full height (ignored m_mul)",
                        "每次重启都回到最高点（忽略了 m_mul）", learning_rate(dict(p, m_mul=1.0))))
    if name in ("linear_cosine", "noisy_linear_cosine"):
        out.extend(_linear_cosine_mistakes(p))
    if name == "linear_warmup":
        if t < p["warmup_steps"]:
            out.append(("warmup_plus_one", "Warm-up as η_0·(t + 1)/W", "预热用了 η_0·(t + 1)/W",
                        warmup(p, shift=True, plus_one=True)))
        elif p["after_warmup"] == "cosine":
            out.append(("cosine_from_zero", "Counted the cosine from step 0, not from the end of "
                        "the warm-up", "余弦从第 0 步而不是预热结束时算起", warmup(p, shift=False)))
    if name == "piecewise_constant" and t in p["boundaries"]:
        out.append(("next_value_at_boundary", "Switched to the next value at the boundary itself "
                    "(PyTorch MultiStepLR convention)", "在边界那一步就换成了下一个值（PyTorch MultiStepLR 的约定）",
                    p["values"][piecewise_index(p["boundaries"], t) + 1]))
    return out


def _linear_cosine_mistakes(p: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    lr, period = p["lr"], p["decay_steps"]
    out: list[tuple[str, str, str, Any]] = [
        ("forgot_beta", "Left out the added floor β", "漏掉了加上的下限 β",
         lr * linear_cosine_factor(p, use_beta=False)),
        ("cosine_no_factor_two", "Used cos(πk·t'/T), without the 2 in 2πk",
         "用了 cos(πk·t'/T)，漏掉了 2πk 中的 2", lr * linear_cosine_factor(p, two=False)),
        ("plain_cosine_decay", "Used plain cosine decay (no linear factor, no β)",
         "用成了普通余弦衰减（没有线性因子和 β）",
         lr * cosine_factor(min(p["step"], period) / period, p["alpha"])),
    ]
    if p["step"] > period:
        out.append(("linear_cosine_no_clamp", "Did not clamp the step at decay_steps",
                    "没有把步数截断在 decay_steps", lr * linear_cosine_factor(p, clamp=False)))
    if p["name"] == "noisy_linear_cosine":
        out += [
            ("ignored_noise", "Left out the noise ε_t (plain linear cosine)",
             "漏掉了噪声 ε_t（按普通线性余弦计算）", lr * linear_cosine_factor(p, noise="none")),
            ("noise_variance_as_std", "Scaled z by the variance σ_t² instead of the standard "
             "deviation σ_t", "用方差 σ_t² 而不是标准差 σ_t 去乘 z",
             lr * linear_cosine_factor(p, noise="variance")),
            ("noise_outside_cosine", "Added ε_t after the product with the cosine factor",
             "把 ε_t 加在了与余弦因子相乘之后", lr * linear_cosine_factor(p, noise="outside")),
        ]
    return out
