"""The gate equations of the recurrent cells, written out twice outside ``rnn.py``'s solve:

* ``cell_numpy``: one variant in numpy float64 (the independent check, and, with a
  mistake switched on, the answers that mistake produces);
* ``batch_cell``: many variants of one shape in batched torch (``solve_batch``).

Symbols and conventions are those of ``engine.kinds.rnn``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from engine.registry import DTYPE

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # G: stacked gate blocks in W_ih and W_hh


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * v))  # σ(v) without overflow for large |v|


@dataclass(frozen=True)
class CellArrays:
    """One variant's vectors and matrices as numpy float64 arrays (converted once)."""

    cell: str
    nonlinearity: str
    x: np.ndarray
    h: np.ndarray
    c: np.ndarray | None
    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray

    @classmethod
    def of(cls, p: dict[str, Any]) -> CellArrays:
        w = p["weights"]
        arrays = [np.array(v, dtype=np.float64) for v in
                  (p["x"], p["h"], w["w_ih"], w["w_hh"], w["b_ih"], w["b_hh"])]
        c = None if p["c"] is None else np.array(p["c"], dtype=np.float64)
        x, h, w_ih, w_hh, b_ih, b_hh = arrays
        return cls(p["cell"], p["nonlinearity"], x, h, c, w_ih, w_hh, b_ih, b_hh)


def cell_numpy(
    a: CellArrays,
    *,
    swap_z: bool = False,
    reset_before: bool = False,
    no_forget: bool = False,
    h_without_tanh: bool = False,
    tanh_gates: bool = False,
    one_bias: bool = False,
    ignore_h: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """h', c' and the named gates of one step; the keyword flags switch on a named mistake."""
    H = len(a.h)
    h = np.zeros(H) if ignore_h else a.h
    b_hh = np.zeros_like(a.b_hh) if one_bias else a.b_hh
    gate = np.tanh if tanh_gates else _sigmoid
    gi = a.w_ih @ a.x + a.b_ih  # (G·H,)
    gh = a.w_hh @ h + b_hh  # (G·H,)
    if a.cell == "lstm":
        pre = gi + gh
        i, f, o = gate(pre[:H]), gate(pre[H:2 * H]), gate(pre[3 * H:])
        g = np.tanh(pre[2 * H:3 * H])
        c_new = i * g if no_forget else f * a.c + i * g
        h_new = o * c_new if h_without_tanh else o * np.tanh(c_new)
        return h_new, c_new, {"i": i, "f": f, "g": g, "o": o}
    if a.cell == "gru":
        r = gate(gi[:H] + gh[:H])
        z = gate(gi[H:2 * H] + gh[H:2 * H])
        if reset_before:  # W_hn (r ⊙ h) + b_hn
            hidden_n = a.w_hh[2 * H:] @ (r * h) + b_hh[2 * H:]
        else:  # r ⊙ (W_hn h + b_hn)
            hidden_n = r * gh[2 * H:]
        n = np.tanh(gi[2 * H:] + hidden_n)
        h_new = z * n + (1.0 - z) * h if swap_z else (1.0 - z) * n + z * h
        return h_new, h_new, {"r": r, "z": z, "n": n}
    pre = gi + gh
    h_new = np.maximum(pre, 0.0) if a.nonlinearity == "relu" else np.tanh(pre)
    return h_new, h_new, {"a": pre}


def batch_cell(
    cell: str, nonlinearity: str, ps: list[dict[str, Any]], device: torch.device
) -> list[dict[str, Any]]:
    """Answers for variants that share the cell type and the sizes, in batched torch ops."""

    def stack(key: str, source: str | None = None) -> torch.Tensor:
        rows = [p["weights"][key] if source == "weights" else p[key] for p in ps]
        return torch.tensor(rows, dtype=DTYPE, device=device)

    x, h = stack("x"), stack("h")  # (B, I), (B, H)
    w_ih, w_hh = stack("w_ih", "weights"), stack("w_hh", "weights")  # (B, G·H, I), (B, G·H, H)
    gi = torch.bmm(w_ih, x[:, :, None])[:, :, 0] + stack("b_ih", "weights")  # (B, G·H)
    gh = torch.bmm(w_hh, h[:, :, None])[:, :, 0] + stack("b_hh", "weights")
    if cell == "lstm":
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c_new = f * stack("c") + i * g
        h_new = o * torch.tanh(c_new)
        gates = {"i": i, "f": f, "g": g, "o": o}
    elif cell == "gru":
        (i_r, i_z, i_n), (h_r, h_z, h_n) = gi.chunk(3, dim=1), gh.chunk(3, dim=1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        h_new = c_new = (1.0 - z) * n + z * h
        gates = {"r": r, "z": z, "n": n}
    else:
        a = gi + gh
        h_new = c_new = torch.relu(a) if nonlinearity == "relu" else torch.tanh(a)
        gates = {"a": a}
    h_list, c_list = h_new.tolist(), c_new.tolist()
    gate_lists = {k: v.tolist() for k, v in gates.items()}
    return [{"h_new": h_list[b], "c_new": c_list[b],
             "gates": {k: v[b] for k, v in gate_lists.items()}} for b in range(len(ps))]
