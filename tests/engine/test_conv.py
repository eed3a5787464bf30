"""conv2d (numeric convolution) against independent oracles: a sliding-window einsum in
numpy, the worked example the seed notes quote, and hand-derived mistakes."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.conv  # noqa: F401  (registers the kind)
from engine.compare import allclose

KIND = "conv2d"

# The 5×5 image and 3×3 filter of the tutorial the seed quotes (002 §3.2.3): the seed writes
# out a_{0,0} = 1 + 0 + 1 + 0 + 1 + 0 + 0 + 0 + 1 = 4; the full feature maps are the tutorial's.
IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
FILTER = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def oracle(x, w, b=0.0, stride=1, padding=0, dilation=1, relu=False):
    """Cross-correlation by numpy's sliding windows and an einsum (no loops, no torch)."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    flat = x.ndim == 2 and w.ndim == 2
    x = x[None] if x.ndim == 2 else x
    w = w[None, None] if w.ndim == 2 else w
    x = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    span = [dilation * (k - 1) + 1 for k in w.shape[2:]]
    windows = np.lib.stride_tricks.sliding_window_view(x, span, axis=(1, 2))
    windows = windows[:, ::stride, ::stride, ::dilation, ::dilation]  # (C_in, H_out, W_out, kh, kw)
    z = np.einsum("cijuv,ocuv->oij", windows, w) + np.asarray(b, dtype=np.float64).reshape(-1, 1, 1)
    z = np.maximum(z, 0) if relu else z
    return z[0] if flat else z


def solve(**params):
    return engine.solve(KIND, params)


def test_seed_worked_example():
    s = solve(input=IMAGE, weight=FILTER)
    assert s.answer == {"output": [[4, 3, 4], [2, 4, 3], [2, 3, 4]], "output_shape": [3, 3]}
    first = s.steps[0]
    assert first.values["products"] == [[1, 0, 1], [0, 1, 0], [0, 0, 1]]  # the seed's nine terms
    assert first.values["sum"] == 4
    assert s.verification.passed


def test_seed_worked_example_stride_two():
    assert solve(input=IMAGE, weight=FILTER, stride=2).answer["output"] == [[4, 4], [2, 4]]


def test_seed_seven_by_seven_example_gives_four_by_four():
    # 002 §3.2.3: a 7×7×3 input, two 3×3×3 filters, stride 2, padding 1 is said to give 3×3×2;
    # (7 - 3 + 2) / 2 + 1 = 4, so the output is 2×4×4. Only a 5×5 input padded to 7×7 gives 3×3.
    rng = np.random.default_rng(0)
    w = rng.integers(-1, 2, (2, 3, 3, 3)).tolist()
    s = solve(input=rng.integers(0, 3, (3, 7, 7)).tolist(), weight=w, stride=2, padding=1)
    assert s.answer["output_shape"] == [2, 4, 4]
    s = solve(input=rng.integers(0, 3, (3, 5, 5)).tolist(), weight=w, stride=2, padding=1)
    assert s.answer["output_shape"] == [2, 3, 3]


def test_multichannel_bias_relu_match_the_oracle():
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 4, (2, 6, 5)).tolist()
    w = rng.integers(-1, 3, (3, 2, 3, 2)).tolist()
    params = dict(bias=[1, -2, 0.5], stride=2, padding=1, dilation=2)
    s = solve(input=x, weight=w, activation="relu", **params)
    expected = oracle(x, w, [1, -2, 0.5], 2, 1, 2, relu=True)
    assert s.answer["output_shape"] == list(expected.shape)
    assert allclose(s.answer["output"], expected, rtol=1e-12, atol=1e-12)


def misconceptions(**params):
    return {m.key: m.answer for m in solve(**params).misconceptions}


def test_flipped_kernel_is_true_convolution():
    x = [[1, 2, 0, -1], [3, -2, 1, 0], [0, 1, 2, 3], [-1, 0, 1, 2]]
    wrong = misconceptions(input=x, weight=[[1, 2], [3, 4]])
    assert wrong["flipped_kernel"]["output"] == oracle(x, [[4, 3], [2, 1]]).tolist()


def test_forgot_bias_and_relu():
    x, w = [[1, -2, 0], [3, 1, -1], [0, 2, -3]], [[1, -1], [2, 0]]
    wrong = misconceptions(input=x, weight=w, bias=-1, activation="relu")
    assert wrong["forgot_bias"]["output"] == oracle(x, w, 0, relu=True).tolist()
    assert wrong["forgot_relu"]["output"] == oracle(x, w, -1).tolist()


def test_no_padding_and_ignored_stride_change_the_shape():
    wrong = misconceptions(input=IMAGE, weight=FILTER, padding=1, stride=2)
    assert wrong["no_padding"]["output_shape"] == [2, 2]  # right answer: 3×3
    assert wrong["no_padding"]["output"] == oracle(IMAGE, FILTER, stride=2).tolist()
    assert wrong["ignored_stride"]["output_shape"] == [5, 5]
    assert wrong["ignored_stride"]["output"] == oracle(IMAGE, FILTER, padding=1).tolist()


def test_mistakes_that_change_nothing_are_not_listed():
    # The filter is symmetric, there is no bias, no ReLU, no padding and stride 1.
    assert misconceptions(input=IMAGE, weight=FILTER) == {}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"input": [[[1, 2], [3, 4]]] * 2, "weight": [[[[1]]]]}, "weight"),  # C_in 2 vs 1
        ({"input": IMAGE, "weight": [[[[1]]], [[[2]]]], "bias": [1, 2, 3]}, "bias"),
        ({"input": [[1, 2], [3, 4]], "weight": FILTER}, "weight"),  # kernel larger than input
        ({"input": [[0.0] * 65] * 64, "weight": [[1]]}, "input"),  # 4160 elements > 4096
        ({"input": IMAGE, "weight": [[[[1.0] * 9] * 9] * 7]}, "weight"),  # 567 > 512 elements
        ({"input": IMAGE, "weight": FILTER, "activation": "tanh"}, "activation"),
        ({"input": IMAGE, "weight": FILTER, "stride": 0}, "stride"),
        ({"input": [1, 2, 3], "weight": FILTER}, "input"),  # 1-D input
    ],
)
def test_invalid_params_name_the_parameter(params, name):
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        solve(**params)


def test_trace_is_small_and_ends_with_the_output():
    s = engine.sample(KIND, 0)
    positions = [st for st in s.steps if "multiply the window" in st.label]
    assert 1 <= len(positions) <= 4
    assert s.steps[-1].values["output"] == s.answer["output"]
    json.dumps(s.to_dict(), allow_nan=False)


def test_samples_are_reproducible_and_small():
    for seed in range(50):
        p = engine.sample_params(KIND, seed)
        assert p == engine.sample_params(KIND, seed)
        x = np.asarray(p["input"])
        assert 4 <= x.shape[-1] <= 6 and x.min() >= -2 and x.max() <= 3
        assert np.asarray(p["weight"]).shape[-1] in (2, 3)


def test_sampled_variants_match_the_oracle():
    for seed in range(100):
        p = engine.sample_params(KIND, seed)
        expected = oracle(p["input"], p["weight"], p["bias"], p["stride"], p["padding"],
                          p["dilation"], p["activation"] == "relu")
        assert allclose(engine.solve(KIND, p).answer["output"], expected, rtol=1e-12, atol=1e-12)


def test_batch_equals_solve():
    ps = [engine.sample_params(KIND, seed) for seed in range(200)]
    for p, answer in zip(ps, engine.solve_batch(KIND, ps), strict=True):
        single = engine.solve(KIND, p).answer
        assert answer["output_shape"] == single["output_shape"]
        assert allclose(answer["output"], single["output"], rtol=1e-12, atol=1e-12)


small = st.integers(-3, 3)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    h=st.integers(3, 7), w=st.integers(3, 7), c_in=st.integers(1, 2), c_out=st.integers(1, 3),
    k=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2),
)
def test_any_small_convolution_matches_the_oracle(data, h, w, c_in, c_out, k, stride, padding):
    x = data.draw(st.lists(st.lists(st.lists(small, min_size=w, max_size=w), min_size=h,
                                    max_size=h), min_size=c_in, max_size=c_in))
    kern = data.draw(st.lists(st.lists(st.lists(st.lists(small, min_size=k, max_size=k),
                                                min_size=k, max_size=k),
                                       min_size=c_in, max_size=c_in),
                              min_size=c_out, max_size=c_out))
    s = solve(input=x, weight=kern, stride=stride, padding=padding)
    assert s.verification.passed
    assert allclose(s.answer["output"], oracle(x, kern, 0, stride, padding), rtol=0, atol=1e-12)
