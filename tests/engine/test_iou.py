"""iou against independent oracles: counting unit cells on a grid, hand-worked boxes, and the
seed's IoU code (003, appendix B) with its min/max mistake for y reproduced."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.iou  # noqa: F401  (registers the kind)

KIND = "iou"
A, B = [0, 0, 2, 2], [1, 1, 3, 3]


def solve(a, b):
    return engine.solve(KIND, {"box_a": a, "box_b": b})


def seed_iou(candidate, truth):
    """The seed's calculateIoU with only its syntax repaired (ASCII commas, cy2 unpacked);
    the y line keeps its min/max as published."""
    cx1, cy1, cx2, cy2 = candidate
    gx1, gy1, gx2, gy2 = truth
    carea = (cx2 - cx1) * (cy2 - cy1)
    garea = (gx2 - gx1) * (gy2 - gy1)
    x1, y1, x2, y2 = max(cx1, gx1), min(cy1, gy1), min(cx2, gx2), max(cy2, gy2)
    w, h = max(0, (x2 - x1)), max(0, (y2 - y1))
    area_intersection = w * h
    area_union = carea + garea - area_intersection
    return area_intersection / area_union, area_intersection, area_union


def grid_oracle(a, b):
    """Intersection and union of integer boxes by counting the unit cells they cover."""
    cover = np.zeros((2, 40, 40), dtype=bool)
    for layer, (x1, y1, x2, y2) in zip(cover, (a, b), strict=True):
        layer[int(y1):int(y2), int(x1):int(x2)] = True
    inter, union = int((cover[0] & cover[1]).sum()), int((cover[0] | cover[1]).sum())
    return inter, union


def test_worked_example():
    s = solve(A, B)
    assert s.answer == {"iou": pytest.approx(1 / 7, rel=1e-15), "intersection": 1, "union": 7}
    assert s.verification.passed


@pytest.mark.parametrize(
    ("a", "b", "iou"),
    [
        ([0, 0, 4, 4], [0, 0, 4, 4], 1.0),  # identical
        ([0, 0, 1, 1], [2, 2, 3, 3], 0.0),  # apart
        ([0, 0, 1, 1], [1, 0, 2, 1], 0.0),  # touching along an edge
        ([0, 0, 4, 4], [1, 1, 3, 3], 0.25),  # one inside the other: 4 / 16
        ([0.5, 0.5, 2.5, 1.5], [1.5, 0, 3.5, 1], 0.5 / 3.5),  # I = 1 × 0.5, U = 2 + 2 - 0.5
    ],
)
def test_special_positions(a, b, iou):
    assert solve(a, b).answer["iou"] == pytest.approx(iou, rel=1e-12, abs=1e-15)


def test_seed_code_gets_y_wrong():
    s = solve(A, B)
    wrong = {m.key: m.answer for m in s.misconceptions}
    seed = seed_iou(A, B)
    assert seed == (0.6, 3, 5)  # the hull in y (3 tall) instead of the overlap (1 tall)
    got = wrong["seed_y_min_max_swapped"]
    assert (got["iou"], got["intersection"], got["union"]) == pytest.approx(seed)


def test_seed_code_as_published_does_not_run():
    line = "cx1， cy1， cx1, cx2 = candidateBound"  # full-width commas, as in the notes
    with pytest.raises(SyntaxError):
        compile(line, "<seed>", "exec")


def test_other_misconceptions():
    wrong = {m.key: m.answer for m in solve(A, B).misconceptions}
    # Inclusive pixels: the overlap is 2 × 2, each box 3 × 3, union 9 + 9 - 4 = 14.
    assert wrong["plus_one_pixel"] == {"iou": 4 / 14, "intersection": 4, "union": 14}
    assert wrong["union_without_subtracting"] == {"iou": 1 / 8, "union": 8}
    assert wrong["over_smaller_box"] == {"iou": 1 / 4}


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ([2, 0, 1, 1], B, "parameter 'box_a': x2 = 1 is less than x1 = 2"),
        (A, [0, 3, 1, 2], "parameter 'box_b': y2 = 2 is less than y1 = 3"),
        (A, [0, 0, 1], "parameter 'box_b'"),
        ([0, 0, 0, 5], [1, 1, 1, 1], "parameter 'box_b': both boxes have zero area"),
        ([0, 0, 1, float("nan")], B, "parameter 'box_a'"),
    ],
)
def test_invalid_boxes_name_the_parameter(a, b, match):
    with pytest.raises(ValueError, match=match):
        solve(a, b)


def test_samples_are_reproducible_and_overlap():
    for seed in range(50):
        p = engine.sample_params(KIND, seed)
        assert p == engine.sample_params(KIND, seed)
        assert 0 < engine.solve(KIND, p).answer["iou"] < 1


def test_batch_equals_solve():
    ps = [engine.sample_params(KIND, seed) for seed in range(200)]
    for p, answer in zip(ps, engine.solve_batch(KIND, ps), strict=True):
        single = engine.solve(KIND, p).answer
        assert answer == pytest.approx(single, rel=1e-12, abs=1e-15)


corner = st.integers(0, 30)
box = st.tuples(corner, corner, st.integers(1, 9), st.integers(1, 9)).map(
    lambda t: [t[0], t[1], t[0] + t[2], t[1] + t[3]])


@settings(max_examples=60, deadline=None)
@given(a=box, b=box)
def test_any_integer_boxes_match_cell_counting(a, b):
    s = solve(a, b)
    inter, union = grid_oracle(a, b)
    assert (s.answer["intersection"], s.answer["union"]) == (inter, union)
    assert s.answer["iou"] == pytest.approx(inter / union, rel=1e-12, abs=0)
    assert solve(b, a).answer["iou"] == pytest.approx(s.answer["iou"], rel=1e-15, abs=0)
