"""Worked steps of ``lr_schedule``: the symbolic formula, then the numbers put in.

Intermediate quantities (t/T, the restart period, the warm-up phase) are recomputed
here in plain Python for display; the final η_t is the torch value from ``solve``.
"""

from __future__ import annotations

import math
from typing import Any

from engine.kinds.lr_schedule_check import noise_sigma, piecewise_index, restart_position
from engine.trace import Trace

COSINE = r"(1-\alpha)\tfrac12\left(1 + \cos \pi f\right) + \alpha"


def num(x: float | int) -> str:
    """A number as LaTeX: 0.1, 100, 1\\times 10^{-5}."""
    if isinstance(x, bool):
        return str(x).lower()
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def trace_schedule(p: dict[str, Any], lr_t: float) -> list:
    tr = Trace()
    name, t = p["name"], p["step"]
    if name == "piecewise_constant":
        i = piecewise_index(p["boundaries"], t)
        tr.step("Find the interval that contains t (a boundary keeps the earlier value)",
                "找到 t 所在的区间（恰好在边界上时仍取前一个值）",
                r"i = \#\{\, j : b_j < t \,\}", t=t, boundaries=p["boundaries"], i=i)
        tr.step("Its value is the learning rate", "该区间的值就是学习率",
                rf"\eta_t = v_i = v_{{{i}}} = {num(lr_t)}", values=p["values"], lr=lr_t)
        return tr.steps
    eta0, period = num(p["lr"]), p["decay_steps"]
    if name in ("exponential", "natural_exp", "inverse_time", "step_lr"):
        floor = p.get("staircase") or name == "step_lr"
        ratio = t // period if floor else t / period
        symbol = r"\lfloor t/T \rfloor" if floor else "t/T"
        left, right = (r"\lfloor ", r" \rfloor") if floor else ("", "")
        tr.step("Steps as a fraction of decay_steps" + (", rounded down" if floor else ""),
                "步数除以 decay_steps" + ("，向下取整" if floor else ""),
                rf"{symbol} = {left}{t}/{period}{right} = {num(ratio)}", t=t, T=period, ratio=ratio)
        r = num(p["decay_rate"])
        formula = {
            "exponential": rf"\eta_t = \eta_0\, r^{{{symbol}}} = {eta0} \cdot {r}^{{{num(ratio)}}}",
            "step_lr": rf"\eta_t = \eta_0\, r^{{{symbol}}} = {eta0} \cdot {r}^{{{num(ratio)}}}",
            "natural_exp": rf"\eta_t = \eta_0\, e^{{-r\,{symbol}}} = {eta0}\, e^{{-{r} \cdot "
                           rf"{num(ratio)}}}",
            "inverse_time": rf"\eta_t = \frac{{\eta_0}}{{1 + r\,{symbol}}} = \frac{{{eta0}}}"
                            rf"{{1 + {r} \cdot {num(ratio)}}}",
        }[name]
        tr.step("Decayed learning rate", "衰减后的学习率", rf"{formula} = {num(lr_t)}",
                lr=lr_t)
    elif name == "polynomial":
        _polynomial(tr, p, lr_t)
    elif name == "cosine":
        f = min(t, period) / period
        tr.step("Fraction of the decay done (clamped at 1)", "已完成的衰减比例（最多为 1）",
                rf"f = \min(t, T)/T = \min({t}, {period})/{period} = {num(f)}", f=f)
        tr.step("Cosine factor with the floor α, times η_0", "带下限 α 的余弦系数乘以 η_0",
                rf"\eta_t = \eta_0\left({COSINE}\right) = {eta0}\left((1-{num(p['alpha'])})"
                rf"\tfrac12(1 + \cos({num(f)}\pi)) + {num(p['alpha'])}\right) = {num(lr_t)}",
                alpha=p["alpha"], lr=lr_t)
    elif name == "cosine_restarts":
        i, into, length = restart_position(t, period, p["t_mul"])
        tr.step("Find the restart period: lengths T, Tτ, Tτ², …",
                "找到所在的重启周期：长度依次为 T, Tτ, Tτ², …",
                r"s_i \le t < s_{i+1},\; s_i = T(1 + \tau + \dots + \tau^{i-1})",
                t=t, T=period, t_mul=p["t_mul"], i=i, steps_into_period=into,
                period_length=length)
        f = into / length
        tr.step("Cosine within the period, scaled by m^i, with the floor α",
                "周期内的余弦，乘以 m^i，带下限 α",
                rf"\eta_t = \eta_0\left((1-\alpha)\, m^i\, \tfrac12(1 + \cos \pi f) + \alpha\right)"
                rf",\; f = {into}/{length} = {num(f)},\; m^i = {num(p['m_mul'])}^{{{i}}}"
                rf" \Rightarrow \eta_t = {num(lr_t)}",
                f=f, m_mul=p["m_mul"], alpha=p["alpha"], lr=lr_t)
    elif name in ("linear_cosine", "noisy_linear_cosine"):
        _linear_cosine(tr, p, lr_t)
    else:
        _warmup(tr, p, lr_t)
    return tr.steps


def _polynomial(tr: Trace, p: dict[str, Any], lr_t: float) -> None:
    t, period = p["step"], p["decay_steps"]
    if p["cycle"]:
        cycles = max(1, math.ceil(t / period))
        period = period * cycles
        tr.step("cycle: stretch the period to the next multiple of T",
                "cycle：把周期拉长到 T 的下一个整数倍",
                rf"T' = T \max(1, \lceil t/T \rceil) = {p['decay_steps']} \cdot {cycles} = {period}",
                T_cycled=period)
    else:
        t = min(t, period)
        tr.step("Clamp the step at decay_steps", "把步数截断在 decay_steps",
                rf"\min(t, T) = \min({p['step']}, {period}) = {t}", t_clamped=t)
    tr.step("Polynomial decay from η_0 to η_end", "从 η_0 到 η_end 的多项式衰减",
            rf"\eta_t = (\eta_0 - \eta_{{end}})(1 - t/T)^p + \eta_{{end}} = ({num(p['lr'])} - "
            rf"{num(p['end_lr'])})(1 - {t}/{period})^{{{num(p['power'])}}} + {num(p['end_lr'])}"
            rf" = {num(lr_t)}", lr=lr_t)


def _linear_cosine(tr: Trace, p: dict[str, Any], lr_t: float) -> None:
    t, period = p["step"], p["decay_steps"]
    clamped = min(t, period)
    linear = (period - clamped) / period
    tr.step("Clamp the step at decay_steps, then the linear factor",
            "把步数截断在 decay_steps，再算线性因子",
            rf"t' = \min(t, T) = \min({t}, {period}) = {clamped},\quad \ell = \frac{{T - t'}}{{T}}"
            rf" = \frac{{{period} - {clamped}}}{{{period}}} = {num(linear)}",
            t_clamped=clamped, linear=linear)
    epsilon = 0.0
    if p["name"] == "noisy_linear_cosine":
        variance = noise_sigma(p, squared=True)
        epsilon = p["noise_z"] * noise_sigma(p)
        tr.step("Noise on the linear factor: variance shrinks with the step; ε_t = z·σ_t for "
                "the given standard-normal draw z",
                "线性因子上的噪声：方差随步数减小；ε_t = z·σ_t（z 为给定的标准正态抽样值）",
                rf"\sigma_t^2 = \frac{{{num(p['initial_variance'])}}}{{(1 + {clamped})^"
                rf"{{{num(p['variance_decay'])}}}}} = {num(variance)},\quad \varepsilon_t = z\,"
                rf"\sigma_t = {num(p['noise_z'])} \cdot {num(variance ** 0.5)} = {num(epsilon)}",
                variance=variance, noise_z=p["noise_z"], epsilon=epsilon)
    k = p["num_periods"]
    cosine = 0.5 * (1 + math.cos(math.pi * 2 * k * clamped / period))
    tr.step("Cosine factor with k = num_periods periods over T",
            "余弦因子：在 T 步内有 k = num_periods 个周期",
            rf"c = \tfrac12\left(1 + \cos\frac{{2\pi k\, t'}}{{T}}\right) = \tfrac12\left(1 + "
            rf"\cos\frac{{2\pi \cdot {num(k)} \cdot {clamped}}}{{{period}}}\right) = {num(cosine)}",
            num_periods=k, cosine=cosine)
    noise = r" + \varepsilon_t" if p["name"] == "noisy_linear_cosine" else ""
    noise_value = f" + {num(epsilon)}" if noise else ""
    tr.step("Multiply, add the floor β, times η_0", "相乘，加上下限 β，再乘以 η_0",
            rf"\eta_t = \eta_0\left((\alpha + \ell{noise})\, c + \beta\right) = {num(p['lr'])}"
            rf"\left(({num(p['alpha'])} + {num(linear)}{noise_value}) \cdot {num(cosine)} + "
            rf"{num(p['beta'])}\right) = {num(lr_t)}",
            alpha=p["alpha"], beta=p["beta"], lr=lr_t)


def _warmup(tr: Trace, p: dict[str, Any], lr_t: float) -> None:
    t, w, eta0 = p["step"], p["warmup_steps"], num(p["lr"])
    if t < w:
        tr.step("Warm-up: grow linearly from 0 to η_0 over W steps",
                "预热：在 W 步内从 0 线性增长到 η_0",
                rf"\eta_t = \eta_0\, t/W = {eta0} \cdot {t}/{w} = {num(lr_t)}", t=t, W=w, lr=lr_t)
    elif p["after_warmup"] == "constant":
        tr.step("After the warm-up the rate stays at η_0", "预热结束后学习率保持 η_0",
                rf"t \ge W \Rightarrow \eta_t = \eta_0 = {eta0}", t=t, W=w, lr=lr_t)
    else:
        period = p["decay_steps"]
        f = min(t - w, period) / period
        tr.step("After the warm-up: cosine counted from t − W", "预热结束后：从 t − W 开始的余弦衰减",
                rf"f = \min(t - W, T)/T = \min({t - w}, {period})/{period} = {num(f)}",
                t=t, W=w, f=f)
        tr.step("Cosine factor with the floor α, times η_0", "带下限 α 的余弦系数乘以 η_0",
                rf"\eta_t = \eta_0\left({COSINE}\right) = {num(lr_t)}", alpha=p["alpha"], lr=lr_t)
