"""Optimiser steps: SGD, momentum, Nesterov, Adagrad, RMSprop, Adam and AdamW.

Symbols, as printed in the steps (all per coordinate; t = 1..T counts steps):
    θ_t  parameters after step t      g_t  gradient used at step t
    η    lr                            λ    weight_decay
    μ    momentum                      b_t  momentum buffer
    r_t  Adagrad sum of g²             α    RMSprop smoothing
    v_t  RMSprop / Adam second moment  m_t  Adam first moment
    β1, β2  Adam decay rates           ε    eps

The answer comes from ``torch.optim``'s functional API (``optim_torch``, the kernels that
``Optimizer.step()`` runs); the check repeats the equations coordinate by coordinate in
``optim_check``; the vectorised ``solve_batch`` lives in ``optim_batch``; the worked
steps in ``optim_trace``.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch

from engine.kinds import optim_batch, optim_check
from engine.kinds.optim_torch import SGD_FAMILY, initial_state, objective_loss, torch_step
from engine.kinds.optim_trace import shown_steps, snapshot, trace_run
from engine.params import MAX_ELEMENTS, MAX_STEPS, Array, Choice, Integer, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register

NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
HYPER = ("lr", "momentum", "beta1", "beta2", "eps", "alpha", "weight_decay")
# PyTorch's defaults; the keys of each entry are the hyper-parameters the optimiser uses.
DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0},
    "momentum": {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0},
    "nesterov": {"lr": 1e-3, "momentum": 0.9, "weight_decay": 0.0},
    "adagrad": {"lr": 1e-2, "eps": 1e-10, "weight_decay": 0.0},
    "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0},
    "adam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "adamw": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
}
VALUE_LIMIT = 1e3  # |θ_0|, curvature
GRAD_LIMIT = 1e6


def diverged(param: str, step: int) -> ValueError:
    return ValueError(f"parameter '{param}': the iterates overflowed to infinity at step {step}; "
                      "use a smaller lr or fewer steps")


@register("optimizer")
class Optimizer(Kind):
    r"""T steps of a PyTorch optimiser on one parameter vector θ (PyTorch's update rules).

    .. math::
        \textbf{sgd / momentum: } b_1 = g_1,\; b_t = \mu b_{t-1} + g_t,\;
            \theta_t = \theta_{t-1} - \eta b_t \quad (\mu = 0:\ \theta_t = \theta_{t-1} - \eta g_t)

        \textbf{nesterov: } \theta_t = \theta_{t-1} - \eta (g_t + \mu b_t)

        \textbf{adagrad: } r_t = r_{t-1} + g_t^2,\;
            \theta_t = \theta_{t-1} - \eta \frac{g_t}{\sqrt{r_t} + \epsilon}

        \textbf{rmsprop: } v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\;
            \theta_t = \theta_{t-1} - \eta \frac{g_t}{\sqrt{v_t} + \epsilon}

        \textbf{adam: } m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\;
            v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\;
            \hat m_t = \frac{m_t}{1-\beta_1^t},\; \hat v_t = \frac{v_t}{1-\beta_2^t},\;
            \theta_t = \theta_{t-1} - \eta \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

        \textbf{weight decay: } g_t \leftarrow g_t + \lambda \theta_{t-1}
            \text{ (all but adamw)}; \quad
            \textbf{adamw: } \theta \leftarrow \theta_{t-1}(1 - \eta\lambda) \text{ before the adam step}

    All buffers start at 0 (except b_1 = g_1). ``grads`` gives g_t directly (one row per step);
    ``objective`` takes g_t = ∇f(θ_{t-1}) by autograd, with f = ½ Σ a_i θ_i² ("quadratic",
    a = ``curvature``) or f = (1 − x)² + 100(y − x²)² ("rosenbrock").
    """

    title = "Optimiser steps"
    title_zh = "优化器迭代"
    params = (
        Choice("name", choices=NAMES, help="optimiser"),
        Array("theta0", ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT, help="initial θ_0"),
        Array("grads", default=None, ndim=(2,), min=-GRAD_LIMIT, max=GRAD_LIMIT,
              help="gradient g_t for each step, one row per step (or give objective)"),
        Choice("objective", default=None, choices=("quadratic", "rosenbrock"),
               help="take g_t = ∇f(θ_{t-1}) of this function instead of given grads"),
        Array("curvature", default=None, ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT,
              help="a in f = ½ Σ a_i θ_i² (quadratic; default all ones)"),
        Integer("steps", default=None, min=1, max=MAX_STEPS,
                help="number of steps T (with objective; with grads it is the row count)"),
        Number("lr", default=None, min=0, max=10, help="learning rate η (PyTorch default)"),
        Number("momentum", default=None, min=0, max=1, help="momentum μ (sgd family)"),
        Number("beta1", default=None, min=0, max=1, help="β1 < 1 (adam, adamw; default 0.9)"),
        Number("beta2", default=None, min=0, max=1, help="β2 < 1 (adam, adamw; default 0.999)"),
        Number("eps", default=None, min=0, max=1, open_min=True, help="ε (adaptive optimisers)"),
        Number("alpha", default=None, min=0, max=1, help="RMSprop smoothing α (default 0.99)"),
        Number("weight_decay", default=None, min=0, max=10,
               help="λ (L2 in the gradient; decoupled for adamw, default 0.01 there)"),
    )
    answers = (
        Answer("theta", AnswerType.VECTOR, "θ_T after the last step"),
        Answer("trajectory", AnswerType.TENSOR, "θ_1..θ_T, one row per step"),
        Answer("state", AnswerType.OBJECT, "optimiser state after the last step"),
    )
    check_method = "the update equations looped per step and coordinate in Python floats"
    conventions = (
        "PyTorch's rules (torch.optim). Momentum buffer b_1 = g_1, then b_t = μb_{t−1} + g_t with "
        "no dampening and θ_t = θ_{t−1} − ηb_t. The velocity form v_t = μv_{t−1} − ηg_t, "
        "θ_t = θ_{t−1} + v_t gives v_t = −ηb_t, the same θ, because η is constant here; the two "
        "differ only when η changes between steps.",
        "Nesterov as in PyTorch: θ_t = θ_{t−1} − η(g_t + μb_t) with g_t taken at θ_{t−1}; "
        "Sutskever's look-ahead point is absorbed in a change of variables.",
        "ε is added outside the square root, after Adam's bias correction: √v̂_t + ε.",
        "weight_decay λ is an L2 term added to the gradient (coupled: g_t + λθ_{t−1}) for sgd, "
        "momentum, nesterov, adagrad, rmsprop and adam; adamw decouples it: θ ← θ(1 − ηλ) "
        "before the Adam step, scaled by lr as in PyTorch.",
        "Adagrad without lr_decay and RMSprop without momentum or centring; accumulators start "
        "at 0. Hyper-parameters left out take PyTorch's defaults for that optimiser.",
        "state uses torch.optim's names (momentum_buffer, sum, square_avg, exp_avg, exp_avg_sq) "
        "plus the step count (which torch's SGD does not store).",
    )
    batchable = True

    # -- parameters -----------------------------------------------------------
    def clean(self, p: dict[str, Any]) -> None:
        n = len(p["theta0"])
        if (p["grads"] is None) == (p["objective"] is None):
            raise ValueError("parameter 'grads': give exactly one of grads (one row per step) "
                             "or objective (with steps)")
        if p["grads"] is not None:
            self._clean_grads(p, n)
        else:
            self._clean_objective(p, n)
        used = DEFAULTS[p["name"]]
        for key in HYPER:
            if key not in used:
                if p[key] is not None:
                    raise ValueError(f"parameter '{key}': does not apply to '{p['name']}', "
                                     f"which uses {', '.join(used)}")
            elif p[key] is None:
                p[key] = used[key]
        if p["name"] in ("momentum", "nesterov") and p["momentum"] == 0:
            raise ValueError(f"parameter 'momentum': must be > 0 for '{p['name']}'; "
                             "valid range is (0, 1]")
        for key in ("beta1", "beta2"):
            if p[key] == 1:
                raise ValueError(f"parameter '{key}': 1 is out of range; valid range is [0, 1)")

    @staticmethod
    def _clean_grads(p: dict[str, Any], n: int) -> None:
        rows = len(p["grads"])
        if len(p["grads"][0]) != n:
            raise ValueError(f"parameter 'grads': each row must have len(theta0) = {n} numbers, "
                             f"got {len(p['grads'][0])}")
        if rows > MAX_STEPS:
            raise ValueError(f"parameter 'grads': {rows} rows (steps) is too many; "
                             f"at most {MAX_STEPS}")
        if p["steps"] is not None and p["steps"] != rows:
            raise ValueError(f"parameter 'steps': {p['steps']} does not match the {rows} rows of "
                             "grads; leave it out or make them equal")
        if p["curvature"] is not None:
            raise ValueError("parameter 'curvature': only used with objective 'quadratic'")
        p["steps"] = rows

    @staticmethod
    def _clean_objective(p: dict[str, Any], n: int) -> None:
        if p["steps"] is None:
            raise ValueError("parameter 'steps': required with objective; valid range is "
                             f"[1, {MAX_STEPS}]")
        if p["steps"] * n > MAX_ELEMENTS:
            raise ValueError(f"parameter 'steps': the trajectory would hold {p['steps']}·{n} = "
                             f"{p['steps'] * n} numbers; at most {MAX_ELEMENTS}")
        if p["objective"] == "rosenbrock":
            if n != 2:
                raise ValueError(f"parameter 'theta0': rosenbrock needs a 2-D θ, got {n} values")
            if p["curvature"] is not None:
                raise ValueError("parameter 'curvature': only used with objective 'quadratic'")
        elif p["curvature"] is None:
            p["curvature"] = [1.0] * n
        elif len(p["curvature"]) != n:
            raise ValueError(f"parameter 'curvature': needs len(theta0) = {n} values, "
                             f"got {len(p['curvature'])}")

    # -- variants -------------------------------------------------------------
    def sample(self, rng: random.Random) -> dict[str, Any]:
        name = rng.choice(NAMES)
        p: dict[str, Any] = {"name": name, "theta0": [round(rng.uniform(-2, 2), 1) for _ in "xy"]}
        steps = rng.choice([1, 2, 2, 3, 3])
        if rng.random() < 0.85:
            p["grads"] = [[round(rng.uniform(-2, 2), 1) for _ in "xy"] for _ in range(steps)]
        else:
            p["objective"] = rng.choice(["quadratic", "quadratic", "rosenbrock"])
            p["steps"] = steps
            if p["objective"] == "quadratic":
                p["curvature"] = [rng.choice([0.5, 1.0, 2.0, 4.0]) for _ in "xy"]
        if name in SGD_FAMILY:
            rosen = p.get("objective") == "rosenbrock"
            p["lr"] = rng.choice([0.001, 0.002] if rosen else [0.1, 0.1, 0.01, 0.5, 1.0])
            if name != "sgd":
                p["momentum"] = rng.choice([0.9, 0.9, 0.5])
        elif name in ("adagrad", "rmsprop"):
            p["lr"] = rng.choice([0.1, 0.1, 0.01, 0.5])
            if name == "rmsprop" and rng.random() < 0.5:
                p["alpha"] = rng.choice([0.9, 0.5])
        else:
            p["lr"] = rng.choice([0.1, 0.01, 0.001])
            if rng.random() < 0.3:
                p["beta1"], p["beta2"] = rng.choice([(0.9, 0.99), (0.5, 0.9)])
        if name == "adamw":
            p["weight_decay"] = rng.choice([0.01, 0.1, 0.5])
        elif rng.random() < 0.15:
            p["weight_decay"] = rng.choice([0.1, 0.01])
        return p

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        if p["grads"] is not None:
            return not any(x for row in p["grads"] for x in row)
        if p["objective"] == "rosenbrock":
            return p["theta0"] == [1.0, 1.0]
        return not any(a * x for a, x in zip(p["curvature"], p["theta0"], strict=True))

    # -- computation ----------------------------------------------------------
    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        theta = torch.tensor(p["theta0"], dtype=DTYPE, device=device)
        state = initial_state(p, theta)
        given = None if p["grads"] is None else torch.tensor(p["grads"], dtype=DTYPE, device=device)
        steps = p["steps"]
        shown = shown_steps(steps)
        rows: list[list[float]] = []  # θ_1..θ_T
        grads: list[list[float]] = []  # g_1..g_T as used (before weight decay)
        snaps = {}
        for t in range(1, steps + 1):
            if given is not None:
                grad = given[t - 1]
            else:
                leaf = theta.detach().requires_grad_()
                (grad,) = torch.autograd.grad(objective_loss(p, leaf), leaf)
            grads.append(grad.tolist())
            torch_step(p, theta, grad, state)
            rows.append(theta.tolist())
            if t in shown:
                snaps[t] = snapshot(state)
        for t, row in enumerate(rows, start=1):
            if not all(map(math.isfinite, row)):
                raise diverged("lr", t)
        answer = {"theta": rows[-1], "trajectory": rows, "state": {"step": steps, **snaps[steps]}}
        return Computed(answer, trace_run(p, rows, grads, snaps))

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        trajectory, _ = optim_check.run(p)  # its state is compared in the tests
        return {"theta": trajectory[-1], "trajectory": trajectory}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        out = []
        for key, label, label_zh, rule in optim_check.mistake_rules(p):
            trajectory, _ = optim_check.run(p, rule)
            if not all(math.isfinite(x) for x in trajectory[-1]):
                continue  # the mistake diverges: no number to recognise
            out.append(Misconception(key, label, label_zh,
                                     {"theta": trajectory[-1], "trajectory": trajectory}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        return optim_batch.solve_batch(ps, device)
