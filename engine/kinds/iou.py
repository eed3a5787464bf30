"""Intersection over union (IoU) of two axis-aligned boxes.

Symbols, as printed in the steps:
    A = [x_1^A, y_1^A, x_2^A, y_2^A]    first box (top-left and bottom-right corners)
    B = [x_1^B, y_1^B, x_2^B, y_2^B]    second box
    S_A, S_B    areas       I   intersection area       U   union area

Coordinates are continuous (a box [0, 0, 2, 2] has area 4), as in torchvision's
``box_iou``; the "+1 pixel" convention of old detection code is listed as a mistake.
"""

from __future__ import annotations

import random
from typing import Any

import torch

from engine.params import Array
from engine.registry import DTYPE, Answer, AnswerType, Computed, Kind, Misconception, register
from engine.trace import Trace

COORD_LIMIT = 1e6


def _area(box: list[float]) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _overlap(a: list[float], b: list[float]) -> tuple[float, float]:
    """Width and height of the intersection (0 when the boxes do not overlap)."""
    return (max(0.0, min(a[2], b[2]) - max(a[0], b[0])),
            max(0.0, min(a[3], b[3]) - max(a[1], b[1])))


@register("iou")
class Iou(Kind):
    r"""IoU of two boxes given as [x_1, y_1, x_2, y_2].

    .. math::
        w_I = \max(0, \min(x_2^A, x_2^B) - \max(x_1^A, x_1^B)), \quad
        h_I = \max(0, \min(y_2^A, y_2^B) - \max(y_1^A, y_1^B))

        I = w_I h_I, \qquad U = S_A + S_B - I, \qquad \mathrm{IoU} = \frac{I}{U}
    """

    title = "Intersection over union"
    title_zh = "交并比（IoU）"
    params = (
        Array("box_a", ndim=(1,), shape=(4,), min=-COORD_LIMIT, max=COORD_LIMIT,
              help="first box [x1, y1, x2, y2], x1 <= x2 and y1 <= y2"),
        Array("box_b", ndim=(1,), shape=(4,), min=-COORD_LIMIT, max=COORD_LIMIT,
              help="second box [x1, y1, x2, y2], x1 <= x2 and y1 <= y2"),
    )
    answers = (
        Answer("iou", AnswerType.SCALAR, "I / U, between 0 and 1"),
        Answer("intersection", AnswerType.SCALAR, "area of the overlap I"),
        Answer("union", AnswerType.SCALAR, "area of the union U"),
    )
    check_method = "plain Python min/max on the corner coordinates"
    conventions = (
        "Continuous coordinates: the area of [x1, y1, x2, y2] is (x2 - x1)(y2 - y1), as in "
        "torchvision.ops.box_iou; no +1 for inclusive pixel indices.",
        "The y axis may point down (image rows) or up: the formula is the same either way.",
    )
    batchable = True

    def clean(self, p: dict[str, Any]) -> None:
        for name in ("box_a", "box_b"):
            x1, y1, x2, y2 = p[name]
            if x2 < x1 or y2 < y1:
                axis, lo, hi = ("x", x1, x2) if x2 < x1 else ("y", y1, y2)
                raise ValueError(f"parameter '{name}': {axis}2 = {hi:g} is less than {axis}1 = "
                                 f"{lo:g}; a box is [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2")
        if _area(p["box_a"]) + _area(p["box_b"]) == 0:
            raise ValueError("parameter 'box_b': both boxes have zero area, so the union is 0 "
                             "and IoU is undefined")

    def sample(self, rng: random.Random) -> dict[str, Any]:
        decimals = rng.random() < 0.25

        def coord(low: float, high: float) -> float:
            return round(rng.uniform(low, high), 1) if decimals else rng.randint(low, high)

        x1, y1 = coord(0, 6), coord(0, 6)
        a = [x1, y1, x1 + coord(2, 8), y1 + coord(2, 8)]
        bx, by = coord(a[0] - 3, a[2] - 1), coord(a[1] - 3, a[3] - 1)  # start so they overlap
        b = [bx, by, bx + coord(2, 8), by + coord(2, 8)]
        return {"box_a": [round(v, 1) for v in a], "box_b": [round(v, 1) for v in b]}

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        w, h = _overlap(p["box_a"], p["box_b"])
        smaller = min(_area(p["box_a"]), _area(p["box_b"]))
        return w * h == 0 or smaller == 0 or p["box_a"] == p["box_b"]

    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        boxes = torch.tensor([p["box_a"], p["box_b"]], dtype=DTYPE, device=device)  # (2, 4)
        a, b = boxes
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])  # (S_A, S_B)
        top_left = torch.maximum(a[:2], b[:2])
        bottom_right = torch.minimum(a[2:], b[2:])
        wh = (bottom_right - top_left).clamp(min=0)  # (w_I, h_I)
        inter = wh[0] * wh[1]
        union = areas.sum() - inter
        iou = inter / union
        t = Trace()
        t.step("Areas of the two boxes", "两个框的面积",
               r"S_A = (x_2^A - x_1^A)(y_2^A - y_1^A), \quad S_B = (x_2^B - x_1^B)(y_2^B - y_1^B)",
               S_A=areas[0], S_B=areas[1])
        t.step("Corners of the overlap: larger top-left, smaller bottom-right",
               "重叠区域的角点：左上取较大者，右下取较小者",
               r"(\max(x_1^A, x_1^B), \max(y_1^A, y_1^B)), \; "
               r"(\min(x_2^A, x_2^B), \min(y_2^A, y_2^B))",
               top_left=top_left, bottom_right=bottom_right)
        t.step("Overlap width and height, clamped at 0", "重叠的宽和高（小于 0 时取 0）",
               r"w_I = \max(0, \min(x_2^A, x_2^B) - \max(x_1^A, x_1^B)), \; h_I = \max(0, \dots)",
               w_I=wh[0], h_I=wh[1])
        t.step("Intersection area", "交集面积", r"I = w_I h_I", I=inter)
        t.step("Union: both areas minus the overlap counted twice", "并集：两面积之和减去重复计算的交集",
               r"U = S_A + S_B - I", U=union)
        t.step("Divide", "相除", r"\mathrm{IoU} = \frac{I}{U}", IoU=iou)
        return Computed({"iou": iou, "intersection": inter, "union": union}, t.steps)

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        a, b = p["box_a"], p["box_b"]
        w, h = _overlap(a, b)
        inter = w * h
        union = _area(a) + _area(b) - inter
        return {"iou": inter / union, "intersection": inter, "union": union}

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        a, b = p["box_a"], p["box_b"]
        area_a, area_b = _area(a), _area(b)
        w, h = _overlap(a, b)
        inter = w * h
        out = []
        # The seed's code: min of the y1's and max of the y2's, i.e. the height of the hull.
        hull_h = max(0.0, max(a[3], b[3]) - min(a[1], b[1]))
        seed_inter = w * hull_h
        seed_union = area_a + area_b - seed_inter
        if seed_union > 0:
            out.append(Misconception(
                "seed_y_min_max_swapped", "Took min/max the wrong way for y (min of y1, max of y2)",
                "y 方向的 min/max 用反了（y1 取最小、y2 取最大）",
                {"iou": seed_inter / seed_union, "intersection": seed_inter, "union": seed_union}))
        pw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
        ph = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
        plus_union = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
        plus_union -= pw * ph
        out.append(Misconception(
            "plus_one_pixel", "Added 1 to widths and heights (inclusive pixel coordinates)",
            "宽和高都加了 1（按包含端点的像素坐标）",
            {"iou": pw * ph / plus_union, "intersection": pw * ph, "union": plus_union}))
        out.append(Misconception(
            "union_without_subtracting", "Took the union as S_A + S_B (forgot to subtract I)",
            "并集直接用 S_A + S_B（忘了减去交集）",
            {"iou": inter / (area_a + area_b), "union": area_a + area_b}))
        if min(area_a, area_b) > 0:
            out.append(Misconception(
                "over_smaller_box", "Divided by the smaller box instead of the union",
                "除以较小框的面积而不是并集", {"iou": inter / min(area_a, area_b)}))
        return out

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        boxes = torch.tensor([[p["box_a"], p["box_b"]] for p in ps], dtype=DTYPE,
                             device=device)  # (N, 2, 4)
        areas = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])  # (N, 2)
        wh = (torch.minimum(boxes[:, 0, 2:], boxes[:, 1, 2:])
              - torch.maximum(boxes[:, 0, :2], boxes[:, 1, :2])).clamp(min=0)  # (N, 2)
        inter = wh[:, 0] * wh[:, 1]
        union = areas.sum(1) - inter
        rows = torch.stack([inter / union, inter, union], 1).tolist()
        return [{"iou": r[0], "intersection": r[1], "union": r[2]} for r in rows]
