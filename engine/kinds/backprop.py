"""One step of back-propagation through a two-layer network (one hidden layer), by hand.

Symbols, as printed in the steps:
    x        input vector                    t        target vector
    W1, b1   hidden-layer weights (hidden×in) and biases
    W2, b2   output-layer weights (out×hidden) and biases
    f        activation, the same in both layers; f' its derivative
    net_h    W1 x + b1                       out_h    f(net_h)
    net_o    W2 out_h + b2                   out_o    f(net_o)
    E        loss                            η        learning rate
    δ_o      ∂E/∂net_o                       δ_h      ∂E/∂net_h

The answers come from torch autograd; the independent check is the delta rule written
out in numpy. Conventions: a single number given for b1 (or b2) initialises every unit's
own bias, so bias gradients and updated biases are per unit; the hidden deltas use the
ORIGINAL W2 (all gradients first, then all updates); ReLU has f'(0) = 0, as in PyTorch.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from engine.kinds.backprop_reference import (
    ACTIVATIONS,
    LOSSES,
    Way,
    delta_rule,
    forward,
    indistinguishable,
    per_unit,
)
from engine.kinds.conv import batch_tensor
from engine.params import MAX_ELEMENTS, Array, Boolean, Choice, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_UNITS = 64  # longest x, target or per-unit bias list
VALUE_LIMIT = 100.0

_F = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}
_F_FORMULA = {"sigmoid": r"f(z) = \frac{1}{1 + e^{-z}}", "tanh": r"f(z) = \tanh z",
              "relu": r"f(z) = \max(0, z)", "identity": r"f(z) = z"}
_FPRIME_FORMULA = {"sigmoid": r"f'(net) = out\,(1 - out)", "tanh": r"f'(net) = 1 - out^2",
                   "relu": r"f'(net) = [net > 0]", "identity": r"f'(net) = 1"}
_LOSS_FORMULA = {"half_sse": r"E = \sum_k \tfrac{1}{2}(t_k - out_{o,k})^2",
                 "mse": r"E = \frac{1}{n_o} \sum_k (t_k - out_{o,k})^2"}
_DE_DOUT = {"half_sse": r"\frac{\partial E}{\partial out_o} = out_o - t",
            "mse": r"\frac{\partial E}{\partial out_o} = \frac{2}{n_o}(out_o - t)"}


def _f_prime(activation: str, net: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """f'(net) for display (the answers themselves come from autograd)."""
    if activation == "sigmoid":
        return out * (1 - out)
    if activation == "tanh":
        return 1 - out * out
    if activation == "relu":
        return (net > 0).to(net.dtype)
    return torch.ones_like(net)


def _loss(y: torch.Tensor, t: torch.Tensor, loss: str) -> torch.Tensor:
    """Per-example loss over the last dimension (works for one example or a batch)."""
    diff = y - t
    sse = (diff * diff).sum(dim=-1)
    return sse * 0.5 if loss == "half_sse" else sse / y.shape[-1]


def _vector(name: str, help_text: str, ndim: tuple[int, ...] = (1,)) -> Array:
    return Array(name, ndim=ndim, min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_UNITS,
                 help=help_text)


def _matrix(name: str, help_text: str) -> Array:
    return Array(name, ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT, max_elements=MAX_ELEMENTS,
                 help=help_text)


@register("backprop.two_layer")
class BackpropTwoLayer(Kind):
    r"""Forward pass, gradients and one gradient-descent step of a two-layer network.

    .. math::
        net_h = W_1 x + b_1,\quad out_h = f(net_h),\quad
        net_o = W_2\, out_h + b_2,\quad out_o = f(net_o),\quad
        E = \sum_k \tfrac{1}{2}(t_k - out_{o,k})^2 \;\text{(or the mean of } (t_k - out_{o,k})^2)

        \delta_o = \frac{\partial E}{\partial out_o} \odot f'(net_o),\quad
        \frac{\partial E}{\partial W_2} = \delta_o\, out_h^{\top},\quad
        \delta_h = (W_2^{\top} \delta_o) \odot f'(net_h),\quad
        \frac{\partial E}{\partial W_1} = \delta_h\, x^{\top},\quad
        \frac{\partial E}{\partial b} = \delta

        W \leftarrow W - \eta \frac{\partial E}{\partial W}
        \quad\text{(biases too only when update\_bias)}
    """

    title = "Back-propagation through a two-layer network"
    title_zh = "两层神经网络的反向传播"
    params = (
        _vector("x", "input vector x"),
        _vector("target", "target vector t, one per output"),
        _matrix("w1", "hidden-layer weights W1 (hidden × in)"),
        _vector("b1", "hidden bias: one number for every unit, or one per unit", (0, 1)),
        _matrix("w2", "output-layer weights W2 (out × hidden)"),
        _vector("b2", "output bias: one number for every unit, or one per unit", (0, 1)),
        Number("lr", min=0, max=10, help="learning rate η"),
        Choice("activation", default="sigmoid", choices=ACTIVATIONS,
               help="activation f, used in both layers"),
        Choice("loss", default="half_sse", choices=LOSSES,
               help="half_sse: Σ ½(t - y)²; mse: mean of (t - y)²"),
        Boolean("update_bias", default=False, help="also take a gradient step on b1 and b2"),
    )
    answers = (
        Answer("hidden", AnswerType.VECTOR, "out_h = f(net_h)"),
        Answer("output", AnswerType.VECTOR, "out_o = f(net_o)"),
        Answer("loss", AnswerType.SCALAR, "E before the update"),
        Answer("grad_w1", AnswerType.TENSOR, "∂E/∂W1 (hidden × in)"),
        Answer("grad_b1", AnswerType.VECTOR, "∂E/∂b1 = δ_h, per hidden unit"),
        Answer("grad_w2", AnswerType.TENSOR, "∂E/∂W2 (out × hidden)"),
        Answer("grad_b2", AnswerType.VECTOR, "∂E/∂b2 = δ_o, per output unit"),
        Answer("w1_new", AnswerType.TENSOR, "W1 - η ∂E/∂W1"),
        Answer("w2_new", AnswerType.TENSOR, "W2 - η ∂E/∂W2"),
        Answer("b1_new", AnswerType.VECTOR, "b1 after the step, per unit (unchanged unless "
               "update_bias)"),
        Answer("b2_new", AnswerType.VECTOR, "b2 after the step, per unit (unchanged unless "
               "update_bias)"),
        Answer("loss_after", AnswerType.SCALAR, "E of the updated network on the same example"),
    )
    check_method = "the delta rule written out in numpy float64 (δ_o, δ_h, outer products)"
    conventions = (
        "The same activation in both layers. ReLU's derivative at 0 is taken as 0 (PyTorch).",
        "A single bias number initialises every unit's own bias; bias gradients are per unit.",
        "Biases stay fixed unless update_bias (the classic worked example updates weights only).",
        "All gradients are computed before any weight changes: δ_h uses the original W2.",
        "half_sse is Σ ½(t - y)² (summed, not averaged); mse averages (t - y)² over outputs.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        n_in, (n_h, w1_cols), (n_o, w2_cols) = len(p["x"]), _dims(p["w1"]), _dims(p["w2"])
        if w1_cols != n_in:
            raise ValueError(f"parameter 'w1': has {w1_cols} columns but x has {n_in} elements; "
                             f"w1 must be hidden × in")
        if w2_cols != n_h:
            raise ValueError(f"parameter 'w2': has {w2_cols} columns but w1 has {n_h} rows "
                             f"(hidden units); w2 must be out × hidden")
        if len(p["target"]) != n_o:
            raise ValueError(f"parameter 'target': has {len(p['target'])} elements but w2 has "
                             f"{n_o} rows (outputs)")
        for name, units in (("b1", n_h), ("b2", n_o)):
            if isinstance(p[name], list) and len(p[name]) != units:
                raise ValueError(f"parameter '{name}': has {len(p[name])} elements but there are "
                                 f"{units} units; give one number or one per unit")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        n_in, n_h, n_o = rng.randint(2, 3), rng.randint(2, 3), rng.randint(1, 2)

        def weight() -> float:
            return round(rng.uniform(-1, 1), 2)

        def bias(units: int) -> float | list[float]:
            return weight() if rng.random() < 0.7 else [weight() for _ in range(units)]

        return {
            "x": [round(rng.uniform(0, 1), 2) for _ in range(n_in)],
            "target": [round(rng.uniform(0.01, 0.99), 2) for _ in range(n_o)],
            "w1": [[weight() for _ in range(n_in)] for _ in range(n_h)], "b1": bias(n_h),
            "w2": [[weight() for _ in range(n_h)] for _ in range(n_o)], "b2": bias(n_o),
            "lr": rng.choice([0.1, 0.5, 1.0]),
            "activation": rng.choices(ACTIVATIONS, weights=(6, 2, 1, 1))[0],
            "loss": "mse" if rng.random() < 0.2 else "half_sse",
            "update_bias": rng.random() < 0.3,
        }

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        ref = delta_rule(p)
        if p["activation"] == "relu":  # a ReLU input at (rounded) zero: its derivative is moot
            if np.min(np.abs(np.concatenate([ref["net_h"], ref["net_o"]]))) < 1e-9:
                return True
        return not (np.any(ref["grad_w1"][0]) and np.any(ref["grad_w2"][0]))

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        act, loss_name, lr = p["activation"], p["loss"], p["lr"]
        f = _F[act]

        def tensor(value: Any, grad: bool = False) -> torch.Tensor:
            return torch.tensor(value, dtype=DTYPE, device=device, requires_grad=grad)

        x, t = tensor(p["x"]), tensor(p["target"])
        w1, w2 = tensor(p["w1"], True), tensor(p["w2"], True)
        b1 = tensor(per_unit(p["b1"], len(p["w1"])), True)
        b2 = tensor(per_unit(p["b2"], len(p["w2"])), True)
        net_h = torch.addmv(b1, w1, x)  # (hidden,)  W1 x + b1
        out_h = f(net_h)
        net_o = torch.addmv(b2, w2, out_h)  # (out,)  W2 out_h + b2
        out_o = f(net_o)
        loss = _loss(out_o, t, loss_name)
        # ∂E/∂b is the delta of that layer: δ_o = ∂E/∂net_o, δ_h = ∂E/∂net_h; and
        # ∂E/∂out_h = W2ᵀ δ_o is what flows back through the original W2.
        grad_w1, delta_h, grad_w2, delta_o, back, de_dout = torch.autograd.grad(
            loss, (w1, b1, w2, b2, out_h, out_o))
        with torch.no_grad():
            w1_new = torch.add(w1, grad_w1, alpha=-lr)  # W1 - η ∂E/∂W1
            w2_new = torch.add(w2, grad_w2, alpha=-lr)
            if p["update_bias"]:
                b1_new = torch.add(b1, delta_h, alpha=-lr)
                b2_new = torch.add(b2, delta_o, alpha=-lr)
            else:
                b1_new, b2_new = b1.detach(), b2.detach()
            out_o_after = f(torch.addmv(b2_new, w2_new, f(torch.addmv(b1_new, w1_new, x))))
            loss_after = _loss(out_o_after, t, loss_name)
            errors = {"E_k": 0.5 * (t - out_o) ** 2} if loss_name == "half_sse" else {}
            f_prime_o, f_prime_h = _f_prime(act, net_o, out_o), _f_prime(act, net_h, out_h)

        tr = Trace()
        tr.step("Hidden layer: weighted sums", "隐藏层：加权求和", r"net_h = W_1 x + b_1",
                net_h=net_h)
        tr.step("Hidden layer: activations", "隐藏层：激活输出", _F_FORMULA[act] +
                r",\quad out_h = f(net_h)", out_h=out_h)
        tr.step("Output layer: weighted sums", "输出层：加权求和", r"net_o = W_2\, out_h + b_2",
                net_o=net_o)
        tr.step("Output layer: activations", "输出层：激活输出", r"out_o = f(net_o)", out_o=out_o)
        tr.step("Loss", "误差（损失）", _LOSS_FORMULA[loss_name], **errors, E=loss)
        tr.step("Output deltas", "输出层误差项 δ_o",
                _DE_DOUT[loss_name] + r",\quad " + _FPRIME_FORMULA[act]
                + r",\quad \delta_o = \frac{\partial E}{\partial out_o} \odot f'(net_o)",
                dE_dout_o=de_dout, f_prime_net_o=f_prime_o, delta_o=delta_o)
        tr.step("Output-layer gradients", "输出层梯度",
                r"\frac{\partial E}{\partial W_2} = \delta_o\, out_h^{\top},\quad "
                r"\frac{\partial E}{\partial b_2} = \delta_o", grad_w2=grad_w2)
        tr.step("Hidden deltas (through the original W2)", "隐藏层误差项 δ_h（用更新前的 W2）",
                r"\delta_h = (W_2^{\top} \delta_o) \odot f'(net_h)", back=back,
                f_prime_net_h=f_prime_h, delta_h=delta_h)
        tr.step("Hidden-layer gradients", "隐藏层梯度",
                r"\frac{\partial E}{\partial W_1} = \delta_h\, x^{\top},\quad "
                r"\frac{\partial E}{\partial b_1} = \delta_h", grad_w1=grad_w1)
        rule = r"W \leftarrow W - \eta \frac{\partial E}{\partial W}"
        if p["update_bias"]:
            tr.step("Gradient-descent step", "梯度下降更新",
                    rule + r",\quad b \leftarrow b - \eta \frac{\partial E}{\partial b}", eta=lr,
                    w1_new=w1_new, w2_new=w2_new, b1_new=b1_new, b2_new=b2_new)
        else:
            tr.step("Gradient-descent step (biases unchanged)", "梯度下降更新（偏置不更新）",
                    rule, eta=lr, w1_new=w1_new, w2_new=w2_new)
        tr.step("Loss of the updated network", "更新后网络的误差",
                r"E' = E(W_1', b_1', W_2', b_2')", loss_after=loss_after)
        return Computed({
            "hidden": out_h, "output": out_o, "loss": loss,
            "grad_w1": grad_w1, "grad_b1": delta_h, "grad_w2": grad_w2, "grad_b2": delta_o,
            "w1_new": w1_new, "w2_new": w2_new, "b1_new": b1_new, "b2_new": b2_new,
            "loss_after": loss_after,
        }, tr.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        ref = delta_rule(p)
        return {key: ref[key][0] for key in _ANSWER_KEYS}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        # Scalar keys first: the number a grader compares first is then the cheapest.
        bias_keys = ("b1_new", "b2_new") if p["update_bias"] else ()
        steps = ("loss_after", "w1_new", "w2_new", *bias_keys)
        grads = ("grad_w1", "grad_b1", "grad_w2", "grad_b2")
        if p["loss"] == "half_sse":
            sse = ("dropped_half", "Dropped the ½ of the squared error (gradients doubled)",
                   "平方误差漏掉了 ½（梯度翻倍）")
        else:
            sse = ("summed_not_averaged", "Summed the squared errors instead of averaging",
                   "平方误差求和而没有取平均")
        mistakes = (  # key, label, label_zh, the way it is done, the answers it changes
            ("updated_w2_first", "Back-propagated through the already-updated output weights "
             "(δ_h must use the original W2)", "用已更新的输出层权重反向传播（δ_h 应使用原来的 W2）",
             Way(stale_w2=True), ("loss_after", "grad_w1", "grad_b1", "w1_new", *bias_keys[:1])),
            ("no_activation_derivative", "Forgot the activation derivative f'(net) in the deltas",
             "求 δ 时漏乘了激活函数的导数 f'(net)", Way(derivative=False), (*steps, *grads)),
            ("gradient_ascent", "Flipped the gradient's sign (climbed the loss: w + η∂E/∂w)",
             "梯度符号反了（沿梯度上升：w + η∂E/∂w）", Way(direction=-1.0), (*steps, *grads)),
            ("net_instead_of_out", "Used the pre-activation net_h instead of out_h in the "
             "output-layer gradient", "输出层梯度里用了隐藏层的净输入 net_h 而不是输出 out_h",
             Way(net_in_grad=True), ("loss_after", "grad_w2", "w2_new")),
            ("forgot_lr", "Forgot the learning rate (a step of size 1)", "忘了乘学习率（步长为 1）",
             Way(lr=1.0), steps),
            (*sse, Way(loss="sse"), ("loss", *steps, *grads)),
        )
        ref = delta_rule(p, (Way(), *(m[3] for m in mistakes)))
        same = indistinguishable(ref, _ANSWER_KEYS)
        out = []
        for k, (key, label, label_zh, _, keys) in enumerate(mistakes, start=1):
            # Only the answers this mistake changes, so that a right answer is never flagged.
            answer = {name: ref[name][k] for name in keys if not same[name][k]}
            if answer:
                out.append(Misconception(key, label, label_zh, answer))
        if p["activation"] == "sigmoid":  # the seed's typo, 1 / (1 + e^{+net}), in both layers
            typo = forward(p, "sigmoid_flipped")
            answer = {name: typo[name] for name in ("loss", "hidden", "output")
                      if not np.allclose(typo[name], ref[name][0], rtol=1e-6, atol=1e-9)}
            if answer:
                out.append(Misconception(
                    "sigmoid_plus_exponent", "Wrote the sigmoid with e^{+net} instead of e^{-net}",
                    "sigmoid 的指数写成了 e^{+net}（应为 e^{-net}）", answer))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        """Variants of one shape run as one autograd pass, whatever their activation and loss."""
        results: list[dict[str, Any] | None] = [None] * len(ps)
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, p in enumerate(ps):
            groups.setdefault((len(p["x"]), len(p["w1"]), len(p["w2"])), []).append(i)
        for (_, n_h, n_o), idx in groups.items():
            for i, answer in zip(idx, _batched_step([ps[i] for i in idx], n_h, n_o, device),
                                 strict=True):
                results[i] = answer
        return results  # type: ignore[return-value]


_ANSWER_KEYS = tuple(a.name for a in BackpropTwoLayer.answers)


def _dims(matrix: list[list[float]]) -> tuple[int, int]:
    return len(matrix), len(matrix[0])


def _batched_step(ps: list[dict[str, Any]], n_h: int, n_o: int,
                  device: torch.device) -> list[dict[str, Any]]:
    """Answers for variants of one shape, with one autograd pass on the stack.

    Each row keeps its own activation (chosen element-wise with ``torch.where``, whose gradient
    flows only through the chosen branch) and its own loss: Σ(t - y)² scaled by ½ (half_sse)
    or by 1/n_o (mse).
    """
    def stack(values: list[Any], grad: bool = False) -> torch.Tensor:
        return batch_tensor(values, device).requires_grad_(grad)

    names = [p["activation"] for p in ps]
    masks = {act: torch.tensor([n == act for n in names], device=device)[:, None]
             for act in set(names) - {"identity"}}

    def f(z: torch.Tensor) -> torch.Tensor:  # (B, units)
        out = z
        for act, mask in masks.items():
            out = torch.where(mask, _F[act](z), out)
        return out

    x = stack([p["x"] for p in ps])  # (B, in)
    t = stack([p["target"] for p in ps])  # (B, out)
    w1 = stack([p["w1"] for p in ps], True)  # (B, hidden, in)
    w2 = stack([p["w2"] for p in ps], True)  # (B, out, hidden)
    b1 = stack([per_unit(p["b1"], n_h) for p in ps], True)  # (B, hidden)
    b2 = stack([per_unit(p["b2"], n_o) for p in ps], True)  # (B, out)
    # per row: learning rate, the bias step's rate (0 unless update_bias), the loss's scale
    rates = stack([(p["lr"], p["lr"] if p["update_bias"] else 0.0,
                    0.5 if p["loss"] == "half_sse" else 1.0 / n_o) for p in ps])
    lr, bias_lr, scale = rates.T  # (B,) each

    def loss_of(y: torch.Tensor) -> torch.Tensor:
        return ((y - t) ** 2).sum(dim=-1) * scale  # (B,)

    out_h = f(torch.bmm(w1, x[:, :, None]).squeeze(2) + b1)  # (B, hidden)
    out_o = f(torch.bmm(w2, out_h[:, :, None]).squeeze(2) + b2)  # (B, out)
    loss = loss_of(out_o)
    # The examples are independent, so the gradient of the sum is each example's own gradient.
    g_w1, g_b1, g_w2, g_b2 = torch.autograd.grad(loss.sum(), (w1, b1, w2, b2))
    with torch.no_grad():
        w1_new = w1 - lr[:, None, None] * g_w1
        w2_new = w2 - lr[:, None, None] * g_w2
        b1_new = b1 - bias_lr[:, None] * g_b1
        b2_new = b2 - bias_lr[:, None] * g_b2
        h_new = f(torch.bmm(w1_new, x[:, :, None]).squeeze(2) + b1_new)
        loss_after = loss_of(f(torch.bmm(w2_new, h_new[:, :, None]).squeeze(2) + b2_new))
    columns = {
        "hidden": out_h, "output": out_o, "loss": loss, "grad_w1": g_w1, "grad_b1": g_b1,
        "grad_w2": g_w2, "grad_b2": g_b2, "w1_new": w1_new, "w2_new": w2_new, "b1_new": b1_new,
        "b2_new": b2_new, "loss_after": loss_after,
    }
    lists = {k: v.detach().cpu().numpy().tolist() for k, v in columns.items()}
    return [dict(zip(lists, row, strict=True)) for row in zip(*lists.values(), strict=True)]
