"""bernoulli_estimate against independent oracles: the bank's worked coin examples
(MATH-06, MATH-07), a dense numpy grid search of the log posterior, numpy moments of the
Beta posterior by quadrature, and the limits (flat prior, lots of data)."""

import math

import numpy as np
import pytest

import engine
import engine.kinds.bernoulli_estimate  # noqa: F401  (registers the kind)

KIND = "bernoulli_estimate"


def solve(**params):
    return engine.solve(KIND, params)


def test_seven_heads_in_ten_with_beta_2_2():
    # MATH-07's worked example: MLE 0.7, MAP 8/12, posterior Beta(9, 5) with mean 9/14.
    a = solve(n=10, k=7, a=2, b=2).answer
    assert a["mle"] == pytest.approx(0.7, rel=1e-15)
    assert a["map"] == pytest.approx(8 / 12, rel=1e-15)
    assert a["posterior_mean"] == pytest.approx(9 / 14, rel=1e-15)
    assert (a["posterior_a"], a["posterior_b"]) == (9.0, 5.0)
    assert a["posterior_var"] == pytest.approx(9 * 5 / (14**2 * 15), rel=1e-14)


def test_three_heads_in_three():
    # MATH-06's example: MLE 1 (over-confident), MAP 4/5, posterior mean 5/7.
    a = solve(n=3, k=3, a=2, b=2).answer
    assert a["mle"] == 1.0
    assert a["map"] == pytest.approx(0.8, rel=1e-15)
    assert a["posterior_mean"] == pytest.approx(5 / 7, rel=1e-15)


def test_flat_prior_map_equals_mle():
    a = solve(n=12, k=5).answer  # default Beta(1, 1)
    assert a["map"] == pytest.approx(a["mle"], rel=1e-15)
    assert a["posterior_mean"] == pytest.approx(6 / 14, rel=1e-15)  # Laplace's rule of succession


def test_boundary_modes():
    assert solve(n=4, k=0, a=1, b=3).answer["map"] == 0.0  # a' = 1: mode at θ = 0
    assert solve(n=4, k=4, a=2, b=1).answer["map"] == 1.0  # b' = 1: mode at θ = 1


def test_lots_of_data_overwhelm_the_prior():
    a = solve(n=1_000_000, k=300_000, a=10, b=10).answer
    assert abs(a["map"] - a["mle"]) < 1e-5
    assert abs(a["posterior_mean"] - a["mle"]) < 1e-5


@pytest.mark.parametrize(("n", "k", "a", "b"), [(10, 7, 2, 2), (20, 3, 0.5, 0.5),
                                                (5, 5, 3, 1.5), (50, 21, 10, 4)])
def test_against_a_dense_grid_of_the_log_posterior(n, k, a, b):
    theta = np.linspace(1e-9, 1 - 1e-9, 1_000_001)
    log_post = (k + a - 1) * np.log(theta) + (n - k + b - 1) * np.log1p(-theta)
    log_lik = k * np.log(theta) + (n - k) * np.log1p(-theta)
    got = solve(n=n, k=k, a=a, b=b).answer
    assert got["map"] == pytest.approx(theta[np.argmax(log_post)], abs=1e-6)
    assert got["mle"] == pytest.approx(theta[np.argmax(log_lik)], abs=1e-6)
    w = np.exp(log_post - log_post.max())  # unnormalised posterior density on the grid
    mean = float(np.trapezoid(theta * w, theta) / np.trapezoid(w, theta))
    var = float(np.trapezoid((theta - mean) ** 2 * w, theta) / np.trapezoid(w, theta))
    assert got["posterior_mean"] == pytest.approx(mean, abs=1e-6)
    assert got["posterior_var"] == pytest.approx(var, rel=1e-4)


def test_batch_matches_single():
    ps = [engine.sample_params(KIND, s) for s in range(20)]
    for p, got in zip(ps, engine.solve_batch(KIND, ps), strict=True):
        single = engine.solve(KIND, p).answer
        for key, value in single.items():
            assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-15)


def test_misconceptions():
    m = {x.key: x.answer for x in solve(n=10, k=7, a=2, b=2).misconceptions}
    assert m["map_is_mean"]["map"] == pytest.approx(9 / 14, rel=1e-15)
    assert m["mean_is_mode"]["posterior_mean"] == pytest.approx(8 / 12, rel=1e-15)
    assert m["mle_with_prior"]["mle"] == pytest.approx(9 / 14, rel=1e-15)
    assert m["map_numerator_no_minus_one"]["map"] == pytest.approx(9 / 12, rel=1e-15)
    assert m["map_denominator_minus_one"]["map"] == pytest.approx(8 / 13, rel=1e-15)
    assert (m["failures_swapped"]["posterior_a"], m["failures_swapped"]["posterior_b"]) == (5, 9)
    assert m["all_trials_to_b"]["posterior_b"] == 12


def test_flat_prior_drops_misconceptions_that_coincide():
    keys = {x.key for x in solve(n=10, k=7).misconceptions}
    assert "map_is_mean" in keys  # mean 8/12 ≠ mode 0.7
    assert "map_numerator_no_minus_one" in keys


def test_sampled_variants_separate_the_three_estimates():
    for seed in range(200):
        a = engine.sample(KIND, seed).answer
        assert not math.isclose(a["mle"], a["posterior_mean"], rel_tol=1e-12)


@pytest.mark.parametrize(
    ("params", "bad", "words"),
    [
        ({"n": 5, "k": 6}, "k", "at most n"),
        ({"n": 0, "k": 0}, "n", "out of range"),
        ({"n": 5, "k": -1}, "k", "out of range"),
        ({"n": 5, "k": 0, "a": 0.5, "b": 1}, "a", "no mode"),
        ({"n": 5, "k": 5, "a": 1, "b": 0.5}, "b", "no mode"),
        ({"n": 5, "k": 2, "a": 0, "b": 1}, "a", "out of range"),
        ({"n": 5, "k": 2, "a": 1, "b": 2000}, "b", "out of range"),
    ],
)
def test_validation_names_the_parameter(params, bad, words):
    with pytest.raises(ValueError, match=f"parameter '{bad}'") as info:
        engine.solve(KIND, params)
    assert words in str(info.value)


def test_jeffreys_prior_is_fine_once_both_outcomes_are_seen():
    a = solve(n=20, k=3, a=0.5, b=0.5).answer
    assert a["map"] == pytest.approx(2.5 / 19, rel=1e-14)
    assert a["posterior_mean"] == pytest.approx(3.5 / 21, rel=1e-14)
