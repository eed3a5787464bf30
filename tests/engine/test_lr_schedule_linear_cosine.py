"""lr_schedule's linear_cosine and noisy_linear_cosine against TensorFlow's own test oracle
(np_linear_cosine_decay in TF's learning_rate_decay_test.py) and hand computations."""

import math

import pytest

import engine
import engine.kinds.lr_schedule  # noqa: F401  (registers the kind)

KIND = "lr_schedule"


def lr_at(**params):
    return engine.solve(KIND, params).answer["lr"]


def mistakes(**params):
    return {m.key: m.answer["lr"] for m in engine.solve(KIND, params).misconceptions}


def np_linear_cosine_decay(step, decay_steps, alpha=0.0, beta=0.001, num_periods=0.5):
    """The reference function of TF's LinearCosineDecayTest, written out again."""
    step = min(step, decay_steps)
    linear_decayed = float(decay_steps - step) / decay_steps
    fraction = 2.0 * num_periods * step / float(decay_steps)
    cosine_decayed = 0.5 * (1.0 + math.cos(math.pi * fraction))
    return (alpha + linear_decayed) * cosine_decayed + beta


@pytest.mark.parametrize("step", range(0, 1500, 250))
def test_tf_default_decay(step):
    assert lr_at(name="linear_cosine", lr=1.0, decay_steps=1000, step=step) == pytest.approx(
        np_linear_cosine_decay(step, 1000), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("step", range(0, 1500, 250))
def test_tf_non_default_decay(step):
    got = lr_at(name="linear_cosine", lr=1.0, decay_steps=1000, step=step, alpha=0.1,
                beta=1e-4, num_periods=5)
    assert got == pytest.approx(np_linear_cosine_decay(step, 1000, alpha=0.1, beta=1e-4,
                                                       num_periods=5), rel=1e-12, abs=1e-15)


def test_hand_computed_half_way():
    # η_0 = 0.1, T = 1000, defaults, t = 500: ℓ = 0.5, c = ½(1 + cos π/2) = 0.5,
    # η = 0.1·(0.5·0.5 + 0.001) = 0.0251 (the bank's LR-09 example).
    p = {"name": "linear_cosine", "lr": 0.1, "decay_steps": 1000, "step": 500}
    assert lr_at(**p) == pytest.approx(0.0251, rel=1e-12)
    wrong = mistakes(**p)
    assert wrong["forgot_beta"] == pytest.approx(0.025, rel=1e-12)
    assert wrong["plain_cosine_decay"] == pytest.approx(0.05, rel=1e-12)
    # cos(π·0.5·500/1000) = cos(π/4): ½(1 + √2/2) = 0.853553…
    assert wrong["cosine_no_factor_two"] == pytest.approx(
        0.1 * (0.5 * 0.5 * (1 + math.sqrt(0.5)) + 0.001), rel=1e-12)
    assert "linear_cosine_no_clamp" not in wrong


def test_quarter_way_and_past_the_end():
    p = {"name": "linear_cosine", "lr": 0.1, "decay_steps": 1000}
    # t = 250: ℓ = 0.75, c = ½(1 + cos π/4).
    assert lr_at(**p, step=250) == pytest.approx(
        0.1 * (0.75 * 0.5 * (1 + math.sqrt(0.5)) + 0.001), rel=1e-12)
    # t ≥ T: ℓ = 0 and c = ½(1 + cos π) = 0, only the floor β·η_0 is left.
    assert lr_at(**p, step=1000) == pytest.approx(1e-4, rel=1e-9)
    assert lr_at(**p, step=5000) == pytest.approx(1e-4, rel=1e-9)
    # Without the clamp, t = 1500: ℓ = −0.5, c = ½(1 + cos 1.5π) = 0.5.
    assert mistakes(**p, step=1500)["linear_cosine_no_clamp"] == pytest.approx(
        0.1 * (-0.5 * 0.5 + 0.001), rel=1e-12)


def test_more_periods_restart_the_cosine():
    # k = 1: the cosine factor is 0 at t = T/2 and back at 1 at t = T (times ℓ = 0).
    p = {"name": "linear_cosine", "lr": 1.0, "decay_steps": 100, "num_periods": 1.0,
         "beta": 0.0}
    assert lr_at(**p, step=50) == pytest.approx(0.0, abs=1e-15)
    assert lr_at(**p, step=75) == pytest.approx(0.25 * 0.5, rel=1e-12)
    # k = 0: the cosine factor is 1, so it is plain linear decay plus β.
    assert lr_at(**dict(p, num_periods=0.0), step=30) == pytest.approx(0.7, rel=1e-12)


def test_noisy_hand_computed():
    # t = 99, defaults: σ² = 1/100^0.55 = 10^(−1.1), ε = z·σ = 10^(−0.55) for z = 1.
    p = {"name": "noisy_linear_cosine", "lr": 0.1, "decay_steps": 1000, "step": 99,
         "noise_z": 1.0}
    linear, eps = 0.901, 10**-0.55
    cosine = 0.5 * (1 + math.cos(math.pi * 99 / 1000))
    expected = 0.1 * ((linear + eps) * cosine + 0.001)
    assert lr_at(**p) == pytest.approx(expected, rel=1e-12)
    wrong = mistakes(**p)
    assert wrong["ignored_noise"] == pytest.approx(0.1 * (linear * cosine + 0.001), rel=1e-12)
    assert wrong["noise_variance_as_std"] == pytest.approx(
        0.1 * ((linear + 10**-1.1) * cosine + 0.001), rel=1e-12)
    assert wrong["noise_outside_cosine"] == pytest.approx(
        0.1 * (linear * cosine + 0.001 + eps), rel=1e-12)
    s = engine.solve(KIND, p)
    assert s.steps[1].values["variance"] == pytest.approx(10**-1.1, rel=1e-12)
    assert s.steps[1].values["epsilon"] == pytest.approx(eps, rel=1e-12)


def test_noisy_is_linear_in_the_draw():
    # E[η_t] over z ~ N(0, 1) is the linear-cosine rate; η_t moves by η_0·c·σ_t per unit of z.
    base = {"name": "noisy_linear_cosine", "lr": 0.2, "decay_steps": 400, "step": 120,
            "initial_variance": 0.5, "variance_decay": 1.0, "num_periods": 2.0, "alpha": 0.1}
    plain = {k: v for k, v in base.items() if k not in ("initial_variance", "variance_decay")}
    mean = lr_at(**dict(plain, name="linear_cosine"))
    assert lr_at(**base, noise_z=0.0) == pytest.approx(mean, rel=1e-12)
    cosine = 0.5 * (1 + math.cos(2 * math.pi * 2.0 * 120 / 400))
    sigma = math.sqrt(0.5 / 121)
    for z in (-2.0, -0.5, 1.5):
        assert lr_at(**base, noise_z=z) - mean == pytest.approx(0.2 * cosine * sigma * z,
                                                                rel=1e-9)


def test_noise_variance_stops_shrinking_at_decay_steps():
    # TF clamps the step before the variance too: t = 3000 uses (1 + 1000)^0.55.
    p = {"name": "noisy_linear_cosine", "lr": 0.1, "decay_steps": 1000, "num_periods": 1.0,
         "noise_z": 1.0}
    s = engine.solve(KIND, dict(p, step=3000))
    assert s.steps[1].values["variance"] == pytest.approx(1001**-0.55, rel=1e-12)
    assert s.answer["lr"] == pytest.approx(0.1 * (1001**-0.275 + 0.001), rel=1e-12)


def test_batch_curve_equals_solve():
    for name, extra in (("linear_cosine", {}), ("noisy_linear_cosine", {"noise_z": -1.0})):
        p = {"name": name, "lr": 0.05, "decay_steps": 60, "num_periods": 1.5, "alpha": 0.1,
             **extra}
        steps = range(0, 80, 3)
        batch = [a["lr"] for a in engine.solve_batch(KIND, [dict(p, step=t) for t in steps])]
        assert batch == pytest.approx([lr_at(**p, step=t) for t in steps], rel=1e-12, abs=1e-15)


def test_sampled_variants_verify():
    seen = set()
    for seed in range(300):
        p = engine.sample_params(KIND, seed)
        if p["name"] in ("linear_cosine", "noisy_linear_cosine"):
            seen.add(p["name"])
            assert engine.solve(KIND, p).verification.passed
    assert seen == {"linear_cosine", "noisy_linear_cosine"}


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"name": "noisy_linear_cosine", "step": 1, "lr": 0.1, "decay_steps": 10}, "noise_z"),
        ({"name": "linear_cosine", "step": 1, "lr": 0.1, "decay_steps": 10, "noise_z": 1.0},
         "noise_z"),
        ({"name": "linear_cosine", "step": 1, "lr": 0.1, "decay_steps": 10,
          "initial_variance": 1.0}, "initial_variance"),
        ({"name": "cosine", "step": 1, "lr": 0.1, "decay_steps": 10, "beta": 0.001}, "beta"),
        ({"name": "linear_cosine", "step": 1, "lr": 0.1, "decay_steps": 10, "num_periods": -1},
         "num_periods"),
        ({"name": "linear_cosine", "step": 1, "lr": 0.1, "decay_steps": 10, "beta": 2},
         "beta"),
        ({"name": "noisy_linear_cosine", "step": 1, "lr": 0.1, "decay_steps": 10,
          "noise_z": 1.0, "variance_decay": -0.5}, "variance_decay"),
        ({"name": "noisy_linear_cosine", "step": 1, "lr": 0.1, "decay_steps": 10,
          "noise_z": 9.0}, "noise_z"),
    ],
)
def test_bad_params_name_the_parameter(params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve(KIND, params)


def test_steps_substitute_the_numbers():
    s = engine.solve(KIND, {"name": "linear_cosine", "lr": 0.1, "decay_steps": 1000,
                            "step": 500})
    assert s.steps[-1].formula.endswith(r"0.001\right) = 0.0251")
    assert all(step.label and step.label_zh and step.formula for step in s.steps)
