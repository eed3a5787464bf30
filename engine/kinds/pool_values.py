"""Max and average pooling of actual numbers (PyTorch ``MaxPool2d`` / ``AvgPool2d``).

Symbols, as printed in the steps:
    X   input, C × H × W (a 2-D input is one channel)
    k   window size          s   stride (defaults to k)          p   implicit padding per side
    X̃   padded input: -inf for max pooling, 0 for average pooling
    N   number of window cells inside the padded input (the average's divisor)
    Y   output

Kept apart from ``pool.py`` (output sizes only) so that each module stays one idea.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.kinds.conv import batch_tensor, dims
from engine.kinds.pool import Pool2dOutputSize
from engine.params import Array, Boolean, Choice, Integer
from engine.registry import Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

SHOWN_WINDOWS = 4  # windows worked out in the trace
out_size = Pool2dOutputSize._formula  # (n, k, s, p, ceil_mode) -> PyTorch's output size


def _window(i: int, s: int, k: int, pad: int, n: int) -> tuple[int, int, int]:
    """Start, end (inside the padded input) and clipped start/end of window ``i`` along one axis."""
    start = i * s - pad
    end = min(start + k, n + pad)
    return start, end, max(start, 0), min(end, n)


def pool_reference(x: np.ndarray, k: int, s: int, pad: int, mode: str,
                   ceil_mode: bool) -> np.ndarray:
    """Y[c, i, j] by an explicit loop over output positions (all channels at once)."""
    c, h, w = x.shape
    h_out, w_out = out_size(h, k, s, pad, ceil_mode), out_size(w, k, s, pad, ceil_mode)
    y = np.empty((c, h_out, w_out))
    for i in range(h_out):
        r0, r1, top, bottom = _window(i, s, k, pad, h)
        for j in range(w_out):
            c0, c1, left, right = _window(j, s, k, pad, w)
            cells = x[:, top:bottom, left:right]  # padding cells add 0 (avg) or never win (max)
            if mode == "max":
                y[:, i, j] = cells.max(axis=(1, 2))
            else:
                y[:, i, j] = cells.sum(axis=(1, 2)) / ((r1 - r0) * (c1 - c0))  # N counts padding
    return y


def _shown(a: np.ndarray) -> Any:
    """Nested lists with the -inf padding of max pooling shown as empty cells (None)."""
    if a.ndim == 0:
        return float(a) if np.isfinite(a) else None
    return [_shown(v) for v in a]


@register("pool2d")
class Pool2d(Kind):
    r"""2-D max or average pooling, PyTorch semantics.

    .. math::
        Y_{c,i,j} = \max_{0 \le u,v < k} \tilde X_{c,\, s i + u,\, s j + v}
        \quad\text{or}\quad
        Y_{c,i,j} = \frac{1}{N_{i,j}} \sum_{0 \le u,v < k} \tilde X_{c,\, s i + u,\, s j + v}

        H_{out} = \left\lfloor \frac{H + 2p - k}{s} \right\rfloor + 1
    """

    title = "2-D pooling"
    title_zh = "二维池化计算"
    params = (
        Array("input", ndim=(2, 3), min=-1e6, max=1e6, help="input X: H×W or C×H×W"),
        Integer("kernel", min=1, max=32, help="window size k"),
        Integer("stride", default=None, min=1, max=32, help="stride s (default: k)"),
        Integer("padding", default=0, min=0, max=16, help="implicit padding per side p (<= k/2)"),
        Choice("mode", default="max", choices=("max", "avg"), help="max or average pooling"),
        Boolean("ceil_mode", default=False, help="round the output size up instead of down"),
    )
    answers = (
        Answer("output", AnswerType.TENSOR, "Y, same number of dimensions as the input"),
        Answer("output_shape", AnswerType.SHAPE, "shape of Y"),
    )
    check_method = "explicit loops over output windows in numpy float64"
    conventions = (
        "The stride defaults to the window size; each channel is pooled on its own.",
        "Max pooling pads with -inf, so padding never wins the maximum.",
        "Average pooling pads with zeros and counts them in the divisor (count_include_pad=True, "
        "PyTorch's default); with ceil_mode a window hanging past the padded input divides by "
        "the cells inside it only.",
        "Floor rounding of the output size unless ceil_mode; with ceil_mode a last window that "
        "would start in the right padding is dropped, as PyTorch does.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        if p["stride"] is None:
            p["stride"] = p["kernel"]
        k, pad = p["kernel"], p["padding"]
        if 2 * pad > k:
            raise ValueError(f"parameter 'padding': {pad} must be at most half the window size "
                             f"k = {k}")
        h, w = dims(p["input"])[-2:]
        if k > min(h, w) + 2 * pad:
            raise ValueError(f"parameter 'kernel': window {k} is larger than the padded input "
                             f"{h + 2 * pad}×{w + 2 * pad}")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        size, k = rng.randint(4, 6), rng.choice([2, 2, 3])
        channels = 2 if rng.random() < 0.2 else 1
        image = [[[rng.randint(-3, 9) for _ in range(size)] for _ in range(size)]
                 for _ in range(channels)]
        return {
            "input": image if channels == 2 else image[0],
            "kernel": k,
            "stride": rng.choice([None, None, 1, 2]),
            "padding": rng.choice([0, 0, 0, 1]),
            "mode": rng.choice(["max", "avg"]),
            "ceil_mode": rng.random() < 0.2,
        }

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return float(np.ptp(p["input"])) == 0.0

    # -- computation ------------------------------------------------------------
    @staticmethod
    def _pool(x: torch.Tensor, p: dict[str, Any], mode: str | None = None,
              ceil_mode: bool | None = None, include_pad: bool = True) -> torch.Tensor:
        mode = p["mode"] if mode is None else mode
        ceil_mode = p["ceil_mode"] if ceil_mode is None else ceil_mode
        k, s, pad = p["kernel"], p["stride"], p["padding"]
        if mode == "max":
            return F.max_pool2d(x, k, s, pad, ceil_mode=ceil_mode)
        return F.avg_pool2d(x, k, s, pad, ceil_mode=ceil_mode, count_include_pad=include_pad)

    @staticmethod
    def _input(p: dict[str, Any], device: torch.device) -> torch.Tensor:
        x = batch_tensor(p["input"], device)
        return x if x.ndim == 3 else x[None]  # (C, H, W)

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        x = self._input(p, device)
        flat = len(dims(p["input"])) == 2
        y = self._pool(x, p)  # (C, H_out, W_out)
        y = y[0] if flat else y
        t = Trace()
        self._explain(t, p, x, flat)
        rounding = (r"\left\lceil", r"\right\rceil") if p["ceil_mode"] else (r"\left\lfloor",
                                                                             r"\right\rfloor")
        t.step("Output", "输出",
               rf"H_{{out}} = {rounding[0]} \frac{{H + 2p - k}}{{s}} {rounding[1]} + 1",
               output_shape=list(y.shape), output=y)
        return Computed({"output": y, "output_shape": list(y.shape)}, t.steps)

    def _explain(self, t: Trace, p: dict[str, Any], x: torch.Tensor, flat: bool) -> None:
        k, s, pad, is_max = p["kernel"], p["stride"], p["padding"], p["mode"] == "max"
        _, h, w = x.shape
        fill = float("-inf") if is_max else 0.0
        xp = F.pad(x, (pad, pad, pad, pad), value=fill)[0].cpu().numpy()  # channel 0, for display
        if pad:
            t.step(f"Pad with {pad} ring(s) of " + ("-inf (shown empty)" if is_max else "zeros"),
                   f"在四周补 {pad} 圈" + ("负无穷（显示为空）" if is_max else "零"),
                   r"\tilde X = \operatorname{pad}_p(X)", p=pad, padded=_shown(xp))
        w_out = out_size(w, k, s, pad, p["ceil_mode"])
        shown = min(SHOWN_WINDOWS, out_size(h, k, s, pad, p["ceil_mode"]) * w_out)
        for n in range(shown):
            i, j = divmod(n, w_out)
            r0, r1, _, _ = _window(i, s, k, pad, h)
            c0, c1, _, _ = _window(j, s, k, pad, w)
            cells = xp[r0 + pad: r1 + pad, c0 + pad: c1 + pad]
            label = ((f"Window ({i}, {j})", f"窗口 ({i}, {j})") if flat else
                     (f"Window ({i}, {j}) of channel 0", f"通道 0 的窗口 ({i}, {j})"))
            if is_max:
                t.step(label[0] + ": take the largest value", label[1] + "：取最大值",
                       r"Y_{c,i,j} = \max_{u,v} \tilde X_{c,\, s i + u,\, s j + v}",
                       i=i, j=j, window=_shown(cells), max=float(cells.max()))
            else:
                t.step(label[0] + ": sum, then divide by the cell count", label[1] + "：求和后除以格子数",
                       r"Y_{c,i,j} = \frac{1}{N_{i,j}} "
                       r"\sum_{u,v} \tilde X_{c,\, s i + u,\, s j + v}",
                       i=i, j=j, window=cells, sum=float(cells.sum()), N=cells.size,
                       average=float(cells.sum()) / cells.size)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        x = np.asarray(p["input"], dtype=np.float64)
        flat = x.ndim == 2
        y = pool_reference(x[None] if flat else x, p["kernel"], p["stride"], p["padding"],
                           p["mode"], p["ceil_mode"])
        y = y[0] if flat else y
        return {"output": y, "output_shape": list(y.shape)}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        x = self._input(p, torch.device("cpu"))
        flat = len(dims(p["input"])) == 2
        pad, is_max, ceil_mode = p["padding"], p["mode"] == "max", p["ceil_mode"]

        def answer(y: torch.Tensor) -> dict[str, Any]:
            y = y[0] if flat else y
            return {"output": y, "output_shape": list(y.shape)}

        out = [
            Misconception("floor_not_ceil", "Rounded the output size down despite ceil_mode",
                          "设置了 ceil_mode 却向下取整", answer(self._pool(x, p, ceil_mode=False)))
            if ceil_mode else
            Misconception("ceil_not_floor", "Rounded the output size up instead of down",
                          "输出尺寸向上取整而不是向下取整", answer(self._pool(x, p, ceil_mode=True))),
            Misconception("avg_not_max", "Averaged instead of taking the maximum",
                          "取了平均值而不是最大值", answer(self._pool(x, p, mode="avg")))
            if is_max else
            Misconception("max_not_avg", "Took the maximum instead of averaging",
                          "取了最大值而不是平均值", answer(self._pool(x, p, mode="max"))),
        ]
        if pad and not is_max:
            out.append(Misconception(
                "excluded_padding", "Excluded the padding from the average (divided by the real "
                "cells only)", "求平均时没有把补零算进去（只除以真实格子数）",
                answer(self._pool(x, p, include_pad=False))))
        if pad and is_max:
            # Windows that touch the padding: their share of real cells is below one.
            touches = F.avg_pool2d(torch.ones_like(x[:1]), p["kernel"], p["stride"], pad,
                                   ceil_mode=ceil_mode, count_include_pad=True) < 1
            y = self._pool(x, p)
            out.append(Misconception("zero_padding_max", "Padded with zeros instead of -inf, so "
                                     "0 can win the maximum", "用 0 而不是负无穷补边，导致 0 成为最大值",
                                     answer(torch.where(touches, y.clamp_min(0.0), y))))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        """Variants with the same input shape and window settings are pooled in one call."""
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple, list[int]] = {}
        for i, p in enumerate(ps):
            key = (dims(p["input"]), p["kernel"], p["stride"], p["padding"], p["mode"],
                   p["ceil_mode"])
            groups.setdefault(key, []).append(i)
        for (shape, *_), idx in groups.items():
            x = batch_tensor([ps[i]["input"] for i in idx], device)
            y = self._pool(x if len(shape) == 3 else x[:, None], ps[idx[0]])  # (B, C, H_out, W_out)
            y = y if len(shape) == 3 else y[:, 0]
            out_shape = list(y.shape[1:])
            for i, out in zip(idx, y.tolist(), strict=True):
                results[i] = {"output": out, "output_shape": out_shape}
        return results  # type: ignore[return-value]
