"""Local response normalisation (AlexNet, 2012): lateral inhibition across channels.

Symbols, as printed in the steps:
    a^i        activation of channel i (at one spatial position)    C  number of channels
    n          size of the channel window                           k, α, β  hyper-parameters
    S^i        sum of squares over the window of channel i
    d^i        denominator (k + α' S^i)^β                           b^i  normalised activation
    α'         α / n when α is divided by n (PyTorch), α otherwise (AlexNet's paper)

Window convention (PyTorch's ``F.local_response_norm``, checked channel by channel): channel i
sums j = max(0, i - ⌊n/2⌋) … min(C - 1, i + ⌊(n - 1)/2⌋), n channels away from the edges. For
odd n this is AlexNet's symmetric i ± ⌊n/2⌋; for even n PyTorch takes one channel fewer above.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.params import Array, Boolean, Integer, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_SIZE = 64
MAX_ELEMENTS = 1024  # C·H·W; the reference loops cost C·H·W·n Python steps
VALUE_LIMIT = 1e4


def _window(i: int, channels: int, n: int, extra: int = 0) -> range:
    """Channels summed for channel i; ``extra`` widens the window above (a named mistake)."""
    return range(max(0, i - n // 2), min(channels - 1, i + (n - 1) // 2 + extra) + 1)


def _as_cm(a: Any) -> np.ndarray:
    """Activations as a (C, M) array: one column per spatial position."""
    arr = np.asarray(a, dtype=np.float64)
    return arr.reshape(arr.shape[0], -1)


def lrn_reference(p: dict[str, Any], *, extra: int = 0, divided: bool | None = None,
                  use_beta: bool = True) -> dict[str, Any]:
    """b, denominator, b_mid and window by explicit Python loops (numpy float64)."""
    a = _as_cm(p["a"])
    channels, positions = a.shape
    n = p["size"]
    divided = p["alpha_divided_by_n"] if divided is None else divided
    alpha = p["alpha"] / n if divided else p["alpha"]
    beta = p["beta"] if use_beta else 1.0
    den = np.empty_like(a)
    for i in range(channels):
        for m in range(positions):
            s = 0.0
            for j in _window(i, channels, n, extra):
                s += a[j, m] * a[j, m]
            den[i, m] = (p["k"] + alpha * s) ** beta
    shape = np.asarray(p["a"]).shape
    b = a / den
    mid = channels // 2
    return {"b": b.reshape(shape).tolist(), "denominator": den.reshape(shape).tolist(),
            "b_mid": b[mid].reshape(shape[1:]).tolist(),
            "window": len(_window(mid, channels, n, extra))}


@register("lrn")
class LocalResponseNorm(Kind):
    r"""Local response normalisation across channels.

    .. math::
        S^i = \sum_{j=\max(0,\, i-\lfloor n/2 \rfloor)}^{\min(C-1,\, i+\lfloor (n-1)/2 \rfloor)}
              (a^j)^2, \qquad
        d^i = \left(k + \alpha' S^i\right)^{\beta}, \qquad b^i = \frac{a^i}{d^i},

    with :math:`\alpha' = \alpha / n` (PyTorch) or :math:`\alpha' = \alpha` (AlexNet's paper).
    ``b_mid`` is :math:`b^i` of the middle channel :math:`i = \lfloor C/2 \rfloor` and ``window``
    the number of channels its sum covers (n when the window fits inside the C channels).
    """

    title = "Local response normalisation (LRN)"
    title_zh = "局部响应归一化（LRN）"
    params = (
        Array("a", ndim=(1, 3), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_ELEMENTS,
              help="activations: C channels at one position, or C×H×W"),
        Integer("size", min=1, max=MAX_SIZE, help="n, the number of channels in the window"),
        Number("alpha", default=1e-4, min=0, max=100, help="α, scale of the sum of squares"),
        Number("beta", default=0.75, min=0, max=10, help="β, exponent of the denominator"),
        Number("k", default=2.0, min=0, max=100, open_min=True, help="k, additive constant"),
        Boolean("alpha_divided_by_n", default=True,
                help="true: α/n as in PyTorch; false: α as in AlexNet's paper"),
    )
    answers = (
        Answer("b", AnswerType.TENSOR, "normalised activations, same shape as a"),
        Answer("denominator", AnswerType.TENSOR, "(k + α' S)^β, same shape as a"),
        Answer("b_mid", AnswerType.TENSOR, "b of the middle channel ⌊C/2⌋ (a number, or H×W)"),
        Answer("window", AnswerType.INTEGER, "channels summed for the middle channel ⌊C/2⌋"),
    )
    check_method = "explicit Python loops over each channel's window in numpy float64"
    conventions = (
        "Window j = max(0, i - ⌊n/2⌋) … min(C-1, i + ⌊(n-1)/2⌋), as F.local_response_norm: "
        "n channels (fewer at the edges); for even n one channel fewer above than below.",
        "alpha_divided_by_n (default true) scales the sum by α/n as PyTorch and Caffe do; "
        "AlexNet's paper and TensorFlow's tf.nn.lrn use α itself.",
        "Defaults are AlexNet's k = 2, α = 1e-4, β = 0.75 (PyTorch's own default is k = 1).",
    )
    batchable = True

    def sample(self, rng: random.Random) -> dict[str, Any]:
        channels = rng.randint(3, 6)
        if rng.random() < 0.8:
            a: Any = [rng.randint(-4, 4) for _ in range(channels)]
        else:
            a = [[[rng.randint(-3, 3) for _ in range(2)]] for _ in range(channels)]  # C×1×2
        return {"a": a, "size": rng.choice([2, 3, 3, 4, 5, 5]),
                "alpha": rng.choice([1e-4, 0.01, 0.1, 0.5, 1.0]),
                "beta": rng.choice([0.5, 0.75, 0.75, 1.0]), "k": rng.choice([1.0, 2.0, 2.0]),
                "alpha_divided_by_n": rng.random() < 0.7}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        a = np.asarray(p["a"])
        return not np.any(a[a.shape[0] // 2])  # b_mid = 0 whatever the window holds

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        a = torch.tensor(p["a"], dtype=DTYPE, device=device)
        x = a.reshape(1, a.shape[0], -1)  # (1, C, M): F.local_response_norm wants a batch dim
        n, k, beta, channels = p["size"], p["k"], p["beta"], a.shape[0]
        alpha_eff = p["alpha"] / n if p["alpha_divided_by_n"] else p["alpha"]
        squares = x * x
        padded = F.pad(squares, (0, 0, n // 2, (n - 1) // 2))  # zeros outside the channels
        s = padded.unfold(1, n, 1).sum(-1)  # S^i, (1, C, M)
        den = (k + alpha_eff * s) ** beta
        if p["alpha_divided_by_n"]:
            b = F.local_response_norm(x, n, alpha=p["alpha"], beta=beta, k=k)
        else:
            b = x / den
        mid = channels // 2
        counts = F.pad(torch.ones(channels, dtype=DTYPE, device=device), (n // 2, (n - 1) // 2))
        window = int(counts.unfold(0, n, 1).sum(-1)[mid])  # channels inside mid's window
        t = Trace()
        t.step("Square every activation", "对每个激活值求平方", r"(a^j)^2", squares=squares.reshape(a.shape))
        t.step("Sum the squares over each channel's window", "在每个通道的窗口内对平方求和",
               r"S^i = \sum_{j=\max(0,\,i-\lfloor n/2\rfloor)}^{\min(C-1,\,i+\lfloor (n-1)/2\rfloor)}"
               r"(a^j)^2", S=s.reshape(a.shape), window=window,
               window_mid=[_window(mid, channels, n)[0], _window(mid, channels, n)[-1]])
        t.step("Scale the sum: α' = α/n (PyTorch) or α (AlexNet paper)",
               "缩放系数：α' = α/n（PyTorch）或 α（AlexNet 论文）",
               r"\alpha' = \alpha / n" if p["alpha_divided_by_n"] else r"\alpha' = \alpha",
               alpha_eff=alpha_eff)
        t.step("Denominator", "分母", r"d^i = (k + \alpha' S^i)^{\beta}", denominator=den.reshape(a.shape))
        t.step("Divide each activation by its denominator", "每个激活值除以其分母",
               r"b^i = a^i / d^i", b=b.reshape(a.shape), b_mid=b.reshape(a.shape)[mid])
        return Computed({"b": b.reshape(a.shape), "denominator": den.reshape(a.shape),
                         "b_mid": b.reshape(a.shape)[mid], "window": window}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return lrn_reference(p)

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        divided = p["alpha_divided_by_n"]
        wrong = [
            Misconception("window_n_plus_one", "Summed a window of n + 1 channels "
                          "(⌊n/2⌋ on each side plus one more)",
                          "窗口取了 n + 1 个通道（多算了一个通道）", lrn_reference(p, extra=1)),
            Misconception("alpha_not_divided" if divided else "alpha_divided",
                          "Used α without dividing by n (the paper's form)" if divided
                          else "Divided α by n (PyTorch's form)",
                          "α 没有除以 n（论文写法）" if divided else "把 α 除以了 n（PyTorch 写法）",
                          {k: v for k, v in lrn_reference(p, divided=not divided).items()
                           if k != "window"}),
            Misconception("forgot_beta", "Forgot the exponent β on the denominator",
                          "分母忘了取 β 次幂",
                          {k: v for k, v in lrn_reference(p, use_beta=False).items()
                           if k != "window"}),
        ]
        return wrong

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple, list[int]] = {}
        for i, p in enumerate(ps):
            groups.setdefault((np.shape(p["a"]), p["size"]), []).append(i)
        for (shape, n), idx in groups.items():
            a = torch.tensor([ps[i]["a"] for i in idx], dtype=DTYPE, device=device)
            x = a.reshape(len(idx), shape[0], -1)  # (B, C, M)
            col = [(ps[i]["alpha"] / n if ps[i]["alpha_divided_by_n"] else ps[i]["alpha"],
                    ps[i]["k"], ps[i]["beta"]) for i in idx]
            alpha_eff, k, beta = torch.tensor(col, dtype=DTYPE, device=device).T[..., None, None]
            s = F.pad(x * x, (0, 0, n // 2, (n - 1) // 2)).unfold(1, n, 1).sum(-1)
            den = (k + alpha_eff * s) ** beta
            b = x / den
            mid = shape[0] // 2
            counts = F.pad(torch.ones(shape[0], dtype=DTYPE, device=device), (n // 2, (n - 1) // 2))
            window = int(counts.unfold(0, n, 1).sum(-1)[mid])
            b = b.reshape(len(idx), *shape)
            # One tolist per group, not per variant: the tensor calls would cost more than torch.
            rows = zip(b.tolist(), den.reshape(len(idx), *shape).tolist(), b[:, mid].tolist(),
                       strict=True)
            for i, (b_i, den_i, mid_i) in zip(idx, rows, strict=True):
                results[i] = {"b": b_i, "denominator": den_i, "b_mid": mid_i, "window": window}
        return results  # type: ignore[return-value]
