"""init (Xavier / Kaiming / LeCun scale) against the seeds' figures, hand-derived closed
forms, real matrices drawn by torch.nn.init, and nn.Linear's own default initialisation."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.init  # noqa: F401  (registers the kind)

SQRT3 = math.sqrt(3.0)


def answer(**params):
    return engine.solve("init", params).answer


def mistakes(**params):
    return {m.key: m.answer for m in engine.solve("init", params).misconceptions}


# -- golden cases from the seeds ------------------------------------------------------------

def test_glorot_uniform_bound_from_the_seed():
    # INIT-01 (seed 000 §1): W ~ U(-√(6/(m+n)), √(6/(m+n))); m = 100 inputs, n = 50 outputs.
    a = answer(scheme="xavier_uniform", fan_in=100, fan_out=50)
    assert a["bound"] == pytest.approx(math.sqrt(6 / 150), rel=1e-12)  # = 0.2
    assert a["bound"] == pytest.approx(0.2, rel=1e-12)
    assert a["std"] == pytest.approx(math.sqrt(2 / 150), rel=1e-12)


def test_one_over_sqrt_n_calibration_is_lecun_normal():
    # INIT-04 (seed 002 §3.8.4): w = randn(n) / √n, n = number of inputs.
    for n in (4, 25, 100, 784):
        assert answer(scheme="lecun_normal", fan_in=n, fan_out=7)["std"] == pytest.approx(
            1 / math.sqrt(n), rel=1e-12)


def test_fixed_small_std_of_the_seed_matches_lecun_only_for_ten_thousand_inputs():
    # INIT-03 (seed 002 §3.8.3): W = 0.01·randn(D, H) whatever the fan-in. That equals
    # 1/√n only for n = 10 000; for a 100-input layer it is ten times too small.
    assert answer(scheme="lecun_normal", fan_in=10_000, fan_out=10)["std"] == pytest.approx(0.01)
    assert answer(scheme="lecun_normal", fan_in=100, fan_out=10)["std"] == pytest.approx(0.1)


# -- closed forms worked by hand --------------------------------------------------------------

@pytest.mark.parametrize(
    ("params", "std", "bound"),
    [
        # He et al.: Var = 2 / n_in for ReLU, so n_in = 50 gives σ = 0.2.
        ({"scheme": "kaiming_normal", "fan_in": 50, "fan_out": 3}, 0.2, 0.2 * SQRT3),
        # Kaiming uniform: a = √(6 / n_in) = 0.5 for n_in = 24.
        ({"scheme": "kaiming_uniform", "fan_in": 24, "fan_out": 3}, 0.5 / SQRT3, 0.5),
        # mode = fan_out divides by n_out instead.
        ({"scheme": "kaiming_normal", "fan_in": 3, "fan_out": 8, "mode": "fan_out"}, 0.5,
         0.5 * SQRT3),
        # Xavier normal with the tanh gain 5/3 on 9 + 9 fans: σ = (5/3)·√(2/18) = 5/9.
        ({"scheme": "xavier_normal", "fan_in": 9, "fan_out": 9, "gain": 5 / 3}, 5 / 9,
         5 / 9 * SQRT3),
        # LeCun uniform: a = √(3 / n_in) = 0.5 for n_in = 12.
        ({"scheme": "lecun_uniform", "fan_in": 12, "fan_out": 1}, 0.5 / SQRT3, 0.5),
    ],
)
def test_hand_worked_cases(params, std, bound):
    a = answer(**params)
    assert a["std"] == pytest.approx(std, rel=1e-12)
    assert a["bound"] == pytest.approx(bound, rel=1e-12)


def test_default_gains_are_torchs():
    p = engine.solve("init", {"scheme": "kaiming_uniform", "fan_in": 8, "fan_out": 8}).params
    assert p["gain"] == torch.nn.init.calculate_gain("relu") and p["mode"] == "fan_in"
    p = engine.solve("init", {"scheme": "xavier_uniform", "fan_in": 8, "fan_out": 8}).params
    assert p["gain"] == 1.0 and p["mode"] is None


# -- torch oracles: real initialised tensors ---------------------------------------------------

@pytest.mark.parametrize("scheme", ["xavier_uniform", "xavier_normal", "kaiming_uniform",
                                    "kaiming_normal"])
def test_answer_matches_a_large_matrix_drawn_by_torch(scheme):
    fan_in, fan_out = 300, 200
    a = answer(scheme=scheme, fan_in=fan_in, fan_out=fan_out)
    w = torch.empty(fan_out, fan_in, dtype=torch.float64)
    getattr(torch.nn.init, scheme + "_")(w, generator=torch.Generator().manual_seed(1))
    # 60 000 draws: the sample std is within ~1 % of σ (its relative s.e. is below 0.4 %).
    assert w.std().item() == pytest.approx(a["std"], rel=0.015)
    if scheme.endswith("uniform"):
        assert w.abs().max().item() <= a["bound"]
        assert w.abs().max().item() == pytest.approx(a["bound"], rel=1e-3)


def test_nn_linear_default_init_is_kaiming_uniform_with_gain_sqrt_one_third():
    # nn.Linear uses kaiming_uniform_(a=√5): gain √(2/(1+5)), so a = 1/√n_in.
    gain = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5))
    a = answer(scheme="kaiming_uniform", fan_in=64, fan_out=32, gain=gain)
    assert a["bound"] == pytest.approx(1 / 8, rel=1e-12)
    torch.manual_seed(0)
    w = torch.nn.Linear(64, 32).weight.detach()
    assert w.abs().max().item() <= a["bound"]
    assert w.abs().max().item() == pytest.approx(a["bound"], rel=0.01)


def test_small_layers_get_a_demonstration_step_large_ones_do_not():
    small = engine.solve("init", {"scheme": "kaiming_normal", "fan_in": 16, "fan_out": 64})
    demo = small.steps[-1].values
    assert demo["elements"] == 16 * 64
    assert demo["empirical_std"] == pytest.approx(small.answer["std"], rel=0.1)
    big = engine.solve("init", {"scheme": "kaiming_normal", "fan_in": 512, "fan_out": 512})
    assert "empirical_std" not in big.steps[-1].values


# -- misconceptions -----------------------------------------------------------------------------

def test_misconceptions_name_the_classic_mistakes():
    wrong = mistakes(scheme="xavier_uniform", fan_in=100, fan_out=50)
    lecun = answer(scheme="lecun_uniform", fan_in=100, fan_out=50)
    assert wrong["xavier_fan_in_only"]["bound"] == pytest.approx(lecun["bound"])
    assert wrong["bound_is_std"]["bound"] == pytest.approx(math.sqrt(2 / 150))  # std as bound
    assert wrong["variance_not_std"]["std"] == pytest.approx(2 / 150)

    wrong = mistakes(scheme="kaiming_normal", fan_in=50, fan_out=200)
    assert wrong["kaiming_no_factor_2"]["std"] == pytest.approx(1 / math.sqrt(50))
    assert wrong["other_fan"]["std"] == pytest.approx(math.sqrt(2 / 200))
    assert "forgot_gain" not in wrong  # for Kaiming that mistake is the missing factor 2

    wrong = mistakes(scheme="xavier_normal", fan_in=9, fan_out=9, gain=2.0)
    assert wrong["forgot_gain"]["std"] == pytest.approx(1 / 3)
    assert "xavier_fan_in_only" not in wrong  # equal fans: that mistake gives the right number


# -- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"scheme": "xavier_uniform", "fan_in": 0, "fan_out": 4}, "fan_in"),
        ({"scheme": "xavier_uniform", "fan_in": 4, "fan_out": -1}, "fan_out"),
        ({"scheme": "he_normal", "fan_in": 4, "fan_out": 4}, "scheme"),
        ({"scheme": "kaiming_normal", "fan_in": 4, "fan_out": 4, "gain": 0}, "gain"),
        ({"scheme": "xavier_normal", "fan_in": 4, "fan_out": 4, "mode": "fan_in"}, "mode"),
        ({"scheme": "lecun_normal", "fan_in": 4, "fan_out": 4, "mode": "fan_out"}, "mode"),
        ({"scheme": "kaiming_normal", "fan_in": 4, "fan_out": 4, "mode": "avg"}, "mode"),
    ],
)
def test_bad_params_name_the_parameter(params, name):
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        engine.solve("init", params)


# -- variants and batches -----------------------------------------------------------------------

def test_sampling_is_deterministic():
    assert [engine.sample_params("init", s) for s in range(20)] == [
        engine.sample_params("init", s) for s in range(20)]


def test_solve_batch_equals_solve():
    ps = [engine.sample_params("init", s) for s in range(200)]
    for p, batched in zip(ps, engine.solve_batch("init", ps), strict=True):
        single = engine.solve("init", p).answer
        for key in ("std", "bound"):
            assert batched[key] == pytest.approx(single[key], rel=1e-12), (p, key)


@settings(max_examples=60, deadline=None)
@given(scheme=st.sampled_from(["xavier_normal", "kaiming_uniform", "lecun_normal"]),
       fan_in=st.integers(1, 10_000), fan_out=st.integers(1, 10_000),
       gain=st.floats(0.1, 10))
def test_bound_is_sqrt3_std_and_std_is_linear_in_the_gain(scheme, fan_in, fan_out, gain):
    base = answer(scheme=scheme, fan_in=fan_in, fan_out=fan_out, gain=1.0)
    scaled = answer(scheme=scheme, fan_in=fan_in, fan_out=fan_out, gain=gain)
    assert scaled["bound"] == pytest.approx(SQRT3 * scaled["std"], rel=1e-12)
    assert scaled["std"] == pytest.approx(gain * base["std"], rel=1e-12)
