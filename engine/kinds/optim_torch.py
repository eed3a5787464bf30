"""One optimiser step with ``torch.optim``'s functional API, and the objectives in torch.

``torch.optim.<name>.<name>(...)`` is the single-tensor kernel that ``Optimizer.step()``
runs; calling it directly skips the per-call hooks and profiling wrapper (and the lazy
import of ``torch._dynamo`` that the Optimizer classes trigger), which keeps a
one-to-three-step solve well under a millisecond. The state dict uses torch.optim's keys.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import adagrad as F_adagrad
from torch.optim import adam as F_adam
from torch.optim import rmsprop as F_rmsprop
from torch.optim import sgd as F_sgd

from engine.registry import DTYPE

SGD_FAMILY = ("sgd", "momentum", "nesterov")


def torch_step(p: dict[str, Any], theta: torch.Tensor, grad: torch.Tensor,
               state: dict[str, Any]) -> None:
    """One step of ``torch.optim``'s functional API, the single-tensor kernel that
    ``Optimizer.step()`` runs, updating ``theta`` and ``state`` in place (no per-call hooks)."""
    name, lr, wd = p["name"], p["lr"], p["weight_decay"]
    if name in SGD_FAMILY:
        buffers = [state.get("momentum_buffer")]
        F_sgd.sgd([theta], [grad], buffers, foreach=False, weight_decay=wd,
                  momentum=p["momentum"], lr=lr, dampening=0.0, nesterov=name == "nesterov",
                  maximize=False)
        if p["momentum"]:
            state["momentum_buffer"] = buffers[0]
        state["step"] += 1
    elif name == "adagrad":
        F_adagrad.adagrad([theta], [grad], [state["sum"]], [state["step"]], foreach=False,
                          lr=lr, weight_decay=wd, lr_decay=0.0, eps=p["eps"], maximize=False)
    elif name == "rmsprop":
        F_rmsprop.rmsprop([theta], [grad], [state["square_avg"]], [], [], [state["step"]],
                          foreach=False, lr=lr, alpha=p["alpha"], eps=p["eps"],
                          weight_decay=wd, momentum=0.0, centered=False)
    else:
        F_adam.adam([theta], [grad], [state["exp_avg"]], [state["exp_avg_sq"]], [],
                    [state["step"]], foreach=False, decoupled_weight_decay=name == "adamw",
                    amsgrad=False, beta1=p["beta1"], beta2=p["beta2"], lr=lr, weight_decay=wd,
                    eps=p["eps"], maximize=False)


def initial_state(p: dict[str, Any], theta: torch.Tensor) -> dict[str, Any]:
    """torch.optim's state before the first step (buffers at zero, step 0)."""
    state: dict[str, Any] = {"step": torch.zeros((), dtype=torch.float32)}
    zeros = torch.zeros_like
    if p["name"] == "adagrad":
        state["sum"] = zeros(theta)
    elif p["name"] == "rmsprop":
        state["square_avg"] = zeros(theta)
    elif p["name"] in ("adam", "adamw"):
        state["exp_avg"], state["exp_avg_sq"] = zeros(theta), zeros(theta)
    return state


def objective_loss(p: dict[str, Any], theta: torch.Tensor) -> torch.Tensor:
    """f(θ): ½ Σ a_i θ_i² or (1 − x)² + 100(y − x²)²."""
    if p["objective"] == "rosenbrock":
        x, y = theta[0], theta[1]
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    a = torch.tensor(p["curvature"], dtype=DTYPE, device=theta.device)
    return 0.5 * (a * theta**2).sum()
