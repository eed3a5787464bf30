"""The delta rule by hand, in numpy float64: the independent check of ``backprop.two_layer``.

Same symbols as ``engine.kinds.backprop``::

    net_h = W1 x + b1,  out_h = f(net_h),  net_o = W2 out_h + b2,  out_o = f(net_o)
    E = c Σ_k (t_k - out_o,k)²     (c = ½ for half_sse, 1/n_o for mse, 1 for plain sse)
    δ_o = ∂E/∂out_o ⊙ f'(net_o),   ∂E/∂W2 = δ_o out_hᵀ,   ∂E/∂b2 = δ_o
    δ_h = (W2ᵀ δ_o) ⊙ f'(net_h),   ∂E/∂W1 = δ_h xᵀ,       ∂E/∂b1 = δ_h
    W ← W - η ∂E/∂W                 (b ← b - η ∂E/∂b only when update_bias)

The computation runs for a stack of *ways* at once (a leading axis k): the right way,
and ways that each get one thing wrong, so the misconceptions are the same hand
computation with one switch flipped (see ``Way``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")
LOSSES = ("half_sse", "mse")
_LOSS_FACTOR = {"half_sse": lambda n_o: 0.5, "mse": lambda n_o: 1.0 / n_o, "sse": lambda n_o: 1.0}


@dataclass(frozen=True)
class Way:
    """How the delta rule is carried out; the defaults are the right way."""

    loss: str | None = None  # None: the params' loss; "sse" drops the ½ or the mean
    lr: float | None = None  # None: the params' learning rate
    derivative: bool = True  # False: δ without the factor f'(net)
    direction: float = 1.0  # -1: the gradient's sign flipped
    stale_w2: bool = False  # True: δ_h through the already-updated W2
    net_in_grad: bool = False  # True: ∂E/∂W2 = δ_o net_hᵀ instead of δ_o out_hᵀ


RIGHT = (Way(),)


def per_unit(bias: float | list[float], units: int) -> list[float]:
    """A shared bias number becomes one (equal) bias per unit."""
    return list(bias) if isinstance(bias, list) else [float(bias)] * units


def activation_numpy(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(z) and f'(z). 'sigmoid_flipped' is the typo 1 / (1 + e^{+z})."""
    if name == "sigmoid":
        out = 1.0 / (1.0 + np.exp(-z))
        return out, out * (1.0 - out)
    if name == "sigmoid_flipped":
        out = 1.0 / (1.0 + np.exp(z))
        return out, -out * (1.0 - out)
    if name == "tanh":
        out = np.tanh(z)
        return out, 1.0 - out * out
    if name == "relu":
        return np.where(z > 0, z, 0.0), (z > 0).astype(np.float64)  # f'(0) = 0
    if name == "identity":
        return z, np.ones_like(z)
    raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}")


def forward(p: dict[str, Any], activation: str | None = None) -> dict[str, Any]:
    """net_h, out_h, net_o, out_o and E (the params' loss) of one example."""
    act = activation or p["activation"]
    x, t = np.asarray(p["x"], dtype=np.float64), np.asarray(p["target"], dtype=np.float64)
    w1, w2 = np.asarray(p["w1"], dtype=np.float64), np.asarray(p["w2"], dtype=np.float64)
    net_h = w1 @ x + np.asarray(per_unit(p["b1"], len(w1)), dtype=np.float64)
    out_h, _ = activation_numpy(act, net_h)
    net_o = w2 @ out_h + np.asarray(per_unit(p["b2"], len(w2)), dtype=np.float64)
    out_o, _ = activation_numpy(act, net_o)
    diff = out_o - t
    e = _LOSS_FACTOR[p["loss"]](len(t)) * float(diff @ diff)
    return {"net_h": net_h, "hidden": out_h, "net_o": net_o, "output": out_o, "loss": e}


def delta_rule(p: dict[str, Any], ways: tuple[Way, ...] = RIGHT) -> dict[str, np.ndarray]:
    """Every answer of ``backprop.two_layer`` (and net_h, net_o) for each way, on axis 0."""
    act, n_ways = p["activation"], len(ways)
    x, t = np.asarray(p["x"], dtype=np.float64), np.asarray(p["target"], dtype=np.float64)
    w1, w2 = np.asarray(p["w1"], dtype=np.float64), np.asarray(p["w2"], dtype=np.float64)
    b1 = np.asarray(per_unit(p["b1"], len(w1)), dtype=np.float64)
    b2 = np.asarray(per_unit(p["b2"], len(w2)), dtype=np.float64)
    n_o = len(t)
    c = np.array([_LOSS_FACTOR[w.loss or p["loss"]](n_o) for w in ways])  # (k,)
    eta = np.array([p["lr"] if w.lr is None else w.lr for w in ways])  # (k,)
    sign = np.array([w.direction for w in ways])[:, None]  # (k, 1)
    keep_fprime = np.array([w.derivative for w in ways])[:, None]  # (k, 1)
    stale = np.array([w.stale_w2 for w in ways])[:, None, None]  # (k, 1, 1)
    net_in = np.array([w.net_in_grad for w in ways])[:, None]  # (k, 1)

    net_h = w1 @ x + b1  # (hidden,)
    out_h, fprime_h = activation_numpy(act, net_h)
    net_o = w2 @ out_h + b2  # (out,)
    out_o, fprime_o = activation_numpy(act, net_o)
    diff = out_o - t
    e = c * float(diff @ diff)  # (k,)
    de_dout = 2.0 * c[:, None] * diff  # (k, out)

    delta_o = sign * de_dout * np.where(keep_fprime, fprime_o, 1.0)  # (k, out)
    h_used = np.where(net_in, net_h, out_h)  # (k, hidden)
    grad_w2 = delta_o[:, :, None] * h_used[:, None, :]  # (k, out, hidden)
    w2_new = w2 - eta[:, None, None] * grad_w2
    w2_back = np.where(stale, w2_new, w2)  # (k, out, hidden)
    back = (w2_back.transpose(0, 2, 1) @ delta_o[:, :, None])[:, :, 0]  # (k, hidden): W2ᵀ δ_o
    delta_h = back * np.where(keep_fprime, fprime_h, 1.0)  # (k, hidden)
    grad_w1 = delta_h[:, :, None] * x  # (k, hidden, in)
    w1_new = w1 - eta[:, None, None] * grad_w1
    bias_eta = (eta if p["update_bias"] else np.zeros(n_ways))[:, None]
    b1_new, b2_new = b1 - bias_eta * delta_h, b2 - bias_eta * delta_o

    out_h_after, _ = activation_numpy(act, w1_new @ x + b1_new)  # (k, hidden)
    out_o_after, _ = activation_numpy(act, (w2_new @ out_h_after[:, :, None])[:, :, 0] + b2_new)
    diff_after = out_o_after - t  # (k, out)
    return {
        "net_h": net_h, "net_o": net_o,
        "hidden": np.broadcast_to(out_h, (n_ways, len(out_h))),
        "output": np.broadcast_to(out_o, (n_ways, n_o)), "loss": e,
        "grad_w1": grad_w1, "grad_b1": delta_h, "grad_w2": grad_w2, "grad_b2": delta_o,
        "w1_new": w1_new, "w2_new": w2_new, "b1_new": b1_new, "b2_new": b2_new,
        "loss_after": c * np.einsum("ko,ko->k", diff_after, diff_after),
    }


def indistinguishable(ref: dict[str, np.ndarray], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """For each key, a (k,) mask: is way k's value within rtol 1e-6 of way 0's?"""
    n_ways = len(ref["loss"])
    parts = [np.reshape(ref[key], (n_ways, -1)) for key in keys]
    flat = np.concatenate(parts, axis=1)  # (k, all answer numbers)
    close = np.abs(flat - flat[0]) <= 1e-9 + 1e-6 * np.abs(flat[0])
    starts = np.cumsum([0] + [part.shape[1] for part in parts[:-1]])
    same = np.logical_and.reduceat(close, starts, axis=1)  # (k, keys)
    return dict(zip(keys, same.T, strict=True))
