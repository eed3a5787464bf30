"""activation against independent oracles: hand-derived derivatives, central finite
differences of the computed values, identities between sigmoid and tanh, and the seeds'
worked facts (catalog ACT-02, ACT-05, ACT-12)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.activation  # noqa: F401  (registers the kind)
from engine.kinds.activation import NAMES

KIND = "activation"


def answer(name, x, **extra):
    return engine.solve(KIND, {"name": name, "x": x, **extra}).answer


def test_sigmoid_derivative_at_zero_is_a_quarter():
    # ACT-05: σ'(0) = σ(0)(1 − σ(0)) = 0.5 · 0.5.
    assert answer("sigmoid", 0) == {"value": 0.5, "derivative": 0.25}


def test_tanh_derivative_at_zero_is_one():
    # ACT-05 / ACT-12: tanh'(0) = 1 − tanh²(0) = 1, four times σ'(0).
    assert answer("tanh", 0) == {"value": 0.0, "derivative": 1.0}


def test_sigmoid_saturates_at_plus_minus_ten():
    # ACT-05: σ'(±10) ≈ 0 — precisely e^{-10} / (1 + e^{-10})² ≈ 4.54e-5.
    exact = math.exp(-10) / (1 + math.exp(-10)) ** 2
    got = answer("sigmoid", [-10, 10])["derivative"]
    assert got == pytest.approx([exact, exact], rel=1e-9)
    assert got[0] == pytest.approx(4.54e-5, rel=1e-3)


def test_seed_tanh_derivative_misprint_is_a_misconception():
    # 002 §3.4.3 prints tanh'(x) = −tanh²(x); at x = 0 that gives 0, not the 1 its own table states.
    s = engine.solve(KIND, {"name": "tanh", "x": [0.0, 0.5]})
    wrong = {m.key: m.answer for m in s.misconceptions}["tanh_minus_square"]["derivative"]
    assert wrong == pytest.approx([0.0, -math.tanh(0.5) ** 2], abs=1e-15)
    assert s.answer["derivative"] == pytest.approx([1.0, 1 - math.tanh(0.5) ** 2], rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=-20, max_value=20, allow_nan=False))
def test_tanh_is_a_rescaled_sigmoid(z):
    # ACT-02: tanh(z) = 2σ(2z) − 1, hence tanh'(z) = 4σ'(2z).
    t, s = answer("tanh", z), answer("sigmoid", 2 * z)
    assert t["value"] == pytest.approx(2 * s["value"] - 1, abs=1e-12)
    assert t["derivative"] == pytest.approx(4 * s["derivative"], abs=1e-12)


@pytest.mark.parametrize(
    ("name", "x", "extra", "derivative"),
    [
        ("relu", [-1.0, 0.0, 2.0], {}, [0.0, 0.0, 1.0]),  # ReLU'(0) = 0 in PyTorch
        ("leaky_relu", [-1.0, 0.0, 2.0], {"negative_slope": 0.2}, [0.2, 0.2, 1.0]),
        ("hardtanh", [-1.0, 0.0, 1.0, 2.0], {}, [0.0, 1.0, 0.0, 0.0]),
        ("elu", [0.0, 1.0], {"alpha": 2.0}, [2.0, 1.0]),  # left-hand value α at 0
    ],
)
def test_derivative_at_kinks_follows_pytorch(name, x, extra, derivative):
    assert answer(name, x, **extra)["derivative"] == derivative


def test_gelu_is_the_exact_erf_form_not_the_tanh_approximation():
    phi1 = 0.5 * math.erfc(-1 / math.sqrt(2))  # Φ(1)
    s = engine.solve(KIND, {"name": "gelu", "x": 1.0})
    assert s.answer["value"] == pytest.approx(phi1, rel=1e-12)
    wrong = {m.key: m.answer for m in s.misconceptions}["gelu_tanh_approximation"]
    assert wrong["value"] == pytest.approx(0.8411919906, rel=1e-9)  # tanh form at 1


def test_softplus_has_no_linear_shortcut_error_above_twenty():
    # PyTorch's default threshold 20 would return exactly 1 here (an error of about 1.3e-9).
    got = answer("softplus", 20.5)["derivative"]
    assert got == pytest.approx(1 / (1 + math.exp(-20.5)), abs=1e-15)


def test_scalar_gives_numbers_and_list_gives_lists():
    assert isinstance(answer("relu", 1.5)["derivative"], float)
    assert answer("relu", [1.5])["derivative"] == [1.0]


@pytest.mark.parametrize("seed", range(40))
def test_derivative_matches_central_differences_of_the_value(seed):
    p = engine.sample_params(KIND, seed)
    xs = p["x"] if isinstance(p["x"], list) else [p["x"]]
    h = 1e-6
    got = engine.solve(KIND, {**p, "x": xs}).answer["derivative"]
    for x, d in zip(xs, got, strict=True):
        if p["name"] in ("relu", "leaky_relu", "elu", "hardtanh") and min(abs(x), abs(abs(x) - 1)) < 1e-3:
            continue  # a kink: the two one-sided slopes differ
        hi = engine.solve(KIND, {**p, "x": x + h}).answer["value"]
        lo = engine.solve(KIND, {**p, "x": x - h}).answer["value"]
        assert d == pytest.approx((hi - lo) / (2 * h), abs=1e-6)


def test_every_sampled_variant_verifies():
    for seed in range(300):
        s = engine.sample(KIND, seed)
        assert s.verification.passed, (s.params, s.verification)
        assert all(step.label and step.label_zh and step.formula for step in s.steps)


def test_solve_batch_equals_solve():
    ps = [engine.sample_params(KIND, i) for i in range(200)]
    batch = engine.solve_batch(KIND, ps)
    for p, b in zip(ps, batch, strict=True):
        one = engine.solve(KIND, p).answer
        assert b["value"] == pytest.approx(one["value"], rel=1e-12, abs=1e-15)
        assert b["derivative"] == pytest.approx(one["derivative"], rel=1e-12, abs=1e-15)


def test_sampling_is_deterministic_and_covers_every_function():
    assert [engine.sample_params(KIND, i) for i in range(50)] == [
        engine.sample_params(KIND, i) for i in range(50)
    ]
    assert {engine.sample_params(KIND, i)["name"] for i in range(200)} == set(NAMES)


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"name": "swish", "x": 1}, "name"),
        ({"name": "relu", "x": 5000}, "x"),
        ({"name": "relu", "x": [[1, 2]]}, "x"),
        ({"name": "leaky_relu", "x": 1, "negative_slope": -0.1}, "negative_slope"),
        ({"name": "elu", "x": 1, "alpha": 11}, "alpha"),
    ],
)
def test_bad_params_name_the_parameter(params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve(KIND, params)


def test_misconceptions_for_sigmoid_relu_and_leaky():
    def wrong(name, x, **extra):
        s = engine.solve(KIND, {"name": name, "x": x, **extra})
        return {m.key: m.answer for m in s.misconceptions}

    assert wrong("sigmoid", 0)["sigmoid_forgot_one_minus"] == {"derivative": 0.5}
    assert wrong("relu", [-2.0, 3.0])["relu_derivative_one"] == {"derivative": [1.0, 1.0]}
    assert "relu_derivative_one" not in wrong("relu", [2.0, 3.0])  # same as the right answer
    leaky = wrong("leaky_relu", [-2.0, 3.0], negative_slope=0.1)["leaky_slope_on_positive"]
    assert leaky["value"] == pytest.approx([-2.0, 0.3])
