"""Learning-rate schedules: the learning rate η_t at global step t.

Symbols, as printed in the steps:
    η_0  lr (initial learning rate)    t    step (global step, from 0)
    T    decay_steps                   r    decay_rate (γ for step_lr)
    η_end end_lr                       p    power
    α    alpha (floor, a fraction of η_0)   W   warmup_steps
    τ    t_mul (period growth)         m    m_mul (restart height factor)
    t'   min(t, T)                     k    num_periods (cosine periods over T)
    β    beta (added floor, a fraction of η_0)
    σ_t² initial_variance / (1 + t')^variance_decay    z   noise_z (ε_t = z·σ_t)

The formulas are TensorFlow's ``tf.compat.v1.train.*_decay`` ones (PyTorch's StepLR for
``step_lr``), computed with torch tensor ops shared by ``solve`` and ``solve_batch``;
the check evaluates them again with Python ``math`` in ``lr_schedule_check``.
"""

from __future__ import annotations

import math
import random
from itertools import pairwise
from typing import Any

import torch

from engine.kinds import lr_schedule_check as ref
from engine.kinds.lr_schedule_torch import LINEAR_COSINE, STAIRCASE, USES, tensors, torch_lr
from engine.kinds.lr_schedule_trace import trace_schedule
from engine.params import Array, Boolean, Choice, Integer, Number
from engine.registry import Answer, AnswerType, Computed, Kind, Misconception, register

MAX_GLOBAL_STEP = 10**9  # a closed-form value: large steps cost nothing
WARMUP_COSINE = {"decay_steps": None, "alpha": 0.0}  # linear_warmup with after_warmup = cosine
OPTIONAL = ("lr", "decay_steps", "decay_rate", "staircase", "end_lr", "power", "cycle", "alpha",
            "boundaries", "values", "warmup_steps", "after_warmup", "t_mul", "m_mul",
            "num_periods", "beta", "initial_variance", "variance_decay", "noise_z")


@register("lr_schedule")
class LrSchedule(Kind):
    r"""Learning rate η_t at global step t under a decay schedule (TensorFlow formulas).

    .. math::
        \textbf{piecewise\_constant: } \eta_t = v_0 \ (t \le b_0),\ v_i \ (b_{i-1} < t \le b_i),
            \ v_n \ (t > b_{n-1})

        \textbf{exponential: } \eta_t = \eta_0 \, r^{t/T} \qquad
        \textbf{natural\_exp: } \eta_t = \eta_0 \, e^{-r\, t/T} \qquad
        \textbf{inverse\_time: } \eta_t = \frac{\eta_0}{1 + r\, t/T}
            \quad (\text{staircase: } t/T \to \lfloor t/T \rfloor)

        \textbf{step\_lr: } \eta_t = \eta_0 \, r^{\lfloor t/T \rfloor}

        \textbf{polynomial: } \eta_t = (\eta_0 - \eta_{end})\left(1 - \frac{\min(t, T)}{T}\right)^p
            + \eta_{end} \quad (\text{cycle: } T \to T \max(1, \lceil t/T \rceil), \text{ no min})

        \textbf{cosine: } \eta_t = \eta_0 \left((1-\alpha)\tfrac12\left(1 + \cos\frac{\pi \min(t, T)}{T}
            \right) + \alpha\right)

        \textbf{cosine\_restarts: } \eta_t = \eta_0 \left((1-\alpha)\, m^i\, \tfrac12\left(1 + \cos
            \frac{\pi (t - s_i)}{T \tau^i}\right) + \alpha\right), \quad s_i = T(1 + \tau + \dots
            + \tau^{i-1}) \le t < s_{i+1}

        \textbf{linear\_cosine: } \eta_t = \eta_0 \left((\alpha + \ell)\, c + \beta\right), \quad
            \ell = \frac{T - t'}{T}, \quad c = \tfrac12\left(1 + \cos\frac{2\pi k\, t'}{T}\right),
            \quad t' = \min(t, T)

        \textbf{noisy\_linear\_cosine: } \eta_t = \eta_0 \left((\alpha + \ell + \varepsilon_t)\, c
            + \beta\right), \quad \varepsilon_t = z\,\sigma_t, \quad
            \sigma_t^2 = \frac{\text{initial\_variance}}{(1 + t')^{\text{variance\_decay}}}

        \textbf{linear\_warmup: } \eta_t = \eta_0 \frac{t}{W} \ (t < W), \text{ then } \eta_0
            \text{ or } \eta_0\left((1-\alpha)\tfrac12\left(1 + \cos\frac{\pi \min(t - W, T)}{T}
            \right) + \alpha\right)
    """

    title = "Learning-rate schedule"
    title_zh = "学习率衰减策略"
    params = (
        Choice("name", choices=tuple(USES), help="schedule"),
        Integer("step", min=0, max=MAX_GLOBAL_STEP, help="global step t (from 0)"),
        Number("lr", default=None, min=0, max=10, help="initial learning rate η_0"),
        Integer("decay_steps", default=None, min=1, max=MAX_GLOBAL_STEP,
                help="T: decay period (step_size for step_lr; cosine length after warm-up)"),
        Number("decay_rate", default=None, min=0, max=1000,
               help="r (γ for step_lr); at most 1 for exponential and step_lr"),
        Boolean("staircase", default=None, help="use ⌊t/T⌋ (exponential, natural_exp, "
                                                "inverse_time; default false)"),
        Number("end_lr", default=None, min=0, max=10, help="η_end of polynomial (default 1e-4)"),
        Number("power", default=None, min=0, max=100, open_min=True,
               help="p of polynomial (default 1: linear)"),
        Boolean("cycle", default=None, help="polynomial restarts with a longer period"),
        Number("alpha", default=None, min=0, max=1,
               help="α: floor as a fraction of η_0 (cosine schedules; default 0); linear cosine "
                    "adds it to the linear factor"),
        Array("boundaries", default=None, ndim=(1,), min=0, max=MAX_GLOBAL_STEP, integer=True,
              max_elements=64, help="piecewise_constant: strictly increasing steps b_i"),
        Array("values", default=None, ndim=(1,), min=0, max=10, max_elements=65,
              help="piecewise_constant: learning rates v_i, one more than boundaries"),
        Integer("warmup_steps", default=None, min=1, max=MAX_GLOBAL_STEP,
                help="W: linear warm-up length"),
        Choice("after_warmup", default=None, choices=("constant", "cosine"),
               help="after the warm-up: keep η_0 or cosine over decay_steps (default constant)"),
        Integer("t_mul", default=None, min=1, max=10,
                help="τ: each restart period is τ times longer (default 2)"),
        Number("m_mul", default=None, min=0, max=1,
               help="m: each restart starts m times lower (default 1)"),
        Number("num_periods", default=None, min=0, max=1000,
               help="k: periods of the cosine factor over T in linear cosine (default 0.5)"),
        Number("beta", default=None, min=0, max=1,
               help="β: added floor of linear cosine, a fraction of η_0 (default 0.001)"),
        Number("initial_variance", default=None, min=0, max=100,
               help="noisy linear cosine: variance of the noise at t = 0 (default 1)"),
        Number("variance_decay", default=None, min=0, max=10,
               help="noisy linear cosine: σ_t² = initial_variance / (1 + t')^variance_decay "
                    "(default 0.55)"),
        Number("noise_z", default=None, min=-6, max=6,
               help="noisy linear cosine: the standard-normal draw z at this step, ε_t = z·σ_t "
                    "(TF draws it at random; here it is given, so the answer is reproducible)"),
    )
    answers = (Answer("lr", AnswerType.SCALAR, "learning rate η_t at step t"),)
    check_method = "the same formula evaluated with Python math (explicit loops for the indices)"
    conventions = (
        "TensorFlow's tf.compat.v1.train formulas: t counts steps from 0 and η_0 is the rate at "
        "t = 0; t/T is a real ratio unless staircase floors it.",
        "piecewise_constant: at t equal to a boundary the earlier value still applies (TF); "
        "PyTorch's MultiStepLR switches at the milestone itself.",
        "step_lr is PyTorch's StepLR, η_0·γ^⌊t/T⌋ with γ = decay_rate and step_size = "
        "decay_steps (the same numbers as exponential with staircase).",
        "cosine and cosine_restarts: α is a fraction of η_0 (TF); PyTorch's eta_min is the "
        "absolute floor α·η_0. cosine_restarts is TF's cosine_decay_restarts (SGDR) with an "
        "integer period multiplier τ.",
        "polynomial with cycle: T' = T·⌈t/T⌉ (T at t = 0), so the rate jumps back up after each "
        "period; without cycle t is clamped to T and η_t stays at η_end.",
        "linear_warmup ramps from 0 at t = 0 to η_0 at t = W, then holds η_0 or runs the cosine "
        "schedule counted from the end of the warm-up (t − W).",
        "linear_cosine and noisy_linear_cosine are TF's linear_cosine_decay and "
        "noisy_linear_cosine_decay (Bello et al., 2017): t' = min(t, T) in the linear factor, "
        "the cosine and the noise variance; α and β are fractions of η_0. TF draws "
        "ε_t ~ N(0, σ_t²) afresh at every call; here the draw is the given standard-normal "
        "value noise_z, ε_t = z·σ_t, so solve and check compute the same number.",
    )
    batchable = True

    # -- parameters -----------------------------------------------------------
    def clean(self, p: dict[str, Any]) -> None:
        name = p["name"]
        uses = dict(USES[name])
        if name == "linear_warmup" and p["after_warmup"] == "cosine":
            uses.update(WARMUP_COSINE)
        for key in OPTIONAL:
            if key not in uses:
                if p[key] is not None:
                    raise ValueError(f"parameter '{key}': does not apply to '{name}', which uses "
                                     f"{', '.join(uses)}")
            elif p[key] is None:
                if uses[key] is None:
                    raise ValueError(f"parameter '{key}': required for '{name}'")
                p[key] = uses[key]
        if name in ("exponential", "step_lr") and p["decay_rate"] > 1:
            raise ValueError(f"parameter 'decay_rate': {p['decay_rate']:g} is out of range for "
                             f"'{name}'; valid range is [0, 1]")
        if name == "piecewise_constant":
            b, values = p["boundaries"], p["values"]
            if any(later <= earlier for earlier, later in pairwise(b)):
                raise ValueError(f"parameter 'boundaries': must be strictly increasing, got {b}")
            if len(values) != len(b) + 1:
                raise ValueError(f"parameter 'values': needs len(boundaries) + 1 = {len(b) + 1} "
                                 f"values, got {len(values)}")

    # -- variants -------------------------------------------------------------
    def sample(self, rng: random.Random) -> dict[str, Any]:
        name = rng.choice(tuple(USES))
        p: dict[str, Any] = {"name": name}
        if name == "piecewise_constant":
            gap = rng.choice([10, 30, 1000, 5000])
            n = rng.choice([1, 2, 2, 3])
            p["boundaries"] = [gap * (i + 1) for i in range(n)]
            top = rng.choice([0.1, 0.01, 1.0])
            p["values"] = [round(top * rng.choice([0.1, 0.5]) ** i, 6) for i in range(n + 1)]
            p["step"] = rng.choice([rng.randrange(0, gap * (n + 1)), *p["boundaries"]])
            return p
        p["lr"] = rng.choice([0.1, 0.1, 0.01, 0.05, 1.0])
        period = rng.choice([10, 100, 1000])
        p["decay_steps"] = period
        p["step"] = rng.randrange(0, 3 * period + 1, max(1, period // 10))
        if name in STAIRCASE:
            p["decay_rate"] = rng.choice({"exponential": [0.5, 0.9, 0.96, 0.1],
                                          "natural_exp": [0.1, 0.5, 1.0, 2.0],
                                          "inverse_time": [0.5, 1.0, 2.0]}[name])
            p["staircase"] = rng.random() < 0.4
        elif name == "step_lr":
            p["decay_rate"] = rng.choice([0.1, 0.5])
            p["decay_steps"] = rng.choice([10, 30, 50])
            p["step"] = rng.randrange(0, 4 * p["decay_steps"])
        elif name == "polynomial":
            p["end_lr"] = rng.choice([0.0, 0.0001, 0.001])
            p["power"] = rng.choice([1.0, 1.0, 2.0, 0.5])
            p["cycle"] = rng.random() < 0.25
        elif name in LINEAR_COSINE:
            p["alpha"] = rng.choice([0.0, 0.0, 0.1])
            p["beta"] = rng.choice([0.001, 0.001, 0.0, 0.01])
            p["num_periods"] = rng.choice([0.5, 0.5, 1.0, 2.0])
            p["step"] = rng.randrange(0, 5 * period // 4 + 1, max(1, period // 8))
            if name == "noisy_linear_cosine":
                p["initial_variance"] = rng.choice([1.0, 1.0, 0.5, 0.1])
                p["variance_decay"] = rng.choice([0.55, 0.55, 1.0])
                p["noise_z"] = rng.choice([-1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0])
        elif name in ("cosine", "cosine_restarts"):
            p["alpha"] = rng.choice([0.0, 0.0, 0.1])
            p["step"] = rng.randrange(0, 5 * period // 4 + 1, max(1, period // 8))
            if name == "cosine_restarts":
                p["t_mul"], p["m_mul"] = rng.choice([1, 2, 2]), rng.choice([1.0, 1.0, 0.5])
                p["step"] = rng.randrange(0, 7 * period + 1, max(1, period // 4))
        else:
            del p["decay_steps"]
            p["warmup_steps"] = warm = rng.choice([10, 100, 500])
            if rng.random() < 0.5:
                p["after_warmup"], p["decay_steps"] = "cosine", rng.choice([100, 1000])
            p["step"] = rng.randrange(0, 2 * warm + (p.get("decay_steps") or 0) + 1,
                                      max(1, warm // 10))
        return p

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return p["lr"] == 0 or (p["name"] == "piecewise_constant" and len(set(p["values"])) == 1)

    # -- computation ----------------------------------------------------------
    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        lr = torch_lr(p["name"], tensors([p], device, scalar=True))
        value = float(lr)
        return Computed({"lr": value}, trace_schedule(p, value))

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"lr": ref.learning_rate(p)}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        return [Misconception(key, label, label_zh, {"lr": value})
                for key, label, label_zh, value in ref.mistakes(p)
                if isinstance(value, float) and math.isfinite(value)]

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple, list[int]] = {}
        for i, p in enumerate(ps):
            size = len(p["boundaries"]) if p["name"] == "piecewise_constant" else 0
            groups.setdefault((p["name"], size), []).append(i)
        for (name, _), idx in groups.items():
            values = torch_lr(name, tensors([ps[i] for i in idx], device, scalar=False)).tolist()
            for i, value in zip(idx, values, strict=True):
                results[i] = {"lr": value}
        return results  # type: ignore[return-value]
