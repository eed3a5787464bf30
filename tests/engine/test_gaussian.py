"""gaussian against independent oracles: standard-normal table values, the bivariate
closed form with correlation ρ, numpy's inverse and determinant, the entropy ½ ln(2πeσ²)
and the seed's formula (MATH-03)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.gaussian  # noqa: F401  (registers the kind)

KIND = "gaussian"


def solve(**params):
    return engine.solve(KIND, params)


def answer(**params):
    return solve(**params).answer


def test_standard_normal_table_values():
    # φ(0) = 1/√(2π) = 0.39894228..., φ(1) = 0.24197072..., φ(2) = 0.05399097...
    assert answer(x=0, mean=0, std=1)["density"] == pytest.approx(0.3989422804014327, rel=1e-14)
    assert answer(x=1, mean=0, std=1)["density"] == pytest.approx(0.2419707245191434, rel=1e-14)
    assert answer(x=-2, mean=0, std=1)["density"] == pytest.approx(0.05399096651318806, rel=1e-14)


def test_seed_formula_with_mean_and_variance():
    # 000 §19: N(x; μ, σ²) = √(1/(2πσ²)) exp(−(x − μ)²/(2σ²)); μ = 1, σ = 2, x = 3.
    expected = math.sqrt(1 / (2 * math.pi * 4)) * math.exp(-((3 - 1) ** 2) / (2 * 4))
    a = answer(x=3, mean=1, std=2)
    assert a["density"] == pytest.approx(expected, rel=1e-14)
    assert a["log_density"] == pytest.approx(math.log(expected), rel=1e-14)
    assert a["mahalanobis"] == pytest.approx(1.0, rel=1e-14)  # one standard deviation away


def test_std_and_cov_are_the_same_distribution():
    by_std = answer(x=0.7, mean=-0.2, std=1.5)
    by_var = answer(x=0.7, mean=-0.2, cov=2.25)
    by_matrix = answer(x=[0.7], mean=[-0.2], cov=[[2.25]])
    for key in by_std:
        assert by_var[key] == pytest.approx(by_std[key], rel=1e-13)
        assert by_matrix[key] == pytest.approx(by_std[key], rel=1e-13)


def test_density_can_exceed_one():
    assert answer(x=0, mean=0, std=0.1)["density"] == pytest.approx(10 / math.sqrt(2 * math.pi),
                                                                    rel=1e-13)


@pytest.mark.parametrize("std", [0.5, 1.0, 3.0])
def test_entropy_is_half_log_two_pi_e_variance(std):
    # The maximum-entropy argument of MATH-03: h = ½ ln(2πeσ²) nats.
    h = answer(x=0, mean=0, std=std)["entropy"]
    assert h == pytest.approx(0.5 * math.log(2 * math.pi * math.e * std**2), rel=1e-13)


def test_bivariate_closed_form_with_correlation():
    s1, s2, rho = 1.0, 2.0, 0.5
    x, mu = [1.0, -1.0], [0.0, 0.5]
    z1, z2 = (x[0] - mu[0]) / s1, (x[1] - mu[1]) / s2
    q = (z1 * z1 - 2 * rho * z1 * z2 + z2 * z2) / (1 - rho * rho)
    expected = math.exp(-q / 2) / (2 * math.pi * s1 * s2 * math.sqrt(1 - rho * rho))
    cov = [[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]]
    a = answer(x=x, mean=mu, cov=cov)
    assert a["density"] == pytest.approx(expected, rel=1e-13)
    assert a["mahalanobis"] == pytest.approx(math.sqrt(q), rel=1e-13)
    assert a["entropy"] == pytest.approx(1 + math.log(2 * math.pi) + 0.5 * math.log(3.0), rel=1e-13)


def test_isotropic_std_in_three_dimensions_factorises():
    a = answer(x=[1.0, 0.0, -1.0], mean=[0.0, 0.0, 0.0], std=2.0)
    one_d = [answer(x=v, mean=0, std=2.0)["density"] for v in (1.0, 0.0, -1.0)]
    assert a["density"] == pytest.approx(math.prod(one_d), rel=1e-13)


def _numpy_reference(x, mu, cov):
    x, mu, cov = np.asarray(x), np.asarray(mu), np.asarray(cov)
    diff = x - mu
    q = float(diff @ np.linalg.inv(cov) @ diff)
    det = float(np.linalg.det(cov))
    d = len(x)
    return math.exp(-q / 2) / math.sqrt((2 * math.pi) ** d * det), math.sqrt(q)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.data())
def test_matches_numpy_inverse_and_determinant(d, data):
    floats = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 2))
    B = np.array([[data.draw(floats) for _ in range(d)] for _ in range(d)])
    cov = (B @ B.T + 0.5 * np.eye(d)).tolist()
    x = [data.draw(floats) for _ in range(d)]
    mu = [data.draw(floats) for _ in range(d)]
    s = solve(x=x, mean=mu, cov=cov)
    density, maha = _numpy_reference(x, mu, cov)
    assert s.verification.passed
    assert s.answer["density"] == pytest.approx(density, rel=1e-9)
    assert s.answer["mahalanobis"] == pytest.approx(maha, rel=1e-9, abs=1e-12)


def test_batch_groups_dimensions():
    ps = [{"x": 0.5, "mean": 0, "std": 1}, {"x": [1, 2], "mean": [0, 0], "cov": [[2, 1], [1, 2]]},
          {"x": -1, "mean": 1, "cov": 4}]
    for p, got in zip(ps, engine.solve_batch(KIND, ps), strict=True):
        single = engine.solve(KIND, p).answer
        for key in single:
            assert got[key] == pytest.approx(single[key], rel=1e-12)


def test_misconceptions_forgotten_root_half_and_sigma():
    # x = 2, μ = 0, σ = 2: Δ² = 1, Z = 2√(2π).
    m = {x.key: x.answer for x in solve(x=2, mean=0, std=2).misconceptions}
    assert m["no_sqrt_normaliser"]["density"] == pytest.approx(math.exp(-0.5) / (8 * math.pi),
                                                               rel=1e-13)
    assert m["no_half_exponent"]["density"] == pytest.approx(
        math.exp(-1) / (2 * math.sqrt(2 * math.pi)), rel=1e-13)
    assert m["sigma_for_variance"]["density"] == pytest.approx(
        math.exp(-4 / (2 * 2)) / (2 * math.sqrt(2 * math.pi)), rel=1e-13)
    assert m["entropy_without_e"]["entropy"] == pytest.approx(0.5 * math.log(2 * math.pi * 4),
                                                              rel=1e-13)


def test_sigma_misconception_only_for_diagonal_covariance():
    keys = {m.key for m in solve(x=[1, 0], mean=[0, 0], cov=[[2, 1], [1, 2]]).misconceptions}
    assert "sigma_for_variance" not in keys
    assert {"no_sqrt_normaliser", "no_half_exponent"} <= keys


@pytest.mark.parametrize(
    ("params", "bad", "words"),
    [
        ({"x": [0, 0], "mean": [0, 0], "cov": [[1, 0.5], [0.4, 1]]}, "cov", "symmetric"),
        ({"x": [0, 0], "mean": [0, 0], "cov": [[1, 2], [2, 1]]}, "cov", "positive definite"),
        ({"x": [0, 0], "mean": [0, 0], "cov": [[1, 1], [1, 1]]}, "cov", "positive definite"),
        ({"x": [0, 0], "mean": [0, 0], "cov": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, "cov", "2 × 2"),
        ({"x": [0, 0], "mean": [0, 0], "cov": 1.0}, "cov", "variance of a 1-D"),
        ({"x": 0, "mean": 0, "cov": -1.0}, "cov", "positive"),
        ({"x": 0, "mean": 0, "cov": 1.0, "std": 1.0}, "cov", "exactly one"),
        ({"x": 0, "mean": 0}, "cov", "exactly one"),
        ({"x": [0, 0], "mean": 0, "std": 1.0}, "mean", "same shape"),
        ({"x": 0, "mean": 0, "std": 0.0}, "std", "out of range"),
        ({"x": [0, 0, 0, 0], "mean": [0, 0, 0, 0], "std": 1.0}, "x", "too many"),
    ],
)
def test_validation_names_the_parameter(params, bad, words):
    with pytest.raises(ValueError, match=f"parameter '{bad}'") as info:
        engine.solve(KIND, params)
    assert words in str(info.value)


def test_sampled_variants_are_moderate():
    for seed in range(100):
        a = engine.sample(KIND, seed).answer
        assert a["mahalanobis"] <= 3
        assert 0 < a["density"]
