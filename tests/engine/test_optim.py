"""optimizer against independent oracles: hand-worked steps, closed forms, the seeds'
statements (OPT-06, OPT-08, OPT-09, OPT-10) and torch.optim's own Optimizer objects."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.optim  # noqa: F401  (registers the kind)
from engine.kinds import optim_check
from engine.kinds.optim_torch import objective_loss

KIND = "optimizer"


def solve(**params):
    return engine.solve(KIND, params)


def mistakes(solution):
    return {m.key: m.answer["theta"] for m in solution.misconceptions}


def test_momentum_two_steps_by_hand():
    # b_1 = g_1 = (0.5, 1); θ_1 = (1, -2) - 0.1 b_1 = (0.95, -2.1)
    # b_2 = 0.9 b_1 + g_2 = (0.95, -0.1); θ_2 = θ_1 - 0.1 b_2 = (0.855, -2.09)
    s = solve(name="momentum", theta0=[1.0, -2.0], grads=[[0.5, 1.0], [0.5, -1.0]], lr=0.1)
    np.testing.assert_allclose(s.answer["trajectory"], [[0.95, -2.1], [0.855, -2.09]], rtol=1e-12)
    np.testing.assert_allclose(s.answer["state"]["momentum_buffer"], [0.95, -0.1], rtol=1e-12)
    assert s.answer["state"]["step"] == 2
    # The EMA form: b_1 = 0.1 g_1 = (0.05, 0.1), b_2 = 0.9 b_1 + 0.1 g_2 = (0.095, -0.01).
    np.testing.assert_allclose(mistakes(s)["ema_momentum"], [0.9855, -2.009], rtol=1e-12)
    np.testing.assert_allclose(mistakes(s)["forgot_lr"], [1 - 0.5 - 0.95, -2 - 1 + 0.1], rtol=1e-12)


def test_nesterov_two_steps_by_hand():
    # b_1 = 1, θ_1 = -0.1 (1 + 0.9) = -0.19; b_2 = 1.9, θ_2 = -0.19 - 0.1 (1 + 1.71) = -0.461.
    s = solve(name="nesterov", theta0=[0.0], grads=[[1.0], [1.0]], lr=0.1)
    np.testing.assert_allclose(s.answer["trajectory"], [[-0.19], [-0.461]], rtol=1e-12)
    np.testing.assert_allclose(mistakes(s)["nesterov_as_classical"], [-0.29], rtol=1e-12)


@pytest.mark.parametrize(("mu", "factor"), [(0.5, 2), (0.9, 10), (0.99, 100)])
def test_terminal_velocity_is_lr_g_over_one_minus_mu(mu, factor):
    # Seed OPT-06: with a constant gradient the step approaches ε‖g‖/(1 − α): 2×, 10×, 100× SGD.
    s = solve(name="momentum", theta0=[0.0], grads=[[1.0]] * 1000, lr=0.1, momentum=mu)
    theta = s.answer["trajectory"]
    last_step = theta[-2][0] - theta[-1][0]
    assert last_step == pytest.approx(0.1 * factor, rel=1e-3)
    assert last_step == pytest.approx(0.1 * (1 - mu**1000) / (1 - mu), rel=1e-9)


def test_velocity_form_gives_the_same_theta_for_a_constant_lr():
    grads, lr, mu = [[0.3, -1.2], [0.7, 0.4], [-0.5, 0.9]], 0.2, 0.8
    theta, v = np.array([1.0, 1.0]), np.zeros(2)
    for g in grads:  # Sutskever / Polyak: v ← μv − ηg, θ ← θ + v
        v = mu * v - lr * np.array(g)
        theta = theta + v
    s = solve(name="momentum", theta0=[1.0, 1.0], grads=grads, lr=lr, momentum=mu)
    np.testing.assert_allclose(s.answer["theta"], theta, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(g=st.floats(0.01, 100), sign=st.sampled_from([-1.0, 1.0]), lr=st.sampled_from([1e-3, 0.1, 1.0]))
def test_first_adam_step_moves_by_lr_times_sign(g, sign, lr):
    # m̂_1 = g, v̂_1 = g², so the step is η g / (|g| + ε) ≈ η sign(g), whatever |g| is.
    s = solve(name="adam", theta0=[0.0, 5.0], grads=[[sign * g, -sign * g]], lr=lr)
    step = np.array(s.answer["theta"]) - [0.0, 5.0]
    np.testing.assert_allclose(step, [-sign * lr, sign * lr], rtol=1e-6)


def test_adam_without_bias_correction_first_step():
    # m_1 = 0.1 g, v_1 = 0.001 g²: the step is η·0.1/√0.001 = 3.16 η instead of η.
    s = solve(name="adam", theta0=[0.0], grads=[[2.0]], lr=0.01)
    assert s.answer["theta"][0] == pytest.approx(-0.01, rel=1e-8)
    step = 0.01 * (0.1 * 2) / (math.sqrt(0.001 * 4) + 1e-8)
    assert mistakes(s)["no_bias_correction"][0] == pytest.approx(-step, rel=1e-12)
    assert step == pytest.approx(0.01 * 0.1 / math.sqrt(0.001), rel=1e-6)


def test_adamw_decay_is_decoupled_and_scaled_by_lr():
    s = solve(name="adamw", theta0=[1.0], grads=[[0.5]], lr=0.1, weight_decay=0.1)
    # θ ← θ(1 − ηλ) = 0.99, then the first Adam step −η sign(g): 0.89.
    assert s.answer["theta"][0] == pytest.approx(0.89, rel=1e-8)
    wrong = mistakes(s)
    assert wrong["coupled_l2"][0] == pytest.approx(0.9, rel=1e-8)  # L2 vanishes in step 1
    assert wrong["decay_without_lr"][0] == pytest.approx(0.8, rel=1e-8)


def test_adam_weight_decay_is_l2_in_the_gradient():
    s = solve(name="adam", theta0=[1.0], grads=[[0.5], [0.5]], lr=0.1, weight_decay=0.5)
    trajectory, _ = optim_check.run({**s.params, "name": "adamw"})
    assert mistakes(s)["decoupled_decay"] == pytest.approx(trajectory[-1], rel=1e-12)


def test_adagrad_by_hand():
    # Seed OPT-08: r ← r + g², Δθ = −η g / (√r + ε) with PyTorch's ε = 1e-10.
    s = solve(name="adagrad", theta0=[1.0], grads=[[2.0], [2.0]], lr=0.1)
    theta1 = 1 - 0.1 * 2 / (2 + 1e-10)
    theta2 = theta1 - 0.1 * 2 / (math.sqrt(8) + 1e-10)
    np.testing.assert_allclose(s.answer["trajectory"], [[theta1], [theta2]], rtol=1e-14)
    assert s.answer["state"]["sum"] == [8.0]


def test_rmsprop_first_step_is_large_without_bias_correction():
    # Seed OPT-09: v_1 = (1 − α) g², so the first step is η/√(1 − α) = 10 η for α = 0.99.
    s = solve(name="rmsprop", theta0=[0.0], grads=[[3.0]], lr=0.01)
    assert s.answer["theta"][0] == pytest.approx(-0.1, rel=1e-7)
    assert s.answer["state"]["square_avg"][0] == pytest.approx(0.09, rel=1e-12)
    # without the square root: η g / (v + ε) = 0.01·3 / 0.09
    assert mistakes(s)["no_sqrt"][0] == pytest.approx(-0.01 * 3 / 0.09, rel=1e-6)


def test_eps_inside_the_square_root_shows_for_tiny_gradients():
    s = solve(name="adam", theta0=[0.0], grads=[[1e-4]], lr=0.1)
    assert mistakes(s)["eps_inside_sqrt"][0] == pytest.approx(-0.1 * 1e-4 / math.sqrt(1e-8 + 1e-8))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sgd", {"lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0}),
        ("momentum", {"lr": 1e-3, "momentum": 0.9}),
        ("adagrad", {"lr": 1e-2, "eps": 1e-10}),
        ("rmsprop", {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8}),
        # Seed OPT-10: β1 0.9, β2 0.999, ε 1e-8, η 0.001.
        ("adam", {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}),
        ("adamw", {"weight_decay": 1e-2}),
    ],
)
def test_pytorch_defaults_are_filled(name, expected):
    params = solve(name=name, theta0=[1.0], grads=[[1.0]]).params
    assert {k: params[k] for k in expected} == expected


def test_quadratic_objective_matches_the_closed_form():
    # f = ½ Σ a_i θ_i², so plain SGD gives θ_t = θ_0 (1 − η a)^t.
    s = solve(name="sgd", theta0=[1.0, -2.0], objective="quadratic", curvature=[1.0, 4.0],
              steps=5, lr=0.1)
    expected = [[1.0 * 0.9**t, -2.0 * 0.6**t] for t in range(1, 6)]
    np.testing.assert_allclose(s.answer["trajectory"], expected, rtol=1e-12)


def test_rosenbrock_gradient_at_the_start():
    # At (−1, 1): ∂f/∂x = −2(1 − x) − 400x(y − x²) = −4, ∂f/∂y = 200(y − x²) = 0.
    s = solve(name="sgd", theta0=[-1.0, 1.0], objective="rosenbrock", steps=1, lr=0.01)
    np.testing.assert_allclose(s.answer["theta"], [-0.96, 1.0], rtol=1e-12)


def torch_optim_run(p):
    """The same run with torch.optim's Optimizer objects (Optimizer.step)."""
    theta = torch.tensor(p["theta0"], dtype=torch.float64, requires_grad=True)
    name, lr, wd = p["name"], p["lr"], p["weight_decay"]
    if name in ("sgd", "momentum", "nesterov"):
        opt = torch.optim.SGD([theta], lr=lr, momentum=p["momentum"], weight_decay=wd,
                              nesterov=name == "nesterov")
    elif name == "adagrad":
        opt = torch.optim.Adagrad([theta], lr=lr, eps=p["eps"], weight_decay=wd)
    elif name == "rmsprop":
        opt = torch.optim.RMSprop([theta], lr=lr, alpha=p["alpha"], eps=p["eps"], weight_decay=wd)
    else:
        cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
        opt = cls([theta], lr=lr, betas=(p["beta1"], p["beta2"]), eps=p["eps"], weight_decay=wd)
    rows = []
    for t in range(p["steps"]):
        opt.zero_grad()
        if p["grads"] is not None:
            theta.grad = torch.tensor(p["grads"][t], dtype=torch.float64)
        else:
            objective_loss(p, theta).backward()
        opt.step()
        rows.append(theta.detach().tolist())
    return rows


@pytest.mark.parametrize("seed", range(0, 120, 6))
def test_matches_torch_optim_objects(seed):
    p = engine.sample_params(KIND, seed)
    s = engine.solve(KIND, p)
    assert s.verification.passed
    np.testing.assert_allclose(s.answer["trajectory"], torch_optim_run(p), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"])
def test_long_objective_run_matches_torch_optim_and_check(name):
    p = {"name": name, "theta0": [-1.2, 1.0], "objective": "rosenbrock", "steps": 100,
         "lr": 1e-3 if name in ("momentum", "nesterov") else 0.01}
    s = solve(**p)
    assert s.verification.passed
    np.testing.assert_allclose(s.answer["trajectory"], torch_optim_run(s.params), rtol=1e-9)
    assert len(s.steps) <= 10  # steps 4..99 are summarised in one line


def test_state_matches_the_reference_loop():
    for seed in range(100):
        p = engine.sample_params(KIND, seed)
        state = engine.solve(KIND, p).answer["state"]
        _, reference = optim_check.run(p)
        assert state.keys() == reference.keys()
        for key, value in reference.items():
            np.testing.assert_allclose(state[key], value, rtol=1e-12, atol=1e-15)


def test_solve_batch_equals_solve():
    ps = [engine.sample_params(KIND, seed) for seed in range(200)]
    ps.append({"name": "rmsprop", "theta0": [0.5, 0.5, 0.5], "objective": "quadratic",
               "steps": 20, "lr": 0.05, "weight_decay": 0.1})
    for p, batch in zip(ps, engine.solve_batch(KIND, ps), strict=True):
        single = engine.solve(KIND, p).answer
        np.testing.assert_allclose(batch["trajectory"], single["trajectory"], rtol=1e-12,
                                   atol=1e-15)
        assert batch["state"].keys() == single["state"].keys()
        for key in single["state"]:
            np.testing.assert_allclose(batch["state"][key], single["state"][key], rtol=1e-12,
                                       atol=1e-15)


def test_sample_is_deterministic_and_human_sized():
    assert engine.sample_params(KIND, 7) == engine.sample_params(KIND, 7)
    for seed in range(50):
        p = engine.sample_params(KIND, seed)
        assert len(p["theta0"]) == 2 and 1 <= p["steps"] <= 3
        assert all(round(x, 1) == x for x in p["theta0"])


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"name": "sgd", "theta0": [1.0]}, "grads"),
        ({"name": "sgd", "theta0": [1.0], "grads": [[1.0]], "objective": "quadratic"}, "grads"),
        ({"name": "sgd", "theta0": [1.0, 2.0], "grads": [[1.0]]}, "grads"),
        ({"name": "sgd", "theta0": [1.0], "grads": [[1.0]], "beta1": 0.9}, "beta1"),
        ({"name": "adam", "theta0": [1.0], "grads": [[1.0]], "beta2": 1.0}, "beta2"),
        ({"name": "nesterov", "theta0": [1.0], "grads": [[1.0]], "momentum": 0}, "momentum"),
        ({"name": "sgd", "theta0": [1.0], "grads": [[1.0]], "steps": 2}, "steps"),
        ({"name": "sgd", "theta0": [1.0], "objective": "quadratic"}, "steps"),
        ({"name": "sgd", "theta0": [1.0, 2.0, 3.0], "objective": "rosenbrock", "steps": 1},
         "theta0"),
        ({"name": "sgd", "theta0": [1.0, 2.0], "objective": "quadratic", "steps": 1,
          "curvature": [1.0]}, "curvature"),
        ({"name": "sgd", "theta0": [1.0] * 8, "objective": "quadratic", "steps": 1000}, "steps"),
        ({"name": "sgd", "theta0": [3.0, 3.0], "objective": "rosenbrock", "steps": 100,
          "lr": 1.0}, "lr"),
    ],
)
def test_bad_params_name_the_parameter(params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve(KIND, params)


def test_out_of_range_message():
    with pytest.raises(ValueError, match=r"parameter 'lr': -1 is out of range; valid range is "
                                         r"\[0, 10\]"):
        solve(name="sgd", theta0=[1.0], grads=[[1.0]], lr=-1)


def test_every_step_is_explained_in_both_languages():
    s = solve(name="adamw", theta0=[1.0, 2.0], objective="quadratic", steps=6, lr=0.1)
    assert all(step.label and step.label_zh and step.formula for step in s.steps)
    shown = [step.values.get("t") for step in s.steps if "t" in step.values]
    assert shown == [1, 2, 3, 6]
