"""grad_clip, weight_decay and dropout against hand-computed cases, torch.optim / F.dropout
as oracles, and the seeds' formulas (catalog GRAD-03, REG-05, REG-07, REG-21)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim.sgd import sgd

import engine
import engine.kinds.grad_clip  # noqa: F401  (registers the kinds)
import engine.kinds.regularization  # noqa: F401
from engine.compare import allclose


def mistakes(kind, params):
    return {m.key: m.answer for m in engine.solve(kind, params).misconceptions}


# -- grad_clip ---------------------------------------------------------------------------


def test_clip_the_3_4_5_gradient():
    # ‖[3, 4]‖ = 5 > 1, so c = 1 / (5 + 1e-6) and g' = [3c, 4c] ≈ [0.6, 0.8].
    a = engine.solve("grad_clip", {"grads": [3, 4], "max_norm": 1}).answer
    c = 1 / (5 + 1e-6)
    assert a["total_norm"] == 5.0
    assert allclose(a["clipped"], [3 * c, 4 * c], rtol=1e-12, atol=0)
    assert allclose(a["clipped"], [0.6, 0.8], rtol=1e-6, atol=0)


def test_several_tensors_share_one_global_norm():
    # Rows [3, 4] and [0, 12]: total norm √(9 + 16 + 144) = 13, every entry divided by 13.
    s = engine.solve("grad_clip", {"grads": [[3, 4], [0, 12]], "max_norm": 1})
    assert s.answer["total_norm"] == 13.0
    assert allclose(s.answer["clipped"], [[3 / 13, 4 / 13], [0, 12 / 13]], rtol=1e-6, atol=0)
    per_tensor = {m.key: m.answer for m in s.misconceptions}["per_tensor"]["clipped"]
    assert allclose(per_tensor, [[0.6, 0.8], [0, 1]], rtol=1e-6, atol=0)


def test_below_max_norm_nothing_changes():
    s = engine.solve("grad_clip", {"grads": [0.3, 0.4], "max_norm": 1})
    assert s.answer == {"total_norm": 0.5, "clipped": [0.3, 0.4]}
    wrong = {m.key: m.answer for m in s.misconceptions}
    assert allclose(wrong["scaled_below_max"]["clipped"], [0.6, 0.8], rtol=1e-12, atol=0)


def test_clip_by_value_and_infinity_norm():
    s = engine.solve("grad_clip", {"grads": [3, -4], "max_norm": 2, "norm_type": "inf"})
    assert s.answer["total_norm"] == 4.0
    assert allclose(s.answer["clipped"], [1.5, -2.0], rtol=1e-6, atol=0)
    assert {m.key: m.answer for m in s.misconceptions}["clip_by_value"]["clipped"] == [2.0, -2.0]


def test_the_1e_minus_6_is_named_only_when_it_shows():
    assert "ignored_eps" not in mistakes("grad_clip", {"grads": [3, 4], "max_norm": 1})
    tiny = mistakes("grad_clip", {"grads": [3e-4, 4e-4], "max_norm": 1e-5})
    assert allclose(tiny["ignored_eps"]["clipped"], [6e-6, 8e-6], rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", range(30))
def test_clip_agrees_with_tensorflow_global_norm_rule(seed):
    # The seed's (GRAD-03) rule: t · clip_norm / max(global_norm, clip_norm); PyTorch's
    # differs only by the 1e-6 added to the norm.
    p = engine.sample_params("grad_clip", seed)
    a = engine.solve("grad_clip", p).answer
    g = np.asarray(p["grads"], dtype=np.float64)
    order = np.inf if p["norm_type"] == "inf" else p["norm_type"]
    norm = np.linalg.norm(g.ravel(), ord=order)
    assert math.isclose(a["total_norm"], norm, rel_tol=1e-12)
    assert allclose(a["clipped"], g * p["max_norm"] / max(norm, p["max_norm"]), rtol=1e-5, atol=0)


@settings(max_examples=40, deadline=None)
@given(grads=st.lists(st.integers(-100, 100), min_size=1, max_size=6),
       max_norm=st.sampled_from([0.1, 1.0, 5.0, 50.0]))
def test_clipped_norm_never_exceeds_max_norm(grads, max_norm):
    a = engine.solve("grad_clip", {"grads": grads, "max_norm": max_norm}).answer
    assert np.linalg.norm(a["clipped"]) <= max_norm * (1 + 1e-12)


@pytest.mark.parametrize("norm_type", [2, "2", 2.0, "inf", "INF", 1])
def test_norm_type_spellings(norm_type):
    engine.solve("grad_clip", {"grads": [3, 4], "max_norm": 1, "norm_type": norm_type})


# -- weight_decay ------------------------------------------------------------------------


def test_l2_shrinks_by_one_minus_lr_times_lambda():
    # REG-05: w ← (1 − ηλ)·w − η∇J. η = 0.1, λ₂ = 0.1: factor 0.99;
    # w' = 0.99·[1, −2] − 0.1·[0.5, 0.5] = [0.94, −2.03].
    s = engine.solve("weight_decay", {"w": [1, -2], "grad": [0.5, 0.5], "lr": 0.1, "l2": 0.1})
    assert s.answer["shrink_factor"] == pytest.approx(0.99, abs=1e-15)
    assert allclose(s.answer["w_new"], [0.94, -2.03], rtol=1e-12, atol=0)
    wrong = {m.key: m.answer for m in s.misconceptions}
    assert wrong["l2_no_half"]["shrink_factor"] == pytest.approx(0.98)
    assert wrong["decay_without_lr"]["shrink_factor"] == pytest.approx(0.9)


def test_l1_uses_lambda_times_sign_and_sign_of_zero_is_zero():
    # REG-07: ∇ = g + λ₁ sign(w). w = [1, −2, 0], g = 0.5, η = 0.1, λ₁ = 0.2:
    # w' = [1 − 0.1·0.7, −2 − 0.1·0.3, 0 − 0.1·0.5] = [0.93, −2.03, −0.05].
    params = {"w": [1, -2, 0], "grad": [0.5, 0.5, 0.5], "lr": 0.1, "l1": 0.2}
    s = engine.solve("weight_decay", params)
    assert allclose(s.answer["w_new"], [0.93, -2.03, -0.05], rtol=1e-12, atol=1e-15)
    wrong = {m.key: m.answer for m in s.misconceptions}
    # The seed's "∝ sign(w)" dropped λ₁: the step would use sign(w) itself.
    assert allclose(wrong["l1_without_coefficient"]["w_new"], [0.85, -1.95, -0.05],
                    rtol=1e-12, atol=1e-15)
    # λ₁·w in place of λ₁·sign(w): −2 − 0.1·(0.5 + 0.2·(−2)) = −2.01.
    assert allclose(wrong["l1_as_l2"]["w_new"], [0.93, -2.01, -0.05], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", range(30))
def test_weight_decay_matches_torch_sgd(seed):
    # PyTorch's SGD with weight_decay=λ₂ adds λ₂·w to the gradient; the L1 part is added by
    # hand. torch.optim.sgd.sgd is the functional form SGD.step calls (constructing the
    # optimiser object would first import torch._dynamo, seconds for one test).
    p = engine.sample_params("weight_decay", seed)
    w = torch.tensor(p["w"], dtype=torch.float64)
    grad = torch.tensor(p["grad"], dtype=torch.float64) + p["l1"] * torch.sign(w)
    sgd([w], [grad], [None], foreach=False, weight_decay=p["l2"], momentum=0.0, lr=p["lr"],
        dampening=0.0, nesterov=False, maximize=False)
    assert allclose(engine.solve("weight_decay", p).answer["w_new"], w.tolist(),
                    rtol=1e-12, atol=1e-15)


# -- dropout -----------------------------------------------------------------------------


def test_dropout_training_scales_kept_units():
    # p = 0.5: kept units doubled, dropped ones zero.
    s = engine.solve("dropout", {"x": [1, 2, 3, 4], "p": 0.5, "mask": [1, 0, 1, 0]})
    assert s.answer == {"output": [2.0, 0.0, 6.0, 0.0], "scale": 2.0}
    wrong = {m.key: m.answer for m in s.misconceptions}
    assert wrong["no_rescaling"]["output"] == [1.0, 0.0, 3.0, 0.0]
    # p = 0.5 is its own complement, so "p as keep probability" gives the right answer here.
    assert "p_as_keep" not in wrong
    wrong = mistakes("dropout", {"x": [1, 2, 3, 4], "p": 0.2, "mask": [1, 0, 1, 0]})
    assert wrong["p_as_keep"]["scale"] == pytest.approx(5.0)


def test_dropout_evaluation_is_the_identity_not_times_p():
    # REG-21: the seed multiplies by p (the drop rate) at test time; PyTorch does nothing.
    x = [[1.0, -2.0], [3.0, 4.0]]
    s = engine.solve("dropout", {"x": x, "p": 0.2, "train": False})
    assert s.answer == {"output": x, "scale": 1.0}
    assert torch.nn.Dropout(0.2).eval()(torch.tensor(x)).tolist() == x
    wrong = {m.key: m.answer for m in s.misconceptions}
    assert allclose(wrong["scaled_by_p_at_test"]["output"], [[0.2, -0.4], [0.6, 0.8]],
                    rtol=1e-12, atol=0)


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.8])
def test_f_dropout_has_the_inverted_form(p):
    # F.dropout draws its own mask; every output is 0 or x/(1 − p), and the kind given that
    # mask reproduces the output exactly.
    torch.manual_seed(0)
    x = torch.arange(1, 41, dtype=torch.float64).reshape(5, 8)
    out = F.dropout(x, p, training=True)
    kept = out != 0
    assert torch.all((out == 0) | torch.isclose(out, x / (1 - p), rtol=1e-12, atol=0))
    params = {"x": x.tolist(), "p": p, "mask": kept.int().tolist()}
    assert allclose(engine.solve("dropout", params).answer["output"], out.tolist(),
                    rtol=1e-12, atol=0)


def test_sampled_masks_keep_about_one_minus_p():
    ps = [engine.sample_params("dropout", s) for s in range(300)]
    train = [p for p in ps if p["train"]]
    kept = np.mean([np.mean(p["mask"]) for p in train])
    assert abs(kept - np.mean([1 - p["p"] for p in train])) < 0.1


# -- shared ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params", "bad"),
    [
        ("grad_clip", {"grads": [3, 4], "max_norm": 0}, "max_norm"),
        ("grad_clip", {"grads": [3, 4], "max_norm": 1, "norm_type": 3}, "norm_type"),
        ("grad_clip", {"grads": [[[1]]], "max_norm": 1}, "grads"),
        ("weight_decay", {"w": [1, 2], "grad": [1], "lr": 0.1}, "grad"),
        ("weight_decay", {"w": [1, 2], "grad": [1, 1], "lr": 0}, "lr"),
        ("weight_decay", {"w": [1, 2], "grad": [1, 1], "lr": 0.1, "l1": -1}, "l1"),
        ("dropout", {"x": [1, 2], "p": 1, "mask": [1, 1]}, "p"),
        ("dropout", {"x": [1, 2], "p": 0.5}, "mask"),
        ("dropout", {"x": [1, 2], "p": 0.5, "mask": [1, 0, 1]}, "mask"),
        ("dropout", {"x": [1, 2], "p": 0.5, "mask": [1, 0.5]}, "mask"),
        ("dropout", {"x": [1, 2], "p": 0, "mask": [1, 0]}, "mask"),
    ],
)
def test_bad_params_name_the_parameter(kind, params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve(kind, params)


@pytest.mark.parametrize("kind", ["grad_clip", "weight_decay", "dropout"])
def test_solve_batch_equals_solve(kind):
    ps = [engine.sample_params(kind, seed) for seed in range(200)]
    for p, got in zip(ps, engine.solve_batch(kind, ps), strict=True):
        want = engine.solve(kind, p).answer
        assert set(got) == set(want)
        for key in want:
            assert allclose(got[key], want[key], rtol=1e-9, atol=1e-12), (p, key)


@pytest.mark.parametrize("kind", ["grad_clip", "weight_decay", "dropout"])
def test_sampling_is_deterministic(kind):
    assert engine.sample_params(kind, 7) == engine.sample_params(kind, 7)
    assert len({str(engine.sample_params(kind, s)) for s in range(30)}) > 20
