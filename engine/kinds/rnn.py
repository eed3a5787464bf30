"""One step of a recurrent cell: Elman RNN, LSTM and GRU, in PyTorch's layout and gate order.

Symbols, as printed in the steps (I = input size, H = hidden size, G gates):
    x  input (I)               h  previous hidden state (H)    c  previous cell state (LSTM)
    W_ih (G·H × I), W_hh (G·H × H), b_ih, b_hh (G·H): the gates' rows stacked in PyTorch's order
    LSTM: i, f, g, o          GRU: r, z, n         RNN: a (pre-activation, G = 1)
    σ  logistic sigmoid       ⊙  element-wise product
    h', c'  new hidden and cell state

The new state is taken from torch's fused cell ops (``torch.lstm_cell``,
``torch.gru_cell``, ``torch.rnn_tanh_cell``/``rnn_relu_cell``: what ``nn.LSTMCell``
and friends call); the gates come from the explicit equations in torch. The
independent check writes the same equations in numpy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch

from engine.kinds.rnn_gates import GATES, CellArrays, batch_cell, cell_numpy
from engine.params import MAX_ELEMENTS, Array, Choice, Param
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

VALUE_LIMIT = 1e6
MAX_SIZE = 256  # input and hidden sizes
_CELL_NAME = {"rnn": "an RNN", "lstm": "an LSTM", "gru": "a GRU"}
_WEIGHT_KEYS = ("w_ih", "w_hh", "b_ih", "b_hh")


@dataclass(frozen=True)
class CellWeights(Param):
    """The weights of one cell: {"w_ih", "w_hh", "b_ih", "b_hh"} as nested lists.

    The matrices are required; a missing bias means no bias (zeros). Shapes are
    checked against the input and hidden sizes by the kind, which knows them.
    """

    max_elements: int = MAX_ELEMENTS
    type_name: str = field(default="object", init=False)

    @cached_property
    def _entries(self) -> dict[str, Array]:
        """The Array declaration each entry is cleaned with (matrices 2-D, biases 1-D)."""
        return {key: Array(self.name, ndim=(2,) if key.startswith("w") else (1,),
                           min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=self.max_elements)
                for key in _WEIGHT_KEYS}

    def clean(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(f"expected an object with keys {', '.join(_WEIGHT_KEYS)}, "
                             f"got {value!r}")
        unknown = sorted(set(value) - set(_WEIGHT_KEYS))
        if unknown:
            raise self.error(f"unknown entry '{unknown[0]}'; expected {', '.join(_WEIGHT_KEYS)}")
        out = {}
        for key in _WEIGHT_KEYS:
            if value.get(key) is None:
                if key.startswith("w"):
                    raise self.error(f"{key} is required")
                continue
            try:
                out[key] = self._entries[key].clean(value[key])
            except ValueError as err:  # say which entry was wrong
                detail = str(err).removeprefix(f"parameter '{self.name}': ")
                raise self.error(f"{key}: {detail}") from None
        return out

    def schema(self) -> dict[str, Any]:
        out = super().schema()
        out.update({"keys": list(_WEIGHT_KEYS), "required_keys": ["w_ih", "w_hh"],
                    "max_elements": self.max_elements})
        return out


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


@register("rnn_cell")
class RnnCell(Kind):
    r"""One step of an RNN, LSTM or GRU cell (PyTorch equations, layout and gate order).

    .. math::
        \text{RNN: } a = W_{ih} x + b_{ih} + W_{hh} h + b_{hh},\quad h' = \tanh(a)

        \text{LSTM: } [i; f; g; o] = W_{ih} x + b_{ih} + W_{hh} h + b_{hh}
        \text{ (then } \sigma, \sigma, \tanh, \sigma),\quad
        c' = f \odot c + i \odot g,\quad h' = o \odot \tanh(c')

        \text{GRU: } r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}),\quad
        z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}),

        n = \tanh\big(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\big),\quad
        h' = (1 - z) \odot n + z \odot h
    """

    title = "Recurrent cell step (RNN / LSTM / GRU)"
    title_zh = "循环单元的一步计算（RNN / LSTM / GRU）"
    params = (
        Choice("cell", choices=("rnn", "lstm", "gru"), help="cell type"),
        Array("x", ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_SIZE,
              help="input vector x (length I)"),
        Array("h", ndim=(1,), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_SIZE,
              help="previous hidden state h (length H)"),
        Array("c", ndim=(1,), default=None, min=-VALUE_LIMIT, max=VALUE_LIMIT,
              max_elements=MAX_SIZE, help="previous cell state c (LSTM only; default zeros)"),
        CellWeights("weights", help="{w_ih: G·H×I, w_hh: G·H×H, b_ih: G·H, b_hh: G·H}; "
                    "G = 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n), 1 (RNN)"),
        Choice("nonlinearity", default="tanh", choices=("tanh", "relu"),
               help="RNN only: tanh or relu"),
    )
    answers = (
        Answer("h_new", AnswerType.VECTOR, "new hidden state h'"),
        Answer("c_new", AnswerType.VECTOR,
               "LSTM cell state c'; equals h_new for cells without one (RNN, GRU)"),
        Answer("gates", AnswerType.OBJECT,
               "gate activations by name: LSTM i, f, g, o; GRU r, z, n; RNN a (pre-activation)"),
    )
    check_method = "the gate equations written out in numpy float64"
    conventions = (
        "PyTorch layout: W_ih is (G·H)×I with the gates' rows stacked in the order i, f, g, o "
        "(LSTM) or r, z, n (GRU); two biases b_ih and b_hh, both added.",
        "GRU as PyTorch (and cuDNN, Keras reset_after=True): r multiplies W_hn h + b_hn after the "
        "matmul, not h before it as in Cho et al. 2014; h' = (1 − z) ⊙ n + z ⊙ h, so z keeps the "
        "old state, as in Cho et al. (Chung et al. 2014 and many blogs swap z and 1 − z).",
        "LSTM without peepholes; the cell state c defaults to zeros.",
        "c_new equals h_new for the RNN and the GRU, which keep no separate cell state.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        cell, w = p["cell"], p["weights"]
        size_in, hidden = len(p["x"]), len(p["h"])
        rows = GATES[cell] * hidden
        who = f"{_CELL_NAME[cell]} with input {size_in} and hidden {hidden}"
        for key, want in (("w_ih", (rows, size_in)), ("w_hh", (rows, hidden))):
            have = (len(w[key]), len(w[key][0]))
            if have != want:
                raise ValueError(f"parameter 'weights': {key} must be {_fmt_shape(want)} for "
                                 f"{who}, got {_fmt_shape(have)}")
        for key in ("b_ih", "b_hh"):
            if key not in w:
                w[key] = [0.0] * rows
            elif len(w[key]) != rows:
                raise ValueError(f"parameter 'weights': {key} must have {rows} entries for "
                                 f"{who}, got {len(w[key])}")
        if cell != "lstm" and p["c"] is not None:
            raise ValueError(f"parameter 'c': only an LSTM has a cell state; leave c unset for "
                             f"{_CELL_NAME[cell]}")
        if cell == "lstm":
            if p["c"] is None:
                p["c"] = [0.0] * hidden
            elif len(p["c"]) != hidden:
                raise ValueError(f"parameter 'c': must have length H = {hidden} like h, "
                                 f"got {len(p['c'])}")
        if cell != "rnn" and p["nonlinearity"] != "tanh":
            raise ValueError(f"parameter 'nonlinearity': only the plain RNN cell takes "
                             f"'{p['nonlinearity']}'; {_CELL_NAME[cell]} uses tanh")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        cell = rng.choice(("rnn", "lstm", "gru"))
        size_in, hidden = rng.randint(2, 3), 2
        rows = GATES[cell] * hidden

        def vec(n: int) -> list[float]:
            return [round(rng.uniform(-1, 1), 1) for _ in range(n)]

        weights = {"w_ih": [vec(size_in) for _ in range(rows)],
                   "w_hh": [vec(hidden) for _ in range(rows)],
                   "b_ih": vec(rows), "b_hh": vec(rows)}
        p = {"cell": cell, "x": vec(size_in), "h": vec(hidden), "weights": weights}
        if cell == "lstm":
            p["c"] = vec(hidden)
        elif cell == "rnn" and rng.random() < 0.2:
            p["nonlinearity"] = "relu"
        return p

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return not any(p["x"]) and not any(p["h"])

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        cell, w = p["cell"], p["weights"]
        H = len(p["h"])
        x, h = (torch.tensor(p[k], dtype=DTYPE, device=device) for k in ("x", "h"))
        w_ih, w_hh, b_ih, b_hh = (torch.tensor(w[k], dtype=DTYPE, device=device)
                                  for k in _WEIGHT_KEYS)
        gi = torch.addmv(b_ih, w_ih, x)  # (G·H,): W_ih x + b_ih
        gh = torch.addmv(b_hh, w_hh, h)  # (G·H,): W_hh h + b_hh
        t = Trace()
        t.step("Input and hidden contributions to every gate", "输入与隐藏状态对各门的贡献",
               r"W_{ih} x + b_{ih},\ W_{hh} h + b_{hh}", input_part=gi.tolist(),
               hidden_part=gh.tolist())
        x, h = x[None], h[None]  # (1, I), (1, H): the fused cell ops take a batch
        if cell == "lstm":
            c = torch.tensor([p["c"]], dtype=DTYPE, device=device)  # (1, H)
            h_new, c_new = torch.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
            pre = gi + gh
            act = torch.sigmoid(pre)
            act[2 * H:3 * H] = torch.tanh(pre[2 * H:3 * H])
            a = act.tolist()
            gates = {"i": a[:H], "f": a[H:2 * H], "g": a[2 * H:3 * H], "o": a[3 * H:]}
            h_new, c_new = h_new[0].tolist(), c_new[0].tolist()
            t.step("Gates (input, forget, candidate, output)", "各门（输入、遗忘、候选、输出）",
                   r"i, f, o = \sigma(\cdot),\ g = \tanh(\cdot)", **gates)
            t.step("New cell state", "新的细胞状态", r"c' = f \odot c + i \odot g",
                   c=p["c"], c_new=c_new)
            t.step("New hidden state", "新的隐藏状态", r"h' = o \odot \tanh(c')", h_new=h_new)
        elif cell == "gru":
            h_new = c_new = torch.gru_cell(x, h, w_ih, w_hh, b_ih, b_hh)[0].tolist()
            rz = torch.sigmoid(gi[:2 * H] + gh[:2 * H])
            hidden_n = gh[2 * H:]  # W_hn h + b_hn
            n = torch.tanh(gi[2 * H:] + rz[:H] * hidden_n)
            a = rz.tolist()
            gates = {"r": a[:H], "z": a[H:], "n": n.tolist()}
            t.step("Reset and update gates", "重置门与更新门",
                   r"r = \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}),\ "
                   r"z = \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz})", r=gates["r"], z=gates["z"])
            t.step("Candidate: the reset gate scales the hidden part after its matmul",
                   "候选状态：重置门作用在隐藏部分的矩阵乘法之后",
                   r"n = \tanh\big(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})\big)",
                   hidden_part=hidden_n.tolist(), n=gates["n"])
            t.step("New hidden state: z keeps the old state", "新的隐藏状态：z 保留旧状态",
                   r"h' = (1 - z) \odot n + z \odot h", h_new=h_new)
        else:
            relu = p["nonlinearity"] == "relu"
            cell_op = torch.rnn_relu_cell if relu else torch.rnn_tanh_cell
            h_new = c_new = cell_op(x, h, w_ih, w_hh, b_ih, b_hh)[0].tolist()
            gates = {"a": (gi + gh).tolist()}
            t.step("Pre-activation", "激活前的值", r"a = W_{ih} x + b_{ih} + W_{hh} h + b_{hh}",
                   a=gates["a"])
            t.step("New hidden state", "新的隐藏状态",
                   r"h' = \max(a, 0)" if relu else r"h' = \tanh(a)", h_new=h_new)
        return Computed({"h_new": h_new, "c_new": c_new, "gates": gates}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        h_new, c_new, gates = cell_numpy(CellArrays.of(p))
        return {"h_new": h_new, "c_new": c_new, "gates": gates}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        cell = p["cell"]

        arrays = CellArrays.of(p)

        def wrong(key: str, label: str, label_zh: str, **mistake: bool) -> Misconception:
            h_new, c_new, _ = cell_numpy(arrays, **mistake)
            return Misconception(key, label, label_zh, {"h_new": h_new, "c_new": c_new})

        out = []
        if cell == "gru":
            out += [
                wrong("gru_z_swapped", "GRU with z and 1 − z swapped: h' = z ⊙ n + (1 − z) ⊙ h",
                      "GRU 中 z 与 1 − z 互换：h' = z ⊙ n + (1 − z) ⊙ h", swap_z=True),
                wrong("gru_reset_before_matmul",
                      "GRU reset gate applied to h before the matmul (the original paper's form)",
                      "GRU 重置门在矩阵乘法之前作用于 h（原论文的形式）", reset_before=True),
            ]
        if cell == "lstm":
            out += [
                wrong("lstm_no_forget_gate", "LSTM without the forget gate: c' = i ⊙ g",
                      "LSTM 漏掉遗忘门：c' = i ⊙ g", no_forget=True),
                wrong("lstm_h_without_tanh", "LSTM output without tanh: h' = o ⊙ c'",
                      "LSTM 输出漏掉 tanh：h' = o ⊙ c'", h_without_tanh=True),
            ]
        if cell == "rnn":
            out.append(wrong("ignored_h", "Ignored the previous hidden state (W_hh h left out)",
                             "忽略了上一时刻的隐藏状态（漏掉 W_hh h）", ignore_h=True))
        else:
            out.append(wrong("tanh_gates", "tanh instead of sigmoid on the gates",
                             "门上用了 tanh 而不是 sigmoid", tanh_gates=True))
        if any(p["weights"]["b_hh"]):
            out.append(wrong("one_bias", "Used one bias only (dropped b_hh)",
                             "只用了一个偏置（漏掉 b_hh）", one_bias=True))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple, list[int]] = {}
        for i, p in enumerate(ps):
            key = (p["cell"], p["nonlinearity"], len(p["x"]), len(p["h"]))
            groups.setdefault(key, []).append(i)
        for (cell, nonlinearity, _, _), idx in groups.items():
            for i, answer in zip(idx, batch_cell(cell, nonlinearity, [ps[i] for i in idx], device),
                                 strict=True):
                results[i] = answer
        return results  # type: ignore[return-value]

