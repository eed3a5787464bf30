"""Receptive field, total stride and output size of every layer of a stack of conv/pool layers.

Symbols, as printed in the steps (layer l = 1..L, each given as [k_l, s_l, p_l]):
    n_l   output size (n_0 = input size)      k_l   kernel (window) size
    j_l   total stride: input pixels between neighbouring units of layer l (j_0 = 1)
    r_l   receptive field: input pixels one unit of layer l sees (r_0 = 1)
    s_l   stride        p_l   padding

The receptive field ignores the image border (padding only shifts the window), as usual.
The engine does not use the recurrence: torch slides each layer's window over the
input positions 0, 1, 2, ... and takes the largest position each unit reaches (so the
first unit of layer l reaches r_l - 1 and neighbouring units are j_l apart), and
back-propagation through sliding sums confirms r_L. Output sizes come from torch's own
sliding-window arithmetic on ``meta`` tensors. The check is the recurrence in integers.
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch

from engine.kinds.conv_shapes import MAX_SIZE
from engine.params import Array, Integer
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_LAYERS = 64
MAX_RECEPTIVE_FIELD = 4096
MAX_TOTAL_STRIDE = 4096

# [kernel, stride, padding] per layer, as in the classic AlexNet/ZF receptive-field script.
NETWORKS = {
    "alexnet": ((11, 4, 0), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1),
                (3, 2, 0)),
    "zf5": ((7, 2, 3), (3, 2, 1), (5, 2, 2), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 1, 1)),
    "vgg16_block1_2": ((3, 1, 1), (3, 1, 1), (2, 2, 0), (3, 1, 1), (3, 1, 1), (2, 2, 0)),
}


def recurrence(layers: list[list[int]], in_size: int) -> list[dict[str, int]]:
    """n_l, j_l and r_l layer by layer, in Python integers."""
    n, j, r = in_size, 1, 1
    rows = []
    for k, s, p in layers:
        n = (n + 2 * p - k) // s + 1
        r = r + (k - 1) * j
        j = j * s
        rows.append({"output_size": n, "total_stride": j, "receptive_field": r})
    return rows


@register("cnn.receptive_field")
class ReceptiveField(Kind):
    r"""Receptive field of a stack of convolution / pooling layers.

    .. math::
        n_l = \left\lfloor \frac{n_{l-1} + 2p_l - k_l}{s_l} \right\rfloor + 1, \qquad
        j_l = j_{l-1}\, s_l, \qquad
        r_l = r_{l-1} + (k_l - 1)\, j_{l-1}, \qquad n_0 = n,\; j_0 = r_0 = 1

        r_l - 1 = \text{the largest input position that unit 0 of layer } l \text{ reaches}
    """

    title = "Receptive field of a CNN"
    title_zh = "卷积网络的感受野"
    params = (
        Array("layers", ndim=(2,), shape=(None, 3), integer=True, min=0, max=MAX_SIZE,
              max_elements=3 * 1024, help="one [kernel, stride, padding] per layer, in order"),
        Integer("in_size", default=224, min=1, max=MAX_SIZE, help="input height = width, n_0"),
    )
    answers = (
        Answer("layers_out", AnswerType.OBJECT,
               "per layer: output_size n_l, total_stride j_l, receptive_field r_l"),
        Answer("receptive_field", AnswerType.INTEGER, "r_L, the receptive field of the last layer"),
    )
    check_method = "the recurrences for n_l, j_l and r_l in Python integers"
    conventions = (
        "The receptive field is the full span of input pixels one unit depends on, border "
        "effects ignored (padding shifts windows but does not change their span).",
        "Output sizes use floor rounding (PyTorch Conv2d / MaxPool2d without ceil_mode).",
    )

    def clean(self, p: dict[str, Any]) -> None:
        layers = p["layers"]
        if len(layers) > MAX_LAYERS:
            raise ValueError(f"parameter 'layers': {len(layers)} layers is too many; at most "
                             f"{MAX_LAYERS}")
        n, j, r = p["in_size"], 1, 1
        for number, (k, s, pad) in enumerate(layers, start=1):
            name = f"parameter 'layers': layer {number} [{k}, {s}, {pad}]"
            if k < 1 or s < 1:
                raise ValueError(f"{name}: kernel and stride must be at least 1")
            if k > n + 2 * pad:
                raise ValueError(f"{name}: the window {k} does not fit its input of size {n} "
                                 f"(padded: {n + 2 * pad}); the output size would be < 1")
            n, r, j = (n + 2 * pad - k) // s + 1, r + (k - 1) * j, j * s
            if r > MAX_RECEPTIVE_FIELD or j > MAX_TOTAL_STRIDE:
                raise ValueError(f"{name}: the receptive field ({r}) or total stride ({j}) "
                                 f"passes the limit of {MAX_RECEPTIVE_FIELD}")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        if rng.random() < 0.25:
            name = rng.choice(sorted(NETWORKS))
            net = NETWORKS[name]
            layers = [list(layer) for layer in net[: rng.randint(2, min(5, len(net)))]]
            return {"layers": layers, "in_size": 227 if name == "alexnet" else 224}
        layers = []
        for _ in range(rng.randint(2, 4)):
            k = rng.choice([1, 2, 3, 3, 3, 5, 7])
            layers.append([k, rng.choice([1, 1, 2]), rng.choice([0, k // 2])])
        return {"layers": layers, "in_size": rng.choice([28, 32, 64, 96, 128, 224])}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return len(p["layers"]) < 2 or all(k == 1 for k, _, _ in p["layers"])

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        layers, n = p["layers"], p["in_size"]
        sizes = []
        for k, s, pad in layers:  # torch's window arithmetic, no data
            n = torch.empty(n + 2 * pad, device="meta").unfold(0, k, s).shape[0]
            sizes.append(n)
        need = 2  # an input long enough (no padding) for two units in the last layer
        for k, s, _ in reversed(layers):
            need = (need - 1) * s + k
        positions = torch.arange(need, device=device)  # input positions 0 .. N-1
        reach = []  # largest position reached by units 0 and 1 of each layer
        for k, s, _ in layers:
            positions = positions.unfold(0, k, s).amax(1)
            reach.append(positions[:2])
        reach = torch.stack(reach).tolist()  # (L, 2)
        rows = [{"output_size": size, "total_stride": b - a, "receptive_field": a + 1}
                for size, (a, b) in zip(sizes, reach, strict=True)]
        first, last = self._backprop_support(layers, need, device)
        t = Trace()
        t.step("Input", "输入", r"n_0 = n, \quad j_0 = 1, \quad r_0 = 1", n_0=p["in_size"],
               j_0=1, r_0=1)
        for number, ((k, s, pad), row) in enumerate(zip(layers, rows, strict=True), start=1):
            t.step(f"Layer {number}: kernel {k}, stride {s}, padding {pad}",
                   f"第 {number} 层：卷积核 {k}，步幅 {s}，补零 {pad}",
                   r"n_l = \left\lfloor \frac{n_{l-1} + 2p_l - k_l}{s_l} \right\rfloor + 1, \;"
                   r" j_l = j_{l-1} s_l, \; r_l = r_{l-1} + (k_l - 1) j_{l-1}",
                   l=number, k=k, s=s, p=pad, n=row["output_size"], j=row["total_stride"],
                   r=row["receptive_field"])
        t.step("Back-propagate from one unit of the last layer: the input gradient is non-zero "
               "on exactly r_L positions", "从最后一层的一个单元反向传播：输入梯度恰在 r_L 个位置上非零",
               r"r_L = (\text{last} - \text{first}) + 1 \text{ over positions with } "
               r"\partial y / \partial x \neq 0", first=first, last=last,
               receptive_field=last - first + 1)
        return Computed({"layers_out": rows, "receptive_field": last - first + 1}, t.steps)

    @staticmethod
    def _backprop_support(layers: list[list[int]], length: int,
                          device: torch.device) -> tuple[int, int]:
        """First and last input position that unit 0 of the last layer depends on."""
        x = torch.zeros(length, dtype=DTYPE, device=device, requires_grad=True)
        h = x
        for k, s, _ in layers:
            h = h.unfold(0, k, s).sum(1)  # a 1-D convolution with all-ones weights, no padding
        (grad,) = torch.autograd.grad(h[0], x)
        support = torch.nonzero(grad).flatten()  # weights are positive: no cancellation
        return int(support[0]), int(support[-1])

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        rows = recurrence(p["layers"], p["in_size"])
        return {"layers_out": rows, "receptive_field": rows[-1]["receptive_field"]}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        kernels = [k for k, _, _ in p["layers"]]
        out = [
            Misconception("ignored_strides", "Ignored the strides: r = 1 + Σ(k − 1)",
                          "忽略了步幅：r = 1 + Σ(k − 1)",
                          {"receptive_field": 1 + sum(k - 1 for k in kernels)}),
            Misconception("added_kernels", "Added the kernel sizes: r = Σk", "把卷积核大小直接相加：r = Σk",
                          {"receptive_field": sum(kernels)}),
        ]
        product = math.prod(kernels)
        if product < 2**53:  # beyond that it is not a number anyone would write down
            out.append(Misconception("multiplied_kernels", "Multiplied the kernel sizes: r = Πk",
                                     "把卷积核大小相乘：r = Πk", {"receptive_field": product}))
        return out
