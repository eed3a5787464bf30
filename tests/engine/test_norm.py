"""norm against independent oracles: numpy.linalg.norm, the catalog's worked example
(MATH-01), the seed's misprinted L_p formula, and norm inequalities as properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.norm  # noqa: F401  (registers the kind)

KIND = "norm"


def value(x, p):
    return engine.solve(KIND, {"x": x, "p": p}).answer["value"]


@pytest.mark.parametrize(("p", "expected"), [("1", 7.0), ("2", 5.0), ("inf", 4.0), ("0", 2.0)])
def test_catalog_example_three_minus_four(p, expected):
    # MATH-01: x = (3, −4) has L1 = 7, L2 = 5, L∞ = 4 (and two non-zeros).
    assert value([3, -4], p) == expected


def test_seed_power_two_misprint_is_a_misconception():
    # 000 §11 writes ‖x‖_p = (Σ |x_i|^2)^{1/p}; for p = 3 and (3, −4) that is 25^{1/3}, not 91^{1/3}.
    s = engine.solve(KIND, {"x": [3, -4], "p": 3})
    assert s.answer["value"] == pytest.approx(91 ** (1 / 3), rel=1e-12)
    m = {x.key: x.answer["value"] for x in s.misconceptions}
    assert m["power_two_not_p"] == pytest.approx(25 ** (1 / 3), rel=1e-12)
    assert m["forgot_root"] == pytest.approx(91.0)


def test_linf_as_sum_and_matrix_misconceptions():
    assert {m.key: m.answer for m in engine.solve(KIND, {"x": [3, -4], "p": "inf"}).misconceptions} == {
        "linf_as_sum": {"value": 7.0}}
    a = [[1, 2], [3, 4]]
    m = {x.key: x.answer["value"] for x in engine.solve(KIND, {"x": a, "p": 2}).misconceptions}
    assert m["matrix_2_as_fro"] == pytest.approx(math.sqrt(30))
    m = {x.key: x.answer["value"] for x in engine.solve(KIND, {"x": a, "p": 1}).misconceptions}
    assert m == {"rows_columns_swapped": 7.0, "entrywise": 10.0}


@pytest.mark.parametrize("p", ["fro", "nuc", "1", "2", "inf", "-inf"])
def test_matrix_norms_are_numpys_induced_norms(p):
    ord_ = {"fro": "fro", "nuc": "nuc", "1": 1, "2": 2, "inf": np.inf, "-inf": -np.inf}[p]
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(-5, 6, size=tuple(rng.integers(1, 5, size=2))).tolist()
        assert value(a, p) == pytest.approx(float(np.linalg.norm(np.array(a, float), ord_)),
                                            rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("p", ["0", "1", "2", "inf", "-inf", "3", "1.5"])
def test_vector_norms_match_numpy(p):
    ord_ = {"inf": np.inf, "-inf": -np.inf}.get(p, float(p))
    rng = np.random.default_rng(1)
    for _ in range(20):
        x = np.round(rng.normal(size=rng.integers(1, 8)) * 3, 1).tolist()
        assert value(x, p) == pytest.approx(float(np.linalg.norm(np.array(x), ord_)),
                                            rel=1e-12, abs=1e-12)


def test_scaling_avoids_overflow_and_underflow():
    assert value([1e6] * 16, 32) == pytest.approx(1e6 * 16 ** (1 / 32), rel=1e-12)
    assert value([1e-12, 2e-12], 32) == pytest.approx(2e-12 * (1 + 2**-32) ** (1 / 32), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-20, 20), min_size=1, max_size=6),
       st.lists(st.integers(-20, 20), min_size=6, max_size=6),
       st.sampled_from(["1", "2", "3", "inf"]), st.integers(-5, 5))
def test_norm_axioms(x, y, p, alpha):
    y = y[: len(x)]
    nx, ny = value(x, p), value(y, p)
    assert value([a + b for a, b in zip(x, y, strict=True)], p) <= nx + ny + 1e-9  # triangle
    assert value([alpha * a for a in x], p) == pytest.approx(abs(alpha) * nx, rel=1e-12, abs=1e-12)
    assert value(x, "inf") <= value(x, "2") + 1e-12 <= value(x, "1") + 2e-12


@pytest.mark.parametrize(
    ("given_p", "canonical"), [(2.0, "2"), ("INF", "inf"), (math.inf, "inf"), (1.5, "1.5"), (0, "0")]
)
def test_order_is_normalised(given_p, canonical):
    assert engine.solve(KIND, {"x": [1, 2], "p": given_p}).params["p"] == canonical


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"x": [1, 2], "p": 0.5}, "out of range"),
        ({"x": [1, 2], "p": -1}, "out of range"),
        ({"x": [1, 2], "p": "fro"}, "matrix norm"),
        ({"x": [[1, 2], [3, 4]], "p": 3}, "not defined for a matrix"),
        ({"x": [[1, 2], [3, 4]], "p": "0"}, "not defined for a matrix"),
        ({"x": [1, 2], "p": "max"}, "not one of"),
        ({"x": [1, 2], "p": True}, "expected one of"),
    ],
)
def test_bad_orders_name_parameter_p(params, words):
    with pytest.raises(ValueError, match=f"parameter 'p'.*{words}"):
        engine.solve(KIND, params)


def test_bad_x_names_parameter_x():
    with pytest.raises(ValueError, match="parameter 'x'"):
        engine.solve(KIND, {"x": [[[1]]], "p": "2"})


def test_sampled_variants_verify_and_batch_equals_solve():
    ps = [engine.sample_params(KIND, i) for i in range(200)]
    assert ps[:20] == [engine.sample_params(KIND, i) for i in range(20)]  # deterministic
    assert any(isinstance(p["x"][0], list) for p in ps) and any(p["p"] == "0" for p in ps)
    batch = engine.solve_batch(KIND, ps)
    for p, b in zip(ps, batch, strict=True):
        s = engine.solve(KIND, p)
        assert s.verification.passed, (p, s.verification)
        assert all(step.label and step.label_zh and step.formula for step in s.steps)
        assert b["value"] == pytest.approx(s.answer["value"], rel=1e-12, abs=1e-15)
