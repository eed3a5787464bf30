"""pool2d (numeric max/average pooling) against independent oracles: numpy sliding windows,
hand-worked windows, PyTorch's padding and ceil-mode conventions pinned as numbers, and
agreement with the pool2d.output_size kind."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.pool_values  # noqa: F401  (registers the kind)
from engine.compare import allclose

KIND = "pool2d"
# The usual 2×2, stride-2 max-pooling figure (4×4 in, 2×2 out).
FIGURE = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]


def solve(**params):
    return engine.solve(KIND, params)


def misconceptions(**params):
    return {m.key: m.answer for m in solve(**params).misconceptions}


def oracle(x, k, stride, mode):
    """Floor-mode pooling without padding by numpy's sliding windows (no loops, no torch)."""
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(x, float), (k, k), axis=(-2, -1))
    windows = windows[..., ::stride, ::stride, :, :]
    return windows.max(axis=(-2, -1)) if mode == "max" else windows.mean(axis=(-2, -1))


def test_max_pooling_figure():
    s = solve(input=FIGURE, kernel=2)
    assert s.answer == {"output": [[6, 8], [3, 4]], "output_shape": [2, 2]}
    assert s.params["stride"] == 2  # the stride defaults to the window size
    assert misconceptions(input=FIGURE, kernel=2)["avg_not_max"]["output"] == [[3.25, 5.25],
                                                                                [2, 2]]


def test_average_pooling_figure():
    s = solve(input=FIGURE, kernel=2, mode="avg")
    assert s.answer["output"] == [[3.25, 5.25], [2, 2]]
    assert misconceptions(input=FIGURE, kernel=2, mode="avg")["max_not_avg"]["output"] == [
        [6, 8], [3, 4]]


def test_average_counts_the_zero_padding():
    # Every 2×2 window holds one real value and three padded zeros: divide by 4, not by 1.
    s = solve(input=[[1, 2], [3, 4]], kernel=2, stride=2, padding=1, mode="avg")
    assert s.answer["output"] == [[0.25, 0.5], [0.75, 1.0]]
    wrong = misconceptions(input=[[1, 2], [3, 4]], kernel=2, stride=2, padding=1, mode="avg")
    assert wrong["excluded_padding"]["output"] == [[1, 2], [3, 4]]


def test_max_padding_never_wins():
    x = [[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]]
    # Padded to 5×5, the windows start at rows/columns 0 and 2: three of the four windows
    # touch the padding, only the bottom-right one [-5, -6; -8, -9] does not.
    s = solve(input=x, kernel=2, stride=2, padding=1)
    assert s.answer["output"] == [[-1, -2], [-4, -5]]
    assert misconceptions(input=x, kernel=2, stride=2, padding=1)["zero_padding_max"][
        "output"] == [[0, 0], [0, -5]]
    padded = s.steps[0].values["padded"]
    assert padded[0] == [None] * 5 and padded[1][1:4] == [-1, -2, -3]  # -inf shown empty
    json.dumps(s.to_dict(), allow_nan=False)


def test_ceil_mode_and_its_divisor():
    x = np.arange(25).reshape(5, 5).tolist()
    floor = solve(input=x, kernel=2, mode="avg")
    assert floor.answer["output"] == [[3, 5], [13, 15]]
    ceil = solve(input=x, kernel=2, mode="avg", ceil_mode=True)
    # The last row and column of windows hang past the input: they average what is inside.
    assert ceil.answer["output"] == [[3, 5, 6.5], [13, 15, 16.5], [20.5, 22.5, 24]]
    assert misconceptions(input=x, kernel=2, mode="avg")["ceil_not_floor"][
        "output"] == ceil.answer["output"]
    assert misconceptions(input=x, kernel=2, mode="avg", ceil_mode=True)["floor_not_ceil"][
        "output_shape"] == [2, 2]


def test_ceil_mode_drops_a_window_starting_in_the_padding():
    # n = 3, k = 2, s = 2, p = 1: ceil(3 / 2) + 1 = 3 windows, but the third would start in the
    # right padding, so PyTorch keeps 2, the same as floor.
    s = solve(input=[[1, 2, 3], [4, 5, 6], [7, 8, 9]], kernel=2, padding=1, ceil_mode=True)
    assert s.answer["output_shape"] == [2, 2]
    assert "floor_not_ceil" not in {m.key for m in s.misconceptions}


def test_channels_are_pooled_separately():
    x = [FIGURE, (-np.asarray(FIGURE)).tolist()]
    s = solve(input=x, kernel=2)
    assert s.answer["output"] == [[[6, 8], [3, 4]], [[-1, -2], [-1, 0]]]
    assert s.answer["output_shape"] == [2, 2, 2]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"input": FIGURE, "kernel": 2, "padding": 2}, "padding"),  # more than k / 2
        ({"input": FIGURE, "kernel": 5}, "kernel"),
        ({"input": FIGURE, "kernel": 2, "mode": "median"}, "mode"),
        ({"input": FIGURE, "kernel": 0}, "kernel"),
        ({"input": FIGURE, "kernel": 2, "stride": 0}, "stride"),
        ({"input": [[0.0] * 65] * 64, "kernel": 2}, "input"),  # 4160 elements > 4096
    ],
)
def test_invalid_params_name_the_parameter(params, name):
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        solve(**params)


def test_output_shape_agrees_with_the_output_size_kind():
    for seed in range(30):
        p = engine.sample_params(KIND, seed)
        size = engine.solve("pool2d.output_size", {
            "in_size": len(p["input"][-1]), "kernel": p["kernel"], "stride": p["stride"],
            "padding": p["padding"], "ceil_mode": p["ceil_mode"]}).answer["output_size"]
        assert engine.solve(KIND, p).answer["output_shape"][-2:] == [size, size]


def test_trace_works_at_most_four_windows():
    for seed in range(10):
        s = engine.sample(KIND, seed)
        assert 1 <= sum(st.label.startswith("Window") for st in s.steps) <= 4
        assert s.steps[-1].values["output"] == s.answer["output"]


def test_samples_are_reproducible():
    for seed in range(30):
        assert engine.sample_params(KIND, seed) == engine.sample_params(KIND, seed)


def test_batch_equals_solve():
    ps = [engine.sample_params(KIND, seed) for seed in range(200)]
    for p, answer in zip(ps, engine.solve_batch(KIND, ps), strict=True):
        single = engine.solve(KIND, p).answer
        assert answer["output_shape"] == single["output_shape"]
        assert allclose(answer["output"], single["output"], rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), h=st.integers(2, 8), w=st.integers(2, 8), k=st.integers(1, 3),
       stride=st.integers(1, 3), mode=st.sampled_from(["max", "avg"]))
def test_any_unpadded_pooling_matches_sliding_windows(data, h, w, k, stride, mode):
    k = min(k, h, w)
    x = data.draw(st.lists(st.lists(st.integers(-9, 9), min_size=w, max_size=w),
                           min_size=h, max_size=h))
    s = solve(input=x, kernel=k, stride=stride, mode=mode)
    assert s.verification.passed
    assert allclose(s.answer["output"], oracle(x, k, stride, mode), rtol=1e-12, atol=1e-12)
