"""2-D convolution of actual numbers (cross-correlation, as PyTorch's ``Conv2d`` computes it).

Symbols, as printed in the steps:
    X   input, C_in × H × W                W   weight, C_out × C_in × k_h × k_w
    b   bias, one per output channel        s   stride     p   zero padding per side
    d   dilation                            X̃   zero-padded input
    Z   output before the activation        Y   output

A 2-D input is one channel and a 2-D kernel is one filter over one channel; the
output keeps the channel axis unless both are 2-D.
"""

from __future__ import annotations

import math
import random
from itertools import chain
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.params import Array, Choice, Integer
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_KERNEL_ELEMENTS = 512
MAX_OUTPUT_ELEMENTS = 16_384
SHOWN_POSITIONS = 4  # output positions worked out in the trace


def dims(value: Any) -> tuple[int, ...]:
    """Shape of an already-validated rectangular nested list (walks the first elements only)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0]
    return tuple(shape)


def batch_tensor(values: list[Any], device: torch.device) -> torch.Tensor:
    """Rectangular nested lists (validated, or stacked from validated params of one shape) as
    one float64 tensor. The numbers are streamed flat into numpy, which is about twice as fast
    as letting numpy or torch discover the nesting level by level."""
    shape = []
    first: Any = values
    while isinstance(first, list | tuple):
        shape.append(len(first))
        first = first[0]
    flat: Any = values
    for _ in shape[1:]:
        flat = chain.from_iterable(flat)
    array = np.fromiter(flat, dtype=np.float64, count=math.prod(shape)).reshape(shape)
    return torch.from_numpy(array).to(device, DTYPE)


def _out_size(n: int, k: int, s: int, pad: int, d: int) -> int:
    return (n + 2 * pad - d * (k - 1) - 1) // s + 1


def _geometry(p: dict[str, Any]) -> dict[str, int | bool]:
    """Channels and sizes implied by the shapes of ``input`` and ``weight``."""
    x_shape, w_shape = dims(p["input"]), dims(p["weight"])
    c_in, h, w = (1, *x_shape) if len(x_shape) == 2 else x_shape
    c_out, w_in, kh, kw = (1, 1, *w_shape) if len(w_shape) == 2 else w_shape
    s, pad, d = p["stride"], p["padding"], p["dilation"]
    return {"c_in": c_in, "h": h, "w": w, "c_out": c_out, "w_in": w_in, "kh": kh, "kw": kw,
            "h_out": _out_size(h, kh, s, pad, d), "w_out": _out_size(w, kw, s, pad, d),
            "flat": len(x_shape) == 2 and len(w_shape) == 2}


def _bias_list(p: dict[str, Any], c_out: int) -> list[float]:
    b = p["bias"]
    return [float(b)] * c_out if not isinstance(b, list) else b


def conv_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, s: int, pad: int,
                   d: int) -> np.ndarray:
    """Z[c, i, j] = b_c + sum over (c', u, v) of W[c, c', u, v] X̃[c', s i + d u, s j + d v]."""
    c_in, h, w_in = x.shape
    xp = np.zeros((c_in, h + 2 * pad, w_in + 2 * pad))  # X̃: (C_in, H + 2p, W + 2p)
    xp[:, pad: pad + h, pad: pad + w_in] = x
    c_out, _, kh, kw = w.shape
    h_out = (h + 2 * pad - d * (kh - 1) - 1) // s + 1
    w_out = (w_in + 2 * pad - d * (kw - 1) - 1) // s + 1
    kernels = w.reshape(c_out, -1)  # one row of C_in k_h k_w weights per output channel
    z = np.empty((c_out, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, s * i: s * i + d * (kh - 1) + 1: d, s * j: s * j + d * (kw - 1) + 1: d]
            z[:, i, j] = kernels @ window.ravel() + b  # sum of window times kernel, plus bias
    return z


@register("conv2d")
class Conv2d(Kind):
    r"""2-D convolution (cross-correlation, no kernel flip), with bias and optional ReLU.

    .. math::
        \tilde X = \operatorname{pad}_p(X), \qquad
        Z_{c,i,j} = b_c + \sum_{c'} \sum_{u} \sum_{v}
            W_{c,c',u,v}\, \tilde X_{c',\, s i + d u,\, s j + d v}, \qquad
        Y = \max(0, Z) \text{ (ReLU) or } Y = Z

        H_{out} = \left\lfloor \frac{H + 2p - d(k_h-1) - 1}{s} \right\rfloor + 1
    """

    title = "2-D convolution"
    title_zh = "二维卷积计算"
    params = (
        Array("input", ndim=(2, 3), min=-1e6, max=1e6, help="input X: H×W or C_in×H×W"),
        Array("weight", ndim=(2, 4), min=-1e6, max=1e6, max_elements=MAX_KERNEL_ELEMENTS,
              help="weight W: k_h×k_w or C_out×C_in×k_h×k_w"),
        Array("bias", default=0, ndim=(0, 1), min=-1e6, max=1e6, max_elements=1024,
              help="bias b: one number for every output channel, or one per output channel"),
        Integer("stride", default=1, min=1, max=16, help="stride s"),
        Integer("padding", default=0, min=0, max=16, help="zero padding per side p"),
        Integer("dilation", default=1, min=1, max=16, help="dilation d"),
        Choice("activation", default="none", choices=("none", "relu"), help="activation"),
    )
    answers = (
        Answer("output", AnswerType.TENSOR, "Y: H_out×W_out for a 2-D input and kernel, "
               "else C_out×H_out×W_out"),
        Answer("output_shape", AnswerType.SHAPE, "shape of Y"),
    )
    check_method = ("explicit loops over output positions in numpy float64 "
                    "(window times kernel, summed)")
    conventions = (
        "Cross-correlation as in PyTorch and every deep-learning framework: the kernel is not "
        "flipped (the signal-processing convolution flips it).",
        "Zero padding p on every side; floor rounding of the output size.",
        "A scalar bias is added to every output channel.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        g = _geometry(p)
        if g["w_in"] != g["c_in"]:
            raise ValueError(f"parameter 'weight': has {g['w_in']} input channels but the input "
                             f"has {g['c_in']}; the weight must be C_out×C_in×k_h×k_w")
        if isinstance(p["bias"], list) and len(p["bias"]) != g["c_out"]:
            raise ValueError(f"parameter 'bias': {len(p['bias'])} values for {g['c_out']} output "
                             "channels; give one number or one per output channel")
        if g["h_out"] < 1 or g["w_out"] < 1:
            d, pad = p["dilation"], p["padding"]
            raise ValueError(
                f"parameter 'weight': the dilated kernel spans {d * (g['kh'] - 1) + 1}×"
                f"{d * (g['kw'] - 1) + 1} but the padded input is only {g['h'] + 2 * pad}×"
                f"{g['w'] + 2 * pad}; it must fit: d(k-1)+1 <= H+2p")
        if g["c_out"] * g["h_out"] * g["w_out"] > MAX_OUTPUT_ELEMENTS:
            raise ValueError(f"parameter 'padding': the output would have more than "
                             f"{MAX_OUTPUT_ELEMENTS} elements; use less padding or a larger stride")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        size, k = rng.randint(4, 6), rng.choice([2, 3, 3])
        c_in = 2 if rng.random() < 0.25 else 1
        c_out = rng.choice([1, 2]) if c_in == 2 else 1

        def grid(*shape: int, low: int, high: int) -> Any:
            if len(shape) == 1:
                return [rng.randint(low, high) for _ in range(shape[0])]
            return [grid(*shape[1:], low=low, high=high) for _ in range(shape[0])]

        image = grid(c_in, size, size, low=-2, high=3)
        kernel = grid(c_out, c_in, k, k, low=-1, high=2)
        bias: Any = rng.choice([0, 0, 1, -1, 2])
        if c_out == 2 and rng.random() < 0.5:
            bias = [rng.randint(-2, 2) for _ in range(c_out)]
        return {
            "input": image if c_in == 2 else image[0],
            "weight": kernel if c_in == 2 else kernel[0][0],
            "bias": bias,
            "stride": rng.choice([1, 1, 1, 2]),
            "padding": rng.choice([0, 0, 1]) if k == 3 else 0,
            "dilation": 1,
            "activation": rng.choice(["none", "relu"]),
        }

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return not np.any(p["input"]) or not np.any(p["weight"])

    # -- computation ------------------------------------------------------------
    def _tensors(self, p: dict[str, Any], g: dict[str, Any], device: torch.device):
        x = batch_tensor(p["input"], device).view(g["c_in"], g["h"], g["w"])
        w = batch_tensor(p["weight"], device).view(g["c_out"], g["c_in"], g["kh"], g["kw"])
        b = torch.tensor(_bias_list(p, g["c_out"]), dtype=DTYPE, device=device)
        return x, w, b

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        g = _geometry(p)
        s, pad, d, relu = p["stride"], p["padding"], p["dilation"], p["activation"] == "relu"
        x, w, b = self._tensors(p, g, device)
        z = F.conv2d(x[None], w, b, stride=s, padding=pad, dilation=d)[0]  # (C_out, H_out, W_out)
        y = torch.relu(z) if relu else z
        shape = [g["h_out"], g["w_out"]] if g["flat"] else [g["c_out"], g["h_out"], g["w_out"]]
        t = Trace()
        self._explain(t, p, g, x, w, b, z)
        if relu:
            t.step("Apply the ReLU", "应用 ReLU", r"Y = \max(0, Z)", output=y.view(shape))
        t.step("Output", "输出", r"H_{out} = \left\lfloor \frac{H + 2p - d(k_h-1) - 1}{s} "
               r"\right\rfloor + 1", output_shape=shape, output=y.view(shape))
        return Computed({"output": y.view(shape), "output_shape": shape}, t.steps)

    def _explain(self, t: Trace, p, g, x, w, b, z) -> None:
        s, pad, d, flat = p["stride"], p["padding"], p["dilation"], g["flat"]
        xp = F.pad(x, (pad, pad, pad, pad))  # (C_in, H + 2p, W + 2p)
        if pad:
            t.step(f"Pad the input with {pad} ring(s) of zeros", f"在输入四周补 {pad} 圈零",
                   r"\tilde X = \operatorname{pad}_p(X)", p=pad, padded=xp[0] if flat else xp)
        span_h, span_w = d * (g["kh"] - 1) + 1, d * (g["kw"] - 1) + 1
        shown = min(SHOWN_POSITIONS, g["h_out"] * g["w_out"])
        xp_np, w0 = xp.cpu().numpy(), w[0].cpu().numpy()  # slicing for display only
        for n in range(shown):
            i, j = divmod(n, g["w_out"])
            window = xp_np[:, s * i: s * i + span_h: d, s * j: s * j + span_w: d]
            products = w0 * window  # (C_in, k_h, k_w)
            total = products.sum()
            where = f"position ({i}, {j})" if flat else f"channel 0, position ({i}, {j})"
            where_zh = f"位置 ({i}, {j})" if flat else f"通道 0 的位置 ({i}, {j})"
            t.step(f"Output {where}: multiply the window by the kernel, then sum",
                   f"输出{where_zh}：窗口与卷积核逐元素相乘再求和",
                   r"\sum_{c'} \sum_{u} \sum_{v} W_{c,c',u,v}\, "
                   r"\tilde X_{c',\, s i + d u,\, s j + d v}",
                   c=0, i=i, j=j, window=window[0] if flat else window,
                   products=products[0] if flat else products, sum=total)
        t.step("Every output position, plus the bias", "所有输出位置都这样计算，再加上偏置",
               r"Z_{c,i,j} = b_c + \sum_{c',u,v} W_{c,c',u,v}\, "
               r"\tilde X_{c',\, s i + d u,\, s j + d v}", b=b, Z=z[0] if flat else z)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        g = _geometry(p)
        x = np.asarray(p["input"], dtype=np.float64).reshape(g["c_in"], g["h"], g["w"])
        w = np.asarray(p["weight"], dtype=np.float64).reshape(
            g["c_out"], g["c_in"], g["kh"], g["kw"])
        b = np.asarray(_bias_list(p, g["c_out"]), dtype=np.float64)
        z = conv_reference(x, w, b, p["stride"], p["padding"], p["dilation"])
        y = np.maximum(z, 0.0) if p["activation"] == "relu" else z
        y = y[0] if g["flat"] else y
        return {"output": y, "output_shape": list(y.shape)}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        g = _geometry(p)
        s, pad, d, relu = p["stride"], p["padding"], p["dilation"], p["activation"] == "relu"
        x, w, b = self._tensors(p, g, torch.device("cpu"))
        b3 = b[:, None, None]

        def answer(sums: torch.Tensor, bias: torch.Tensor | float = b3, act: bool = relu):
            y = sums + bias
            y = torch.relu(y) if act else y
            y = y[0] if g["flat"] else y
            return {"output": y, "output_shape": list(y.shape)}

        c = g["c_out"]
        both = F.conv2d(x[None], torch.cat([w, w.flip(-1, -2)]), stride=s, padding=pad,
                        dilation=d)[0]  # (2 C_out, H_out, W_out): kernel as given, then flipped
        sums, flipped = both[:c], both[c:]
        out = [Misconception("flipped_kernel", "Flipped the kernel (true convolution instead of "
                             "cross-correlation)", "把卷积核翻转了（按信号处理的卷积而不是互相关）",
                             answer(flipped))]
        if torch.any(b != 0):
            out.append(Misconception("forgot_bias", "Forgot the bias", "漏掉了偏置",
                                     answer(sums, bias=0.0)))
        if relu:
            out.append(Misconception("forgot_relu", "Forgot the ReLU", "漏掉了 ReLU",
                                     answer(sums, act=False)))
        fits = g["h"] >= d * (g["kh"] - 1) + 1 and g["w"] >= d * (g["kw"] - 1) + 1
        if pad and fits:
            unpadded = F.conv2d(x[None], w, stride=s, dilation=d)[0]
            out.append(Misconception("no_padding", "Ignored the padding", "忽略了补零",
                                     answer(unpadded)))
        if s > 1:
            stride_one = F.conv2d(x[None], w, padding=pad, dilation=d)[0]
            out.append(Misconception("ignored_stride", "Ignored the stride (stride 1)",
                                     "忽略了步幅（按步幅 1 计算）", answer(stride_one)))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        """Variants with the same shapes and hyper-parameters run as one grouped convolution."""
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple, list[int]] = {}
        for i, p in enumerate(ps):
            key = (dims(p["input"]), dims(p["weight"]), p["stride"], p["padding"], p["dilation"])
            groups.setdefault(key, []).append(i)
        for (_, _, s, pad, d), idx in groups.items():
            g = _geometry(ps[idx[0]])
            n = len(idx)
            x = batch_tensor([ps[i]["input"] for i in idx], device)
            w = batch_tensor([ps[i]["weight"] for i in idx], device)
            b = torch.tensor([_bias_list(ps[i], g["c_out"]) for i in idx], dtype=DTYPE,
                             device=device)  # (B, C_out)
            z = F.conv2d(x.view(1, n * g["c_in"], g["h"], g["w"]),
                         w.view(n * g["c_out"], g["c_in"], g["kh"], g["kw"]), b.view(-1),
                         stride=s, padding=pad, dilation=d, groups=n)  # (1, B C_out, H_out, W_out)
            z = z.view(n, g["c_out"], g["h_out"], g["w_out"])
            relu = torch.tensor([ps[i]["activation"] == "relu" for i in idx], device=device)
            y = torch.where(relu.view(n, 1, 1, 1), torch.relu(z), z)
            shape = [g["h_out"], g["w_out"]] if g["flat"] else [g["c_out"], g["h_out"], g["w_out"]]
            for i, out in zip(idx, y.view(n, *shape).tolist(), strict=True):
                results[i] = {"output": out, "output_shape": shape}
        return results  # type: ignore[return-value]
