"""The worked steps of the ``optimizer`` kind: one line per shown optimiser step.

Steps 1, 2, 3 and the last are shown in full (their state is snapshotted during the
torch run); the ones in between are summarised in one line, so a 1000-step run still
explains itself in a handful of lines.
"""

from __future__ import annotations

from typing import Any

from engine.trace import Trace

SHOWN_FIRST = 3

SYMBOLS = {"lr": r"\eta", "momentum": r"\mu", "beta1": r"\beta_1", "beta2": r"\beta_2",
           "eps": r"\epsilon", "alpha": r"\alpha", "weight_decay": r"\lambda"}

UPDATE = {
    "sgd": r"\theta_t = \theta_{t-1} - \eta g_t",
    "momentum": r"b_t = \mu b_{t-1} + g_t \;(b_1 = g_1),\quad \theta_t = \theta_{t-1} - \eta b_t",
    "nesterov": r"b_t = \mu b_{t-1} + g_t \;(b_1 = g_1),\quad "
                r"\theta_t = \theta_{t-1} - \eta (g_t + \mu b_t)",
    "adagrad": r"r_t = r_{t-1} + g_t^2,\quad "
               r"\theta_t = \theta_{t-1} - \eta \frac{g_t}{\sqrt{r_t} + \epsilon}",
    "rmsprop": r"v_t = \alpha v_{t-1} + (1-\alpha) g_t^2,\quad "
               r"\theta_t = \theta_{t-1} - \eta \frac{g_t}{\sqrt{v_t} + \epsilon}",
    "adam": r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\; v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,"
            r"\; \hat m_t = \frac{m_t}{1-\beta_1^t},\; \hat v_t = \frac{v_t}{1-\beta_2^t},"
            r"\; \theta_t = \theta_{t-1} - \eta \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
}
UPDATE["adamw"] = r"\theta_{t-1} \leftarrow \theta_{t-1}(1 - \eta\lambda),\; " + UPDATE["adam"]

OBJECTIVE = {
    "quadratic": (r"f(\theta) = \tfrac12 \sum_i a_i \theta_i^2,\quad "
                  r"g_t = \nabla f(\theta_{t-1}) = a \odot \theta_{t-1}"),
    "rosenbrock": (r"f = (1-x)^2 + 100(y-x^2)^2,\quad g_t = \big(-2(1-x) - 400x(y-x^2),\; "
                   r"200(y-x^2)\big)"),
}


def shown_steps(steps: int) -> set[int]:
    """Steps (1-based) whose state is recorded for the trace."""
    return {*range(1, min(steps, SHOWN_FIRST) + 1), steps}


def snapshot(state: dict[str, Any]) -> dict[str, list[float]]:
    """The optimiser's buffers as plain lists (the step count is left out)."""
    return {k: v.tolist() for k, v in state.items() if k != "step"}


def trace_run(p: dict[str, Any], trajectory: list[list[float]], grads: list[list[float]],
              snaps: dict[int, dict[str, list[float]]]) -> list:
    """Steps of one run: setup, the shown optimiser steps, and the result."""
    name, steps = p["name"], p["steps"]
    tr = Trace()
    used = {k: p[k] for k in SYMBOLS if p[k] is not None}
    tr.step("Hyper-parameters (PyTorch defaults where not given)",
            "超参数（未给出的取 PyTorch 默认值）",
            r",\; ".join(SYMBOLS[k] for k in used), **used)
    if p["objective"] is not None:
        extra = {"a": p["curvature"]} if p["objective"] == "quadratic" else {}
        tr.step("Objective and its gradient (taken by autograd at each step)",
                "目标函数及其梯度（每步用自动求导计算）", OBJECTIVE[p["objective"]],
                theta_0=p["theta0"], **extra)
    rule = UPDATE[_rule_key(p)]
    tr.step("Update rule", "更新规则", rule)
    wd = p["weight_decay"]
    for t in range(1, steps + 1):
        if t not in snaps:
            if t == SHOWN_FIRST + 1:
                tr.step(f"Steps {t} to {steps - 1}: the same update",
                        f"第 {t} 到 {steps - 1} 步：同样的更新", rule)
            continue
        prev = trajectory[t - 2] if t > 1 else p["theta0"]
        values: dict[str, Any] = {"t": t, "g_t": grads[t - 1]}
        formula = "g_t"
        if wd and name != "adamw":
            values["g_t_with_decay"] = [g + wd * x for g, x in zip(grads[t - 1], prev, strict=True)]
            formula = r"g_t \leftarrow g_t + \lambda \theta_{t-1}"
        values.update(_state_values(p, t, snaps[t]))
        values["theta_t"] = trajectory[t - 1]
        tr.step(f"Step {t}", f"第 {t} 步", formula + r";\; " + rule, **values)
    tr.step("Result after the last step", "最后一步之后的结果", r"\theta_T", T=steps,
            theta=trajectory[-1])
    return tr.steps


def _rule_key(p: dict[str, Any]) -> str:
    return "momentum" if p["name"] == "sgd" and p["momentum"] else p["name"]


def _state_values(p: dict[str, Any], t: int, snap: dict[str, list[float]]) -> dict[str, Any]:
    name = p["name"]
    if name in ("sgd", "momentum", "nesterov"):
        return {"b_t": snap["momentum_buffer"]} if "momentum_buffer" in snap else {}
    if name == "adagrad":
        return {"r_t": snap["sum"]}
    if name == "rmsprop":
        return {"v_t": snap["square_avg"]}
    m, v = snap["exp_avg"], snap["exp_avg_sq"]
    bias_correction1, bias_correction2 = 1 - p["beta1"] ** t, 1 - p["beta2"] ** t
    return {"m_t": m, "v_t": v, "m_hat_t": [x / bias_correction1 for x in m],
            "v_hat_t": [x / bias_correction2 for x in v]}
