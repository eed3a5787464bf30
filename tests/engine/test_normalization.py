"""batch_norm and layer_norm against hand-computed cases, torch's own nn modules, and the
identity mapping BN can learn (catalog NORM-08)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.normalization  # noqa: F401  (registers the kinds)
from engine.compare import allclose

EPS = 1e-5


def test_batch_norm_hand_computed_2x2():
    # x = [[1, 2], [3, 6]]: feature 0 holds 1 and 3, feature 1 holds 2 and 6.
    #   μ  = [(1+3)/2, (2+6)/2] = [2, 4]
    #   σ² = [((1-2)² + (3-2)²)/2, ((2-4)² + (6-4)²)/2] = [1, 4]      (divide by N = 2)
    #   x̂  = [[-1/√(1+ε), -2/√(4+ε)], [1/√(1+ε), 2/√(4+ε)]]          ≈ [[-1, -1], [1, 1]]
    #   y  = γ x̂ + β with γ = [2, 0.5], β = [1, -1]                    ≈ [[-1, -1.5], [3, -0.5]]
    #   running mean = 0.9·0 + 0.1·μ = [0.2, 0.4]
    #   s² = σ²·N/(N-1) = [2, 8];  running var = 0.9·1 + 0.1·s² = [1.1, 1.7]
    s = engine.solve("batch_norm", {"x": [[1, 2], [3, 6]], "gamma": [2, 0.5], "beta": [1, -1]})
    a = s.answer
    assert a["mean"] == [2.0, 4.0] and a["var"] == [1.0, 4.0]
    r0, r1 = 1 / math.sqrt(1 + EPS), 2 / math.sqrt(4 + EPS)
    assert allclose(a["x_hat"], [[-r0, -r1], [r0, r1]], rtol=1e-12, atol=0)
    assert allclose(a["y"], [[1 - 2 * r0, -1 - 0.5 * r1], [1 + 2 * r0, -1 + 0.5 * r1]],
                    rtol=1e-12, atol=1e-15)
    assert allclose(a["y"], [[-1, -1.5], [3, -0.5]], rtol=0, atol=1e-4)  # ε is tiny
    assert allclose(a["running_mean_new"], [0.2, 0.4], rtol=1e-12, atol=0)
    assert allclose(a["running_var_new"], [1.1, 1.7], rtol=1e-12, atol=0)
    assert s.verification.passed
    wrong = {m.key: m.answer for m in s.misconceptions}
    assert wrong["unbiased_var"]["var"] == [2.0, 8.0]  # divided by N - 1 = 1
    assert wrong["wrong_axis"]["mean"] == [1.5, 4.5]  # row means: a layer norm
    assert wrong["biased_running_var"]["running_var_new"] == pytest.approx([1.0, 1.3])
    assert "forgot_eps" not in wrong  # 1e-5 next to σ² >= 1 is invisible


def test_layer_norm_hand_computed_3x2():
    # Rows [1, 3], [2, 8], [0, -4]: μ = [2, 5, -2], σ² = [1, 9, 4] (divide by D = 2),
    # so x̂ ≈ [[-1, 1], [-1, 1], [1, -1]] and with γ = [1, 2], β = [0, 1]
    # y ≈ [[-1, 3], [-1, 3], [1, -1]].
    x = [[1, 3], [2, 8], [0, -4]]
    s = engine.solve("layer_norm", {"x": x, "gamma": [1, 2], "beta": [0, 1]})
    a = s.answer
    assert a["mean"] == [2.0, 5.0, -2.0] and a["var"] == [1.0, 9.0, 4.0]
    r = [1 / math.sqrt(1 + EPS), 3 / math.sqrt(9 + EPS), 2 / math.sqrt(4 + EPS)]
    assert allclose(a["x_hat"], [[-r[0], r[0]], [-r[1], r[1]], [r[2], -r[2]]], rtol=1e-12, atol=0)
    assert allclose(a["y"], [[-1, 3], [-1, 3], [1, -1]], rtol=0, atol=1e-4)
    wrong = {m.key: m.answer for m in s.misconceptions}
    assert wrong["wrong_axis"]["mean"] == [1.0, 7 / 3]  # column means: a batch norm
    assert wrong["unbiased_var"]["var"] == [2.0, 18.0, 8.0]


@pytest.mark.parametrize("seed", range(15))
def test_batch_norm_matches_nn_batchnorm1d(seed):
    p = engine.sample_params("batch_norm", seed)
    layer = torch.nn.BatchNorm1d(len(p["x"][0]), eps=p["eps"], momentum=p["momentum"],
                                 dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(p["gamma"], dtype=torch.float64))
        layer.bias.copy_(torch.tensor(p["beta"], dtype=torch.float64))
        layer.running_mean.copy_(torch.tensor(p["running_mean"], dtype=torch.float64))
        layer.running_var.copy_(torch.tensor(p["running_var"], dtype=torch.float64))
    y = layer.train()(torch.tensor(p["x"], dtype=torch.float64))
    a = engine.solve("batch_norm", p).answer
    assert allclose(a["y"], y.tolist(), rtol=1e-9, atol=1e-12)
    assert allclose(a["running_mean_new"], layer.running_mean.tolist(), rtol=1e-12, atol=1e-15)
    assert allclose(a["running_var_new"], layer.running_var.tolist(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", range(15))
def test_layer_norm_matches_nn_layernorm(seed):
    p = engine.sample_params("layer_norm", seed)
    layer = torch.nn.LayerNorm(len(p["x"][0]), eps=p["eps"], dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(p["gamma"], dtype=torch.float64))
        layer.bias.copy_(torch.tensor(p["beta"], dtype=torch.float64))
    y = layer(torch.tensor(p["x"], dtype=torch.float64))
    assert allclose(engine.solve("layer_norm", p).answer["y"], y.tolist(), rtol=1e-9, atol=1e-12)


small = st.floats(min_value=-50, max_value=50, allow_nan=False).map(lambda v: round(v, 1))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 5), d=st.integers(1, 4), data=st.data())
def test_gamma_sqrt_var_beta_mean_gives_back_the_input(n, d, data):
    # NORM-08: with γ = √(σ² + ε) and β = μ batch norm is the identity; the seed's
    # "γ = the variance" is not (it is listed as a misconception instead).
    x = data.draw(st.lists(st.lists(small, min_size=d, max_size=d), min_size=n, max_size=n))
    eps = data.draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    first = engine.solve("batch_norm", {"x": x, "eps": eps}).answer
    again = engine.solve("batch_norm", {"x": x, "eps": eps, "gamma": first["gamma_identity"],
                                        "beta": first["mean"]}).answer
    assert allclose(again["y"], x, rtol=1e-9, atol=1e-9)


def test_gamma_equal_to_the_variance_does_not_restore_the_input():
    x = [[1, 2], [3, 6]]
    s = engine.solve("batch_norm", {"x": x})
    wrong = {m.key: m.answer for m in s.misconceptions}["gamma_is_variance"]["gamma_identity"]
    assert wrong == s.answer["var"]
    y = engine.solve("batch_norm", {"x": x, "gamma": wrong, "beta": s.answer["mean"]}).answer["y"]
    assert not allclose(y, x, rtol=1e-3, atol=1e-3)


def test_forgot_eps_is_named_only_when_it_shows():
    x = [[0.1, 1], [0.3, 3]]  # variances 0.01 and 1
    keys = {m.key for m in engine.solve("batch_norm", {"x": x, "eps": 0.01}).misconceptions}
    assert "forgot_eps" in keys
    keys = {m.key for m in engine.solve("batch_norm", {"x": x}).misconceptions}
    assert "forgot_eps" not in keys


def test_momentum_reversed_is_the_keras_rule():
    s = engine.solve("batch_norm", {"x": [[1, 2], [3, 6]], "momentum": 0.1})
    wrong = {m.key: m.answer for m in s.misconceptions}["momentum_reversed"]
    assert allclose(wrong["running_mean_new"], [1.8, 3.6], rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("kind", "params", "bad"),
    [
        ("batch_norm", {"x": [[1, 2]]}, "x"),  # one example: no batch statistics
        ("batch_norm", {"x": [[1, 2], [3, 4]], "gamma": [1, 2, 3]}, "gamma"),
        ("batch_norm", {"x": [[1, 2], [3, 4]], "running_var": [1, -1]}, "running_var"),
        ("batch_norm", {"x": [[1, 2], [3, 4]], "momentum": 1.5}, "momentum"),
        ("layer_norm", {"x": [[1, 2], [3, 4]], "eps": 0}, "eps"),
        ("layer_norm", {"x": [[1, 2], [3, 4]], "beta": [0]}, "beta"),
        ("layer_norm", {"x": [1, 2, 3]}, "x"),
    ],
)
def test_bad_params_name_the_parameter(kind, params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve(kind, params)


def test_layer_norm_of_a_single_example():
    a = engine.solve("layer_norm", {"x": [[1, 2, 3, 6]]}).answer
    assert a["mean"] == [3.0] and a["var"] == [3.5]


@pytest.mark.parametrize("kind", ["batch_norm", "layer_norm"])
def test_solve_batch_equals_solve(kind):
    ps = [engine.sample_params(kind, seed) for seed in range(200)]
    for p, got in zip(ps, engine.solve_batch(kind, ps), strict=True):
        want = engine.solve(kind, p).answer
        assert set(got) == set(want)
        for key in want:
            assert allclose(got[key], want[key], rtol=1e-9, atol=1e-12), (p, key)


@pytest.mark.parametrize("kind", ["batch_norm", "layer_norm"])
def test_sampling_is_deterministic_and_varied(kind):
    assert engine.sample_params(kind, 42) == engine.sample_params(kind, 42)
    shapes = {np.shape(engine.sample_params(kind, s)["x"]) for s in range(50)}
    assert len(shapes) > 3
