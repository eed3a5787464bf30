"""lr_schedule against independent oracles: TensorFlow's documented examples, the seeds'
formulas (LR-03, LR-05, LR-06, LR-07, LR-08) and PyTorch's own lr_scheduler classes."""

import math
import warnings
from itertools import pairwise

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.lr_schedule  # noqa: F401  (registers the kind)

KIND = "lr_schedule"


def lr_at(**params):
    return engine.solve(KIND, params).answer["lr"]


def mistakes(**params):
    return {m.key: m.answer["lr"] for m in engine.solve(KIND, params).misconceptions}


def curve(params, steps):
    """η_t for every t in ``steps``, in one solve_batch call (as a plot would ask)."""
    return [a["lr"] for a in engine.solve_batch(KIND, [dict(params, step=t) for t in steps])]


# -- golden cases ---------------------------------------------------------------------------


def test_exponential_staircase_tf_example():
    # TF docs: exponential_decay(0.1, step, 100000, 0.96, staircase=True); at 250000: 0.1·0.96².
    p = {"name": "exponential", "lr": 0.1, "decay_steps": 100000, "decay_rate": 0.96,
         "step": 250000}
    assert lr_at(**p, staircase=True) == pytest.approx(0.09216, rel=1e-12)
    # Seed LR-05: without staircase the exponent is the real ratio 2.5.
    assert lr_at(**p) == pytest.approx(0.1 * 0.96**2.5, rel=1e-12)
    assert mistakes(**p, staircase=True)["forgot_staircase"] == pytest.approx(0.1 * 0.96**2.5)
    assert mistakes(**p)["floor_without_staircase"] == pytest.approx(0.09216)


def test_natural_exp_and_the_seed_formula():
    # TF docs: natural_exp_decay(0.1, step, decay_steps=5, k=0.5); at step 10: 0.1·e^(−1).
    p = {"name": "natural_exp", "lr": 0.1, "decay_steps": 5, "decay_rate": 0.5, "step": 10}
    assert lr_at(**p) == pytest.approx(0.1 * math.exp(-1), rel=1e-12)
    # Seed LR-06 prints lr·e^(−decay_rate/global_step): 0.1·e^(−0.05) = 0.0951..., wrong.
    assert mistakes(**p)["seed_natural_exp"] == pytest.approx(0.1 * math.exp(-0.05), rel=1e-12)
    assert lr_at(**p) != pytest.approx(0.1 * math.exp(-0.05))


def test_inverse_time_tf_example():
    # TF docs: decay_steps 1, decay_rate 0.5: lr / (1 + 0.5 t).
    assert lr_at(name="inverse_time", lr=0.1, decay_steps=1, decay_rate=0.5, step=3) == \
        pytest.approx(0.04, rel=1e-12)


def test_polynomial_tf_example_and_cycle():
    # TF docs: 0.1 → 0.01 over 10000 steps with power 0.5 (seed LR-07).
    p = {"name": "polynomial", "lr": 0.1, "end_lr": 0.01, "decay_steps": 10000, "power": 0.5}
    assert lr_at(**p, step=2500) == pytest.approx(0.09 * math.sqrt(0.75) + 0.01, rel=1e-12)
    assert lr_at(**p, step=20000) == pytest.approx(0.01, rel=1e-12)  # clamped at T
    # cycle: T' = 10000·⌈15000/10000⌉ = 20000, so (1 − 0.75)^0.5 = 0.5.
    assert lr_at(**p, step=15000, cycle=True) == pytest.approx(0.055, rel=1e-12)
    assert mistakes(**p, step=15000, cycle=True)["ignored_cycle"] == pytest.approx(0.01)


def test_linear_decay_of_the_seed_is_polynomial_with_power_one():
    # Seed LR-03: ε_k = (1 − α)ε_0 + α ε_τ, α = k/τ, then constant; ε_τ ≈ 1 % of ε_0.
    p = {"name": "polynomial", "lr": 0.1, "end_lr": 0.001, "decay_steps": 100, "power": 1.0}
    assert lr_at(**p, step=50) == pytest.approx(0.5 * 0.1 + 0.5 * 0.001, rel=1e-12)
    assert lr_at(**p, step=200) == pytest.approx(0.001, rel=1e-12)
    # Without the clamp the line keeps falling: 0.099·(1 − 2) + 0.001 < 0.
    assert mistakes(**p, step=200)["polynomial_no_clamp"] == pytest.approx(-0.098, rel=1e-12)


def test_cosine_with_alpha_floor():
    # Seed LR-08: decayed = (1 − α)·½(1 + cos(π t/T)) + α.
    p = {"name": "cosine", "lr": 0.1, "decay_steps": 1000, "alpha": 0.1}
    assert lr_at(**p, step=500) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1), rel=1e-12)
    assert lr_at(**p, step=2000) == pytest.approx(0.01, rel=1e-12)
    wrong = mistakes(**p, step=500)
    assert wrong["cosine_no_alpha"] == pytest.approx(0.05, rel=1e-12)
    assert wrong["alpha_absolute"] == pytest.approx(0.1 + (0.1 - 0.1) * 0.5)
    assert mistakes(**p, step=2000)["cosine_no_clamp"] == pytest.approx(0.1, rel=1e-12)


def test_piecewise_constant_boundary_keeps_the_earlier_value():
    p = {"name": "piecewise_constant", "boundaries": [1000, 2000], "values": [0.1, 0.01, 0.001]}
    assert curve(p, [0, 999, 1000, 1001, 2000, 2001]) == [0.1, 0.1, 0.1, 0.01, 0.01, 0.001]
    assert mistakes(**p, step=1000)["next_value_at_boundary"] == 0.01


def test_linear_warmup_then_cosine():
    p = {"name": "linear_warmup", "lr": 0.1, "warmup_steps": 100, "after_warmup": "cosine",
         "decay_steps": 1000}
    assert curve(p, [0, 50, 100, 600, 1100, 5000]) == pytest.approx(
        [0.0, 0.05, 0.1, 0.05, 0.0, 0.0], abs=1e-15)
    assert mistakes(**p, step=50)["warmup_plus_one"] == pytest.approx(0.051)
    assert mistakes(**p, step=600)["cosine_from_zero"] == pytest.approx(
        0.05 * (1 + math.cos(0.6 * math.pi)))
    assert lr_at(name="linear_warmup", lr=0.1, warmup_steps=100, step=5000) == 0.1


def test_cosine_restarts_by_hand():
    # Periods [0, 10), [10, 30), [30, 70): step 35 is 5 steps into the third, height 0.5².
    p = {"name": "cosine_restarts", "lr": 0.1, "decay_steps": 10, "m_mul": 0.5, "step": 35}
    expected = 0.1 * 0.25 * 0.5 * (1 + math.cos(math.pi * 5 / 40))
    assert lr_at(**p) == pytest.approx(expected, rel=1e-12)
    assert mistakes(**p)["ignored_m_mul"] == pytest.approx(expected * 4, rel=1e-12)


# -- PyTorch's schedulers as oracles ------------------------------------------------------


def torch_curve(make, steps):
    """lr after 0, 1, …, steps − 1 calls of scheduler.step() on a dummy optimiser."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stepping the scheduler without optimiser steps
        scheduler = make(opt)
        for _ in range(steps):
            out.append(scheduler.get_last_lr()[0])
            scheduler.step()
    return out


@pytest.mark.parametrize(
    ("params", "make"),
    [
        ({"name": "step_lr", "decay_steps": 7, "decay_rate": 0.5},
         lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
        ({"name": "exponential", "decay_steps": 1, "decay_rate": 0.9},
         lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
        ({"name": "polynomial", "decay_steps": 30, "power": 2.0, "end_lr": 0.0},
         lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=30, power=2.0)),
        ({"name": "cosine", "decay_steps": 40, "alpha": 0.1},
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=40, eta_min=0.01)),
        ({"name": "cosine_restarts", "decay_steps": 5, "t_mul": 2, "alpha": 0.2},
         lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2,
                                                                         eta_min=0.02)),
        ({"name": "cosine_restarts", "decay_steps": 6, "t_mul": 1},
         lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=6)),
    ],
)
def test_matches_pytorch_schedulers(params, make):
    steps = 41
    assert curve({**params, "lr": 0.1}, range(steps)) == pytest.approx(
        torch_curve(make, steps), rel=1e-9, abs=1e-15)


def test_multistep_lr_is_piecewise_constant_except_at_the_milestones():
    reference = torch_curve(
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[5, 12], gamma=0.1), 20)
    p = {"name": "piecewise_constant", "boundaries": [5, 12], "values": [0.1, 0.01, 0.001]}
    ours = curve(p, range(20))
    for t in range(20):
        if t in (5, 12):  # TF keeps the earlier value; MultiStepLR has already switched
            assert mistakes(**p, step=t)["next_value_at_boundary"] == pytest.approx(reference[t])
        else:
            assert ours[t] == pytest.approx(reference[t], rel=1e-12)


# -- contract -------------------------------------------------------------------------------


def test_solve_batch_equals_solve():
    ps = [engine.sample_params(KIND, seed) for seed in range(200)]
    for p, batch in zip(ps, engine.solve_batch(KIND, ps), strict=True):
        single = engine.solve(KIND, p)
        assert single.verification.passed
        assert batch["lr"] == pytest.approx(single.answer["lr"], rel=1e-12, abs=1e-300)


def test_sample_is_deterministic():
    assert engine.sample_params(KIND, 11) == engine.sample_params(KIND, 11)
    names = {engine.sample_params(KIND, seed)["name"] for seed in range(100)}
    assert len(names) == 11


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(["exponential", "natural_exp", "inverse_time", "cosine", "step_lr"]),
       rate=st.floats(0.01, 1.0), period=st.integers(1, 500), staircase=st.booleans(),
       start=st.integers(0, 2000))
def test_decay_never_increases(name, rate, period, staircase, start):
    p = {"name": name, "lr": 0.5, "decay_steps": period}
    if name == "cosine":
        p["alpha"] = rate
    else:
        p["decay_rate"] = rate
        if name not in ("step_lr",):
            p["staircase"] = staircase
    values = curve(p, range(start, start + 20))
    assert all(b <= a * (1 + 1e-12) for a, b in pairwise(values))


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"name": "piecewise_constant", "step": 1, "boundaries": [10, 10], "values": [1, 2, 3]},
         "boundaries"),
        ({"name": "piecewise_constant", "step": 1, "boundaries": [10, 20], "values": [1, 2]},
         "values"),
        ({"name": "piecewise_constant", "step": 1, "boundaries": [10], "values": [1, 2],
          "lr": 0.1}, "lr"),
        ({"name": "exponential", "step": 1, "lr": 0.1, "decay_rate": 0.5}, "decay_steps"),
        ({"name": "exponential", "step": 1, "lr": 0.1, "decay_steps": 10, "decay_rate": 1.5},
         "decay_rate"),
        ({"name": "cosine", "step": 1, "lr": 0.1, "decay_steps": 10, "staircase": True},
         "staircase"),
        ({"name": "linear_warmup", "step": 1, "lr": 0.1, "warmup_steps": 10, "decay_steps": 10},
         "decay_steps"),
        ({"name": "cosine", "step": -1, "lr": 0.1, "decay_steps": 10}, "step"),
        ({"name": "cosine", "step": 1, "lr": 0.1, "decay_steps": 0}, "decay_steps"),
    ],
)
def test_bad_params_name_the_parameter(params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve(KIND, params)


def test_steps_substitute_the_numbers():
    s = engine.solve(KIND, {"name": "exponential", "lr": 0.1, "decay_steps": 100000,
                            "decay_rate": 0.96, "step": 250000, "staircase": True})
    assert s.steps[-1].formula.endswith(r"0.1 \cdot 0.96^{2} = 0.09216")
    assert all(step.label and step.label_zh and step.formula for step in s.steps)
