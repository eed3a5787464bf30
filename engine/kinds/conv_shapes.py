"""Shape arithmetic of convolution layers: output sizes and parameter counts (square kernels).

Symbols, as printed in the steps:
    n   input size (H_in = W_in)          k   kernel size
    s   stride                            p   zero padding on each side
    d   dilation                          o   output padding (transposed conv)

The answers are taken from torch itself: a layer run on the ``meta`` device
returns the output shape without computing anything. The independent check is
the closed-form formula in Python integers.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
import torch.nn.functional as F

from engine.params import Boolean, Integer
from engine.registry import Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_SIZE = 100_000


def meta_input(n: int, channels: int = 1) -> torch.Tensor:
    return torch.empty((1, channels, n, n), device="meta")


def _effective_kernel(k: int, d: int) -> int:
    return d * (k - 1) + 1


def int_tensor(ps: list[dict[str, Any]], key: str, device: torch.device) -> torch.Tensor:
    return torch.tensor([p[key] for p in ps], dtype=torch.int64, device=device)


def _conv_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@register("conv2d.output_size")
class Conv2dOutputSize(Kind):
    r"""Output size of a 2-D convolution (PyTorch ``Conv2d``, floor rounding).

    .. math::
        n_{out} = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1
    """

    title = "Convolution output size"
    title_zh = "卷积输出尺寸"
    params = (
        Integer("in_size", min=1, max=MAX_SIZE, help="input height = width, n"),
        Integer("kernel", min=1, max=MAX_SIZE, help="kernel size, k"),
        Integer("stride", default=1, min=1, max=MAX_SIZE, help="stride, s"),
        Integer("padding", default=0, min=0, max=MAX_SIZE, help="zero padding per side, p"),
        Integer("dilation", default=1, min=1, max=MAX_SIZE, help="dilation, d"),
    )
    answers = (Answer("output_size", AnswerType.INTEGER, "output height = width"),)
    check_method = "closed-form floor formula in Python integers"
    conventions = (
        "Floor rounding, as PyTorch and TensorFlow 'VALID' do; padding p is added on both sides.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        span = _effective_kernel(p["kernel"], p["dilation"])
        padded = p["in_size"] + 2 * p["padding"]
        if span > padded:
            raise ValueError(
                f"parameter 'kernel': the dilated kernel spans {span} pixels but the padded "
                f"input is only {padded}; kernel must satisfy d(k-1)+1 <= n+2p"
            )

    def sample(self, rng: random.Random) -> dict[str, Any]:
        kernel = rng.choice([1, 3, 3, 5, 7, 11])
        return {
            "in_size": rng.choice([7, 14, 28, 32, 56, 64, 112, 224, 227, 256]) + rng.choice([0, 0, 1]),
            "kernel": kernel,
            "stride": rng.choice([1, 1, 2, 2, 3, 4]),
            "padding": rng.choice([0, kernel // 2, 1, 2]),
            "dilation": rng.choice([1, 1, 1, 2]),
        }

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        n, k, s, pad, d = p["in_size"], p["kernel"], p["stride"], p["padding"], p["dilation"]
        out = F.conv2d(meta_input(n), torch.empty((1, 1, k, k), device="meta"),
                       stride=s, padding=pad, dilation=d)
        size = out.shape[-1]  # (N, C_out, H_out, W_out)
        t = Trace()
        t.step("Effective (dilated) kernel span", "膨胀后卷积核覆盖的宽度",
               r"d(k-1)+1", d=d, k=k, span=_effective_kernel(k, d))
        t.step("Padded input minus the span", "补零后的输入减去覆盖宽度",
               r"n + 2p - d(k-1) - 1", n=n, p=pad, numerator=n + 2 * pad - d * (k - 1) - 1)
        t.step("Divide by the stride, round down, add one", "除以步幅、向下取整、再加一",
               r"n_{out} = \left\lfloor \frac{n + 2p - d(k-1) - 1}{s} \right\rfloor + 1",
               s=s, output_size=size)
        return Computed({"output_size": size}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"output_size": _conv_size(p["in_size"], p["kernel"], p["stride"],
                                          p["padding"], p["dilation"])}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        n, k, s, pad, d = p["in_size"], p["kernel"], p["stride"], p["padding"], p["dilation"]
        span = d * (k - 1) + 1
        out = [
            Misconception("padding_once", "Counted the padding on one side only",
                          "补零只算了一侧", {"output_size": (n + pad - span) // s + 1}),
            Misconception("ceil_not_floor", "Rounded up instead of down",
                          "向上取整而不是向下取整",
                          {"output_size": math.ceil((n + 2 * pad - span) / s) + 1}),
            Misconception("forgot_plus_one", "Forgot the final +1", "漏掉了最后的 +1",
                          {"output_size": (n + 2 * pad - span) // s}),
            Misconception("ignored_stride", "Ignored the stride", "忽略了步幅",
                          {"output_size": n + 2 * pad - span + 1}),
        ]
        if d > 1:
            out.append(Misconception("ignored_dilation", "Ignored the dilation", "忽略了膨胀率",
                                     {"output_size": (n + 2 * pad - k) // s + 1}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        n, k, s, pad, d = (int_tensor(ps, key, device)
                           for key in ("in_size", "kernel", "stride", "padding", "dilation"))
        sizes = torch.div(n + 2 * pad - d * (k - 1) - 1, s, rounding_mode="floor") + 1
        return [{"output_size": v} for v in sizes.tolist()]


@register("conv_transpose2d.output_size")
class ConvTranspose2dOutputSize(Kind):
    r"""Output size of a 2-D transposed convolution (PyTorch ``ConvTranspose2d``).

    .. math::
        n_{out} = (n - 1)s - 2p + d(k-1) + o + 1
    """

    title = "Transposed-convolution output size"
    title_zh = "转置卷积输出尺寸"
    params = (
        Integer("in_size", min=1, max=MAX_SIZE, help="input height = width, n"),
        Integer("kernel", min=1, max=MAX_SIZE, help="kernel size, k"),
        Integer("stride", default=1, min=1, max=MAX_SIZE, help="stride, s"),
        Integer("padding", default=0, min=0, max=MAX_SIZE, help="padding removed per side, p"),
        Integer("output_padding", default=0, min=0, max=MAX_SIZE,
                help="extra rows/columns added on one side, o (< max(s, d))"),
        Integer("dilation", default=1, min=1, max=MAX_SIZE, help="dilation, d"),
    )
    answers = (Answer("output_size", AnswerType.INTEGER, "output height = width"),)
    check_method = "closed-form formula in Python integers"
    conventions = (
        "PyTorch semantics: padding p removes p rows/columns per side from the full output; "
        "output_padding adds o on one side only and must be smaller than the stride or the dilation.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        limit = max(p["stride"], p["dilation"])
        if p["output_padding"] >= limit:
            raise ValueError(
                f"parameter 'output_padding': {p['output_padding']} must be smaller than "
                f"max(stride, dilation) = {limit}"
            )
        size = self._formula(p)
        if size < 1:
            raise ValueError(f"parameter 'padding': {p['padding']} removes the whole output "
                             f"(size would be {size}); use a smaller padding")

    @staticmethod
    def _formula(p: dict[str, Any]) -> int:
        return ((p["in_size"] - 1) * p["stride"] - 2 * p["padding"]
                + p["dilation"] * (p["kernel"] - 1) + p["output_padding"] + 1)

    def sample(self, rng: random.Random) -> dict[str, Any]:
        stride = rng.choice([1, 2, 2, 2, 3, 4])
        kernel = rng.choice([2, 3, 4, 4, 5])
        return {
            "in_size": rng.choice([4, 7, 8, 14, 16, 28, 32]),
            "kernel": kernel,
            "stride": stride,
            "padding": rng.choice([0, 1, 1, 2]),
            "output_padding": rng.choice([0, 0, 1]) if stride > 1 else 0,
            "dilation": 1,
        }

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        n, k, s, pad, o, d = (p[key] for key in
                              ("in_size", "kernel", "stride", "padding", "output_padding", "dilation"))
        out = F.conv_transpose2d(meta_input(n), torch.empty((1, 1, k, k), device="meta"),
                                 stride=s, padding=pad, output_padding=o, dilation=d)
        size = out.shape[-1]
        t = Trace()
        t.step("Spread the input by the stride", "按步幅把输入展开", r"(n - 1)s",
               n=n, s=s, spread=(n - 1) * s)
        t.step("Add the dilated kernel span", "加上膨胀后的卷积核宽度", r"(n - 1)s + d(k-1) + 1",
               d=d, k=k, full=(n - 1) * s + d * (k - 1) + 1)
        t.step("Remove padding on both sides, add output padding", "两侧减去补零，加上输出补零",
               r"n_{out} = (n - 1)s - 2p + d(k-1) + o + 1", p=pad, o=o, output_size=size)
        return Computed({"output_size": size}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"output_size": self._formula(p)}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        n, k, s, pad, o, d = (p[key] for key in
                              ("in_size", "kernel", "stride", "padding", "output_padding", "dilation"))
        span = d * (k - 1)
        return [
            Misconception("padding_added", "Added the padding instead of removing it",
                          "把补零加上而不是减去",
                          {"output_size": (n - 1) * s + 2 * pad + span + o + 1}),
            Misconception("n_times_s", "Took n·s (ignored kernel and padding)",
                          "直接用 n·s（忽略卷积核与补零）", {"output_size": n * s}),
            Misconception("forgot_output_padding", "Forgot the output padding", "漏掉了输出补零",
                          {"output_size": (n - 1) * s - 2 * pad + span + 1}),
            Misconception("n_not_n_minus_1", "Used n·s instead of (n−1)·s", "用了 n·s 而不是 (n−1)·s",
                          {"output_size": n * s - 2 * pad + span + o + 1}),
        ]

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        n, k, s, pad, o, d = (int_tensor(ps, key, device) for key in
                              ("in_size", "kernel", "stride", "padding", "output_padding", "dilation"))
        sizes = (n - 1) * s - 2 * pad + d * (k - 1) + o + 1
        return [{"output_size": v} for v in sizes.tolist()]


@register("conv2d.param_count")
class Conv2dParamCount(Kind):
    r"""Learnable parameters of a 2-D convolution layer with a square kernel.

    .. math::
        P = C_{out} \cdot \frac{C_{in}}{g} \cdot k^2 + [\text{bias}]\, C_{out}
    """

    title = "Convolution parameter count"
    title_zh = "卷积层参数量"
    params = (
        Integer("in_channels", min=1, max=65_536, help="input channels, C_in"),
        Integer("out_channels", min=1, max=65_536, help="output channels (filters), C_out"),
        Integer("kernel", min=1, max=64, help="kernel size, k"),
        Boolean("bias", default=True, help="one bias per output channel"),
        Integer("groups", default=1, min=1, max=65_536, help="groups, g (C_in = g for depth-wise)"),
    )
    answers = (Answer("params", AnswerType.INTEGER, "number of learnable parameters"),)
    check_method = "closed-form product in Python integers"
    conventions = ("One bias per output channel (filter), shared over all positions.",)
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        g = p["groups"]
        for key in ("in_channels", "out_channels"):
            if p[key] % g:
                raise ValueError(f"parameter 'groups': {g} must divide {key} = {p[key]}")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        cin = rng.choice([1, 3, 16, 32, 64, 128, 256])
        groups = rng.choice([1, 1, 1, 2, cin]) if cin > 1 else 1
        cout = rng.choice([8, 16, 32, 64, 128, 256])
        cout = max(groups, cout - cout % groups) if cout % groups else cout
        return {"in_channels": cin, "out_channels": cout, "kernel": rng.choice([1, 3, 3, 5, 7]),
                "bias": rng.random() < 0.8, "groups": groups}

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        cin, cout, k, g = p["in_channels"], p["out_channels"], p["kernel"], p["groups"]
        layer = torch.nn.Conv2d(cin, cout, k, groups=g, bias=p["bias"], device="meta")
        weights = layer.weight.numel()  # (C_out, C_in/g, k, k)
        biases = layer.bias.numel() if layer.bias is not None else 0
        t = Trace()
        t.step("Weights: one k×k×(C_in/g) filter per output channel",
               "权重：每个输出通道一个 k×k×(C_in/g) 的滤波器",
               r"C_{out} \cdot \frac{C_{in}}{g} \cdot k^2",
               C_out=cout, C_in=cin, g=g, k=k, weights=weights)
        t.step("Biases: one per output channel" if p["bias"] else "No bias",
               "偏置：每个输出通道一个" if p["bias"] else "无偏置",
               r"[\text{bias}]\, C_{out}", biases=biases)
        t.step("Total", "合计", r"P = C_{out} \cdot \frac{C_{in}}{g} \cdot k^2 + [\text{bias}]\, C_{out}",
               params=weights + biases)
        return Computed({"params": weights + biases}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        cin, cout, k, g = p["in_channels"], p["out_channels"], p["kernel"], p["groups"]
        return {"params": cout * (cin // g) * k * k + (cout if p["bias"] else 0)}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        cin, cout, k, g = p["in_channels"], p["out_channels"], p["kernel"], p["groups"]
        bias = cout if p["bias"] else 0
        out = [
            Misconception("kernel_not_squared", "Used k instead of k² for the kernel area",
                          "卷积核面积用了 k 而不是 k²", {"params": cout * (cin // g) * k + bias}),
            Misconception("ignored_input_channels", "Forgot that each filter spans all input channels",
                          "忘了每个滤波器覆盖全部输入通道", {"params": cout * k * k + bias}),
        ]
        if p["bias"]:
            out.append(Misconception("forgot_bias", "Forgot the biases", "漏掉了偏置",
                                     {"params": cout * (cin // g) * k * k}))
            out.append(Misconception("bias_per_weight", "Counted one bias per weight",
                                     "每个权重都算了一个偏置", {"params": 2 * cout * (cin // g) * k * k}))
        if g > 1:
            out.append(Misconception("ignored_groups", "Ignored the groups", "忽略了分组",
                                     {"params": cout * cin * k * k + bias}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        cin, cout, k, g = (int_tensor(ps, key, device)
                           for key in ("in_channels", "out_channels", "kernel", "groups"))
        bias = torch.tensor([p["bias"] for p in ps], dtype=torch.int64, device=device)
        counts = cout * torch.div(cin, g, rounding_mode="floor") * k * k + bias * cout
        return [{"params": v} for v in counts.tolist()]
