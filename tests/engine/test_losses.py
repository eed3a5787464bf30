"""binary_cross_entropy and mse against independent oracles: losses written out by hand
in torch and differentiated through the sigmoid by autograd, finite differences, and the
seeds' misprinted formulas as misconceptions (catalog LOSS-04, LOSS-05)."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.losses  # noqa: F401  (registers the kinds)

BCE = "binary_cross_entropy"


def bce(y, a):
    return engine.solve(BCE, {"y": y, "a": a})


def test_bce_worked_example():
    s = bce([1, 0], [0.8, 0.3])
    assert s.answer["loss"] == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2, rel=1e-12)
    assert s.answer["grad_a"] == pytest.approx([-1 / 0.8 / 2, 1 / 0.7 / 2], rel=1e-12)
    assert s.answer["grad_z"] == pytest.approx([-0.1, 0.15], rel=1e-12)


def test_bce_grad_z_equals_autograd_through_the_sigmoid():
    # LOSS-05: differentiate the written-out loss through a = σ(z); σ'(z) cancels to (a − y)/n.
    for seed in range(40):
        p = engine.sample_params(BCE, seed)
        y = torch.tensor(p["y"], dtype=torch.float64)
        z = torch.logit(torch.tensor(p["a"], dtype=torch.float64)).requires_grad_()
        a = torch.sigmoid(z)
        loss = -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).mean()
        loss.backward()
        got = engine.solve(BCE, p).answer
        assert got["loss"] == pytest.approx(loss.item(), rel=1e-9)
        assert got["grad_z"] == pytest.approx(z.grad.tolist(), rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0, 0.3]), st.floats(0.01, 0.99)),
                min_size=1, max_size=5))
def test_bce_gradient_chain_rule(pairs):
    y, a = [v for v, _ in pairs], [v for _, v in pairs]
    got = bce(y, a).answer
    chained = [g * ai * (1 - ai) for g, ai in zip(got["grad_a"], a, strict=True)]
    assert got["grad_z"] == pytest.approx(chained, rel=1e-9, abs=1e-12)
    assert got["loss"] >= 0


def test_bce_seed_errors_are_misconceptions():
    s = bce([1, 0], [0.8, 0.3])
    m = {x.key: x.answer for x in s.misconceptions}
    loss = s.answer["loss"]
    assert m["dropped_minus"]["loss"] == pytest.approx(-loss)  # 004 and 001 drop the minus
    # 001 squares the bracket: (1/n) Σ [y ln a + (1 − y) ln(1 − a)]².
    assert m["squared_bracket"]["loss"] == pytest.approx((math.log(0.8) ** 2 + math.log(0.7) ** 2) / 2)
    assert m["summed_not_averaged"]["loss"] == pytest.approx(2 * loss)


def test_kept_sigma_prime_is_the_squared_error_gradient():
    # LOSS-05: with ½(a − y)² on a sigmoid output, dL/dz = (a − y) σ'(z), which saturates.
    y, a = 1.0, 0.02
    z = torch.logit(torch.tensor([a], dtype=torch.float64)).requires_grad_()
    (0.5 * (torch.sigmoid(z) - y) ** 2).sum().backward()
    m = {x.key: x.answer for x in bce([y], [a]).misconceptions}
    assert m["kept_sigma_prime"]["grad_z"] == pytest.approx(z.grad.tolist(), rel=1e-9)


@pytest.mark.parametrize(
    ("params", "bad", "words"),
    [
        ({"y": [1, 0], "a": [1.0, 0.3]}, "a", "out of range"),
        ({"y": [1, 0], "a": [0.0, 0.3]}, "a", "out of range"),
        ({"y": [1, 0], "a": [0.3]}, "a", "same length"),
        ({"y": [2], "a": [0.3]}, "y", "out of range"),
    ],
)
def test_bce_validation(params, bad, words):
    with pytest.raises(ValueError, match=f"parameter '{bad}'.*{words}"):
        engine.solve(BCE, params)


def test_mse_worked_example_with_and_without_half():
    full = engine.solve("mse", {"y": [1, 2], "yhat": [1.5, 1]}).answer
    assert full == {"loss": 0.625, "grad_yhat": [0.5, -1.0]}
    half = engine.solve("mse", {"y": [1, 2], "yhat": [1.5, 1], "half": True}).answer
    assert half == {"loss": 0.3125, "grad_yhat": [0.25, -0.5]}


def test_mse_gradient_matches_finite_differences():
    h = 1e-6
    for seed in range(20):
        p = engine.sample_params("mse", seed)
        got = engine.solve("mse", p).answer["grad_yhat"]
        for i in range(len(p["yhat"])):
            up, down = list(p["yhat"]), list(p["yhat"])
            up[i] += h
            down[i] -= h
            hi = engine.solve("mse", {**p, "yhat": up}).answer["loss"]
            lo = engine.solve("mse", {**p, "yhat": down}).answer["loss"]
            assert got[i] == pytest.approx((hi - lo) / (2 * h), abs=1e-6)


def test_mse_misconceptions_and_validation():
    m = {x.key: x.answer for x in engine.solve("mse", {"y": [1, 2], "yhat": [1.5, 1]}).misconceptions}
    assert m["summed_not_averaged"] == {"loss": 1.25, "grad_yhat": [1.0, -2.0]}
    assert m["forgot_power_rule_2"] == {"grad_yhat": [0.25, -0.5]}
    with pytest.raises(ValueError, match="parameter 'yhat'.*same length"):
        engine.solve("mse", {"y": [1], "yhat": [1, 2]})
    with pytest.raises(ValueError, match="parameter 'half'"):
        engine.solve("mse", {"y": [1], "yhat": [1], "half": "maybe"})


@pytest.mark.parametrize("kind", [BCE, "mse"])
def test_sampled_variants_verify_and_batch_equals_solve(kind):
    ps = [engine.sample_params(kind, i) for i in range(200)]
    assert ps[:20] == [engine.sample_params(kind, i) for i in range(20)]  # deterministic
    batch = engine.solve_batch(kind, ps)
    for p, b in zip(ps, batch, strict=True):
        s = engine.solve(kind, p)
        assert s.verification.passed, (p, s.verification)
        assert all(step.label and step.label_zh and step.formula for step in s.steps)
        for key, value in s.answer.items():
            assert b[key] == pytest.approx(value, rel=1e-12, abs=1e-15)
