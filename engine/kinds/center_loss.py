"""Center loss (Wen et al., ECCV 2016): pull each feature toward the centre of its class.

Symbols, as printed in the steps:
    x_i      feature of example i (row i of x, before the classifier)    m  batch size
    y_i      its class label (0 … K − 1)                                 d  feature size
    c_j      centre of class j (row j of centers)                        K  number of classes
    n_j      examples of class j in the batch, Σ_i δ(y_i = j)
    Δc_j     centre update direction          α  centre learning rate (alpha)
    L_C      the center loss; ``reduction`` "sum" as in the paper, "mean" divides by m

The joint objective is L = L_S + λ L_C with the softmax loss L_S; this kind computes
the center-loss part and the centre update (the gradient of λ L_C is λ times grad_x).
"""

from __future__ import annotations

import random
from typing import Any

import torch

from engine.params import Array, Choice, Number
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

MAX_BATCH = 256
MAX_DIM = 64
MAX_CLASSES = 256
VALUE_LIMIT = 1e4


def center_loss_reference(p: dict[str, Any], *, half: bool = True, squared: bool = True,
                          reduction: str | None = None) -> dict[str, Any]:
    """L_C and ∂L_C/∂x_i by explicit Python loops over examples and coordinates.

    ``half=False`` drops the ½, ``squared=False`` sums plain distances (loss only) and
    ``reduction`` overrides sum / mean: the named mistakes.
    """
    x, y, c = p["x"], p["labels"], p["centers"]
    m, d = len(x), len(x[0])
    reduction = p["reduction"] if reduction is None else reduction
    scale = (0.5 if half else 1.0) / (m if reduction == "mean" else 1)
    total = 0.0
    grad = [[0.0] * d for _ in range(m)]
    for i in range(m):
        sq = 0.0
        for k in range(d):
            diff = x[i][k] - c[y[i]][k]
            sq += diff * diff
            grad[i][k] = 2 * scale * diff  # d/dx of scale·diff²
        total += sq if squared else sq**0.5
    return {"loss": scale * total, "grad_x": grad}


def center_update_reference(p: dict[str, Any], *, plus_one: bool = True,
                            use_indicator: bool = True, normalise: bool = True,
                            sign: float = 1.0) -> dict[str, Any]:
    """Δc_j and the new centres by explicit loops over classes and examples.

    The keywords make the named mistakes: ``plus_one=False`` divides by n_j (absent classes
    keep Δc_j = 0), ``use_indicator=False`` sums over every example of the batch,
    ``normalise=False`` takes the raw gradient Σ(c_j − x_i), ``sign=-1`` moves the centre
    the wrong way.
    """
    x, y, c, alpha = p["x"], p["labels"], p["centers"], p["alpha"]
    d = len(c[0])
    delta, new = [], []
    for j in range(len(c)):
        members = [i for i in range(len(x)) if y[i] == j or not use_indicator]
        n = len(members)
        sums = [sum(c[j][k] - x[i][k] for i in members) for k in range(d)]
        if not normalise:
            den = 1.0
        elif plus_one:
            den = 1.0 + n
        else:
            den = float(n) if n else 1.0  # 0/0 for an absent class: leave the centre
        row = [s / den for s in sums]
        delta.append(row)
        new.append([c[j][k] - sign * alpha * row[k] for k in range(d)])
    return {"delta_c": delta, "centers_new": new}


@register("center_loss")
class CenterLoss(Kind):
    r"""Center loss, its gradient and one update of the class centres.

    .. math::
        L_C = \frac{1}{2}\sum_{i=1}^{m} \lVert x_i - c_{y_i} \rVert_2^2 \ (\text{sum}), \qquad
        L_C = \frac{1}{2m}\sum_{i=1}^{m} \lVert x_i - c_{y_i} \rVert_2^2 \ (\text{mean})

        \frac{\partial L_C}{\partial x_i} = x_i - c_{y_i} \ (\text{sum; } \div m \text{ for mean})

        \Delta c_j = \frac{\sum_{i=1}^{m} \delta(y_i = j)\,(c_j - x_i)}
            {1 + \sum_{i=1}^{m} \delta(y_i = j)}, \qquad c_j \leftarrow c_j - \alpha\,\Delta c_j
    """

    title = "Center loss and the centre update"
    title_zh = "Center Loss 与类中心更新"
    params = (
        Array("x", ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT,
              help=f"features x_i, one row per example (m × d, m ≤ {MAX_BATCH}, d ≤ {MAX_DIM})"),
        Array("labels", ndim=(1,), min=0, max=MAX_CLASSES - 1, integer=True,
              max_elements=MAX_BATCH, help="class y_i of each row of x (0-based)"),
        Array("centers", ndim=(2,), min=-VALUE_LIMIT, max=VALUE_LIMIT,
              help=f"class centres c_j, one row per class (K × d, K ≤ {MAX_CLASSES})"),
        Number("alpha", default=0.5, min=0, max=1, help="α, learning rate of the centres"),
        Choice("reduction", default="sum", choices=("sum", "mean"),
               help="sum over the batch (the paper) or mean (divide by m)"),
    )
    answers = (
        Answer("loss", AnswerType.SCALAR, "L_C"),
        Answer("grad_x", AnswerType.TENSOR, "∂L_C/∂x_i, same shape as x"),
        Answer("delta_c", AnswerType.TENSOR, "Δc_j for every class, same shape as centers"),
        Answer("centers_new", AnswerType.TENSOR, "c_j − α Δc_j, same shape as centers"),
    )
    check_method = "explicit Python loops over examples, classes and coordinates"
    conventions = (
        "reduction 'sum' (default) is the paper's L_C = ½ Σ_i ‖x_i − c_{y_i}‖²; several PyTorch "
        "reimplementations average over the batch instead ('mean', ÷ m), and some drop the ½.",
        "The centre update Δc_j (with 1 + n_j in the denominator) is the paper's rule, not the "
        "gradient of L_C; it does not depend on the reduction. Centres of classes absent from "
        "the batch get Δc_j = 0 and stay put.",
        "Δc_j uses the centres before the update; labels are 0-based class indices.",
        "The joint loss L = L_S + λ L_C adds the softmax loss; only the L_C part is computed "
        "here (its gradient in L is λ·grad_x).",
    )

    def clean(self, p: dict[str, Any]) -> None:
        x, labels, centers = p["x"], p["labels"], p["centers"]
        if len(x) > MAX_BATCH or len(x[0]) > MAX_DIM:
            raise ValueError(f"parameter 'x': shape {len(x)}×{len(x[0])} is too large; at most "
                             f"{MAX_BATCH}×{MAX_DIM}")
        if len(centers) > MAX_CLASSES:
            raise ValueError(f"parameter 'centers': {len(centers)} classes is too many; at most "
                             f"{MAX_CLASSES}")
        if len(labels) != len(x):
            raise ValueError(f"parameter 'labels': has {len(labels)} labels but x has "
                             f"{len(x)} rows; they must match")
        if len(centers[0]) != len(x[0]):
            raise ValueError(f"parameter 'centers': rows have {len(centers[0])} entries but the "
                             f"features have d = {len(x[0])}")
        for i, label in enumerate(labels):
            if label >= len(centers):
                raise ValueError(f"parameter 'labels': labels[{i}] = {label} has no centre; valid "
                                 f"range is [0, {len(centers) - 1}]")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        m, d, k = rng.randint(2, 5), rng.choice([2, 2, 3]), rng.randint(2, 4)
        return {"x": [[rng.randint(-3, 3) for _ in range(d)] for _ in range(m)],
                "labels": [rng.randrange(k) for _ in range(m)],
                "centers": [[round(rng.uniform(-2, 2), 1) if rng.random() < 0.3
                             else rng.randint(-2, 2) for _ in range(d)] for _ in range(k)],
                "alpha": rng.choice([0.5, 0.5, 0.1, 1.0]),
                "reduction": "mean" if rng.random() < 0.25 else "sum"}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        return all(xi == p["centers"][y] for xi, y in zip(p["x"], p["labels"], strict=True))

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        x = torch.tensor(p["x"], dtype=DTYPE, device=device, requires_grad=True)  # (m, d)
        labels = torch.tensor(p["labels"], dtype=torch.long, device=device)  # (m,)
        c = torch.tensor(p["centers"], dtype=DTYPE, device=device)  # (K, d)
        m, num_classes = x.shape[0], c.shape[0]
        own = c[labels]  # c_{y_i}, (m, d)
        sq_dist = ((x - own) ** 2).sum(dim=1)  # ‖x_i − c_{y_i}‖², (m,)
        scale = 0.5 / m if p["reduction"] == "mean" else 0.5
        loss = scale * sq_dist.sum()
        (grad_x,) = torch.autograd.grad(loss, x)
        counts = torch.bincount(labels, minlength=num_classes).to(DTYPE)  # n_j, (K,)
        sums = torch.zeros_like(c).index_add_(0, labels, own - x.detach())  # Σ δ(y_i=j)(c_j−x_i)
        delta = sums / (1 + counts)[:, None]  # (K, d)
        centers_new = c - p["alpha"] * delta
        t = Trace()
        t.step("Squared distance of each feature to its own class centre",
               "每个特征到其所属类中心的平方距离",
               r"\lVert x_i - c_{y_i} \rVert_2^2", diff=x.detach() - own, sq_dist=sq_dist)
        t.step("Center loss: half the sum" + (", divided by m" if p["reduction"] == "mean" else ""),
               "Center Loss：平方距离之和的一半" + ("，再除以 m" if p["reduction"] == "mean" else ""),
               (r"L_C = \frac{1}{2m}" if p["reduction"] == "mean" else r"L_C = \frac{1}{2}")
               + r"\sum_{i=1}^{m} \lVert x_i - c_{y_i} \rVert_2^2", m=m, loss=loss)
        t.step("Gradient with respect to each feature (autograd)", "对每个特征的梯度（自动求导）",
               r"\frac{\partial L_C}{\partial x_i} = x_i - c_{y_i}"
               + (r" \ (\div m)" if p["reduction"] == "mean" else ""), grad_x=grad_x)
        t.step("Count the examples of each class in the batch", "统计 batch 中每一类的样本数",
               r"n_j = \sum_{i=1}^{m} \delta(y_i = j)", n=counts)
        t.step("Centre update direction; 1 + n_j keeps absent classes at 0",
               "中心更新量；分母 1 + n_j 使 batch 中没有的类更新量为 0",
               r"\Delta c_j = \frac{\sum_{i=1}^{m} \delta(y_i = j)(c_j - x_i)}{1 + n_j}",
               delta_c=delta)
        t.step("Move each centre toward its class's features", "把每个中心向本类特征移动",
               r"c_j \leftarrow c_j - \alpha\,\Delta c_j", alpha=p["alpha"], centers_new=centers_new)
        return Computed({"loss": loss.detach(), "grad_x": grad_x, "delta_c": delta,
                         "centers_new": centers_new}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        return {**center_loss_reference(p), **center_update_reference(p)}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        mean = p["reduction"] == "mean"
        other = "sum" if mean else "mean"
        return [
            Misconception("forgot_half", "Forgot the ½ in front of the sum", "漏掉了求和前的 ½",
                          center_loss_reference(p, half=False)),
            Misconception("summed_over_batch" if mean else "averaged_over_batch",
                          "Summed over the batch instead of averaging" if mean
                          else "Averaged over the batch (÷ m) instead of summing",
                          "对 batch 求和而不是取平均" if mean else "对 batch 取了平均（÷ m）而不是求和",
                          center_loss_reference(p, reduction=other)),
            Misconception("distances_not_squared", "Used the distances ‖x_i − c_{y_i}‖ without "
                          "squaring them", "用了距离 ‖x_i − c_{y_i}‖，没有平方",
                          {"loss": center_loss_reference(p, squared=False)["loss"]}),
            Misconception("delta_without_plus_one", "Divided Δc_j by n_j instead of 1 + n_j",
                          "Δc_j 的分母用了 n_j 而不是 1 + n_j",
                          center_update_reference(p, plus_one=False)),
            Misconception("ignored_class_indicator", "Summed over the whole batch, ignoring "
                          "δ(y_i = j): every centre moves, even of classes absent from the batch",
                          "忽略了 δ(y_i = j)，对整个 batch 求和：所有中心都被更新，包括 batch 中没有的类",
                          center_update_reference(p, use_indicator=False)),
            Misconception("plain_gradient_on_centres", "Used the raw gradient Σ(c_j − x_i) "
                          "without dividing by 1 + n_j", "直接用梯度 Σ(c_j − x_i)，没有除以 1 + n_j",
                          center_update_reference(p, normalise=False)),
            Misconception("flipped_update_sign", "Added α Δc_j: the centre moves away from its "
                          "features", "加上了 α Δc_j：中心反而远离本类特征",
                          {"centers_new": center_update_reference(p, sign=-1.0)["centers_new"]}),
        ]
