"""Pooling: output sizes of max/average pooling layers (square inputs and windows).

Symbols, as printed in the steps:
    n   input size (H_in = W_in)          k   window size
    s   stride (defaults to k)            p   implicit padding on each side

The output size is taken from torch (``max_pool2d`` on the ``meta`` device);
the independent check is the closed-form formula in Python integers.
"""

from __future__ import annotations

import random
from typing import Any

import torch
import torch.nn.functional as F

from engine.kinds.conv_shapes import MAX_SIZE, int_tensor, meta_input
from engine.params import Boolean, Integer
from engine.registry import Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace


@register("pool2d.output_size")
class Pool2dOutputSize(Kind):
    r"""Output size of 2-D max/average pooling (PyTorch ``MaxPool2d``/``AvgPool2d``).

    .. math::
        n_{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1
        \quad\text{(ceil\_mode: } \lceil\cdot\rceil \text{, minus one if the last window starts in the right padding)}
    """

    title = "Pooling output size"
    title_zh = "池化输出尺寸"
    params = (
        Integer("in_size", min=1, max=MAX_SIZE, help="input height = width, n"),
        Integer("kernel", min=1, max=MAX_SIZE, help="window size, k"),
        Integer("stride", default=None, min=1, max=MAX_SIZE, help="stride, s (default: k)"),
        Integer("padding", default=0, min=0, max=MAX_SIZE, help="implicit padding per side, p (<= k/2)"),
        Boolean("ceil_mode", default=False, help="round up instead of down"),
    )
    answers = (Answer("output_size", AnswerType.INTEGER, "output height = width"),)
    check_method = "closed-form formula in Python integers, with PyTorch's ceil-mode rule"
    conventions = (
        "The stride defaults to the window size.",
        "Floor rounding by default (PyTorch, TensorFlow 'VALID'); with ceil_mode, a last window "
        "that would start in the right padding is dropped, as PyTorch does (Caffe rounds up always).",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if p["stride"] is None:
            p["stride"] = p["kernel"]
        if 2 * p["padding"] > p["kernel"]:
            raise ValueError(f"parameter 'padding': {p['padding']} must be at most half the "
                             f"window size k = {p['kernel']}")
        if p["kernel"] > p["in_size"] + 2 * p["padding"]:
            raise ValueError(f"parameter 'kernel': window {p['kernel']} is larger than the padded "
                             f"input {p['in_size'] + 2 * p['padding']}")

    @staticmethod
    def _formula(n: int, k: int, s: int, pad: int, ceil_mode: bool) -> int:
        span = n + 2 * pad - k
        if not ceil_mode:
            return span // s + 1
        out = -(-span // s) + 1
        if (out - 1) * s >= n + pad:  # the last window would start inside the right padding
            out -= 1
        return out

    def sample(self, rng: random.Random) -> dict[str, Any]:
        kernel = rng.choice([2, 2, 3, 3, 5])
        return {"in_size": rng.choice([5, 7, 13, 14, 27, 28, 55, 56, 112, 224]), "kernel": kernel,
                "stride": rng.choice([kernel, 2, 1]), "padding": rng.choice([0, 0, kernel // 2]),
                "ceil_mode": rng.random() < 0.3}

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        n, k, s, pad, ceil_mode = (p[key] for key in ("in_size", "kernel", "stride", "padding", "ceil_mode"))
        size = F.max_pool2d(meta_input(n), k, s, pad, ceil_mode=ceil_mode).shape[-1]
        rounding = r"\left\lceil" if ceil_mode else r"\left\lfloor"
        closing = r"\right\rceil" if ceil_mode else r"\right\rfloor"
        t = Trace()
        t.step("Room for the window to slide", "窗口可滑动的距离", r"n + 2p - k",
               n=n, p=pad, k=k, span=n + 2 * pad - k)
        t.step("Divide by the stride, round " + ("up" if ceil_mode else "down") + ", add one",
               "除以步幅、" + ("向上" if ceil_mode else "向下") + "取整、再加一",
               rf"{rounding} \frac{{n + 2p - k}}{{s}} {closing} + 1", s=s,
               raw=(-(-(n + 2 * pad - k) // s) if ceil_mode else (n + 2 * pad - k) // s) + 1)
        if ceil_mode:
            t.step("Drop a last window that would start in the right padding",
                   "若最后一个窗口起点落在右侧补零中则舍去",
                   r"(n_{out}-1)s \ge n + p \Rightarrow n_{out} \leftarrow n_{out} - 1",
                   output_size=size)
        return Computed({"output_size": size}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"output_size": self._formula(p["in_size"], p["kernel"], p["stride"],
                                             p["padding"], p["ceil_mode"])}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        n, k, s, pad, ceil_mode = (p[key] for key in ("in_size", "kernel", "stride", "padding", "ceil_mode"))
        return [
            Misconception("wrong_rounding", "Rounded the wrong way (ceil vs floor)",
                          "取整方向错了（向上/向下）",
                          {"output_size": self._formula(n, k, s, pad, not ceil_mode)}),
            Misconception("padding_once", "Counted the padding on one side only", "补零只算了一侧",
                          {"output_size": (n + pad - k) // s + 1}),
            Misconception("n_over_k", "Divided the input by the window size", "直接用输入除以窗口大小",
                          {"output_size": n // k}),
        ]

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        n, k, s, pad = (int_tensor(ps, key, device) for key in ("in_size", "kernel", "stride", "padding"))
        ceil = torch.tensor([p["ceil_mode"] for p in ps], dtype=torch.bool, device=device)
        span = n + 2 * pad - k
        floor_out = torch.div(span, s, rounding_mode="floor") + 1
        ceil_out = -torch.div(-span, s, rounding_mode="floor") + 1
        ceil_out = ceil_out - ((ceil_out - 1) * s >= n + pad).to(torch.int64)
        sizes = torch.where(ceil, ceil_out, floor_out)
        return [{"output_size": v} for v in sizes.tolist()]
