"""backprop.two_layer against independent oracles: the seed's worked example (with its
published figures and its known slips), torch.nn.Linear layers with an nn loss and
.backward(), central finite differences, and hand-derived values of the named mistakes."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.backprop  # noqa: F401  (registers the kind)
from engine.params import MAX_STEPS
from engine.trace import plain

KIND = "backprop.two_layer"

# Seed 002 §3.2.5 (catalog row PROP-03): the 2-2-2 sigmoid network, w1..w8 = 0.15..0.55.
GOLDEN = {
    "x": [0.05, 0.10], "target": [0.01, 0.99],
    "w1": [[0.15, 0.20], [0.25, 0.30]], "b1": 0.35,
    "w2": [[0.40, 0.45], [0.50, 0.55]], "b2": 0.60,
    "lr": 0.5,
}


def agrees(printed: str, value: float) -> bool:
    """True when ``value`` rounds to the figure as printed (half a unit in its last digit)."""
    decimals = len(printed.split(".")[1])
    return abs(value - float(printed)) <= 0.5 * 10.0**-decimals + 1e-15


def test_golden_forward_pass_and_loss():
    s = engine.solve(KIND, GOLDEN)
    a = s.answer
    assert s.verification.passed
    assert agrees("0.3775", s.steps[0].values["net_h"][0])
    assert agrees("0.593269992", a["hidden"][0])
    assert agrees("0.596884378", a["hidden"][1])
    assert agrees("1.105905967", s.steps[2].values["net_o"][0])
    assert agrees("0.75136507", a["output"][0])
    assert agrees("0.772928465", a["output"][1])
    assert agrees("0.274811083", s.steps[4].values["E_k"][0])
    assert agrees("0.023560026", s.steps[4].values["E_k"][1])
    assert agrees("0.298371109", a["loss"])


def test_golden_gradient_and_updates():
    a = engine.solve(KIND, GOLDEN).answer
    assert agrees("0.082167041", a["grad_w2"][0][0])  # ∂E/∂w5, where the seed stops
    (w5, w6), (w7, w8) = a["w2_new"]
    (w1, w2), (w3, w4) = a["w1_new"]
    for printed, value in [("0.35891648", w5), ("0.408666186", w6), ("0.511301270", w7),
                           ("0.561370121", w8), ("0.149780716", w1), ("0.19956143", w2),
                           ("0.24975114", w3), ("0.29950229", w4)]:
        assert agrees(printed, value), (printed, value)
    assert a["b1_new"] == [0.35, 0.35] and a["b2_new"] == [0.60, 0.60]  # biases not updated
    assert a["loss_after"] < a["loss"]
    assert agrees("0.291027774", a["loss_after"])


def test_seed_slips_are_refuted():
    out_o1 = engine.solve(KIND, GOLDEN).answer["output"][0]
    # The seed's forward pass prints out_o1 = 0.75136079; its error step uses 0.75136507.
    assert abs(out_o1 - 0.75136079) > 1e-6
    assert abs(out_o1 - 0.75136507) < 1e-8
    # Its formula 1 / (1 + e^{+1.105905967}) would give 0.2486, not either figure.
    assert abs(1 / (1 + math.exp(1.105905967)) - out_o1) > 0.5
    assert abs(1 / (1 + math.exp(-1.105905967)) - out_o1) < 1e-9


def test_golden_misconceptions_match_hand_values():
    wrong = {m.key: m.answer for m in engine.solve(KIND, GOLDEN).misconceptions}
    h1 = 0.593269992107187
    o1, o2 = 0.751365069552316, 0.772928465321463
    d1 = (o1 - 0.01) * o1 * (1 - o1)  # δ_o1
    d2 = (o2 - 0.99) * o2 * (1 - o2)
    assert wrong["forgot_lr"]["w2_new"][0][0] == pytest.approx(0.40 - d1 * h1, abs=1e-12)
    assert wrong["gradient_ascent"]["w2_new"][0][0] == pytest.approx(0.40 + 0.5 * d1 * h1,
                                                                     abs=1e-12)
    assert wrong["net_instead_of_out"]["grad_w2"][0][0] == pytest.approx(d1 * 0.3775, abs=1e-12)
    assert wrong["no_activation_derivative"]["grad_w2"][0][0] == pytest.approx((o1 - 0.01) * h1,
                                                                               abs=1e-12)
    assert wrong["dropped_half"]["grad_w2"][0][0] == pytest.approx(2 * d1 * h1, abs=1e-12)
    # δ_h1 through the updated w5, w7 instead of the original 0.40, 0.50.
    w5, w7 = 0.40 - 0.5 * d1 * h1, 0.50 - 0.5 * d2 * h1
    stale = (w5 * d1 + w7 * d2) * h1 * (1 - h1)
    assert wrong["updated_w2_first"]["grad_b1"][0] == pytest.approx(stale, abs=1e-12)
    assert wrong["updated_w2_first"]["grad_w1"][0][0] == pytest.approx(stale * 0.05, abs=1e-12)
    assert wrong["sigmoid_plus_exponent"]["hidden"][0] == pytest.approx(1 - h1, abs=1e-12)


def test_golden_steps_read_like_the_worked_example():
    steps = engine.solve(KIND, GOLDEN).steps
    assert len(steps) <= MAX_STEPS
    names = [set(step.values) for step in steps]
    order = ["net_h", "out_h", "net_o", "out_o", "E", "delta_o", "grad_w2", "delta_h",
             "grad_w1", "w2_new", "loss_after"]
    positions = [next(i for i, n in enumerate(names) if key in n) for key in order]
    assert positions == sorted(positions)
    assert all(step.label and step.label_zh and step.formula for step in steps)


def _torch_nn_oracle(p):
    """The same step with nn.Linear layers, an nn loss and .backward() (plain SGD by hand:
    torch.optim would import torch._dynamo, seconds of test time for a one-line update)."""
    act = {"sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU(),
           "identity": torch.nn.Identity()}[p["activation"]]
    w1, w2 = torch.tensor(p["w1"], dtype=torch.float64), torch.tensor(p["w2"], dtype=torch.float64)
    hidden = torch.nn.Linear(w1.shape[1], w1.shape[0], dtype=torch.float64)
    out = torch.nn.Linear(w2.shape[1], w2.shape[0], dtype=torch.float64)
    with torch.no_grad():
        for layer, w, b in ((hidden, w1, p["b1"]), (out, w2, p["b2"])):
            layer.weight.copy_(w)
            layer.bias.copy_(torch.as_tensor(b, dtype=torch.float64).expand(w.shape[0]))
    net = torch.nn.Sequential(hidden, act, out, act)
    reduction = "sum" if p["loss"] == "half_sse" else "mean"
    scale = 0.5 if p["loss"] == "half_sse" else 1.0
    criterion = torch.nn.MSELoss(reduction=reduction)
    x, t = torch.tensor(p["x"], dtype=torch.float64), torch.tensor(p["target"], dtype=torch.float64)
    bias_lr = p["lr"] if p["update_bias"] else 0.0
    y = net(x)
    loss = scale * criterion(y, t)
    loss.backward()
    grads = [v.grad.tolist() for v in (hidden.weight, hidden.bias, out.weight, out.bias)]
    with torch.no_grad():
        for param, lr in ((hidden.weight, p["lr"]), (out.weight, p["lr"]),
                          (hidden.bias, bias_lr), (out.bias, bias_lr)):
            param -= lr * param.grad
        after = scale * criterion(net(x), t)
    return {"output": y.tolist(), "loss": loss.item(), "grad_w1": grads[0], "grad_b1": grads[1],
            "grad_w2": grads[2], "grad_b2": grads[3], "w1_new": hidden.weight.tolist(),
            "b1_new": hidden.bias.tolist(), "w2_new": out.weight.tolist(),
            "b2_new": out.bias.tolist(), "loss_after": after.item()}


@pytest.mark.parametrize("seed", range(30))
def test_sampled_variants_match_nn_linear_and_sgd(seed):
    p = engine.sample_params(KIND, seed)
    s = engine.solve(KIND, p)
    assert s.verification.passed
    for key, want in _torch_nn_oracle(p).items():
        assert np.allclose(s.answer[key], want, rtol=1e-10, atol=1e-12), key


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "identity"])
@pytest.mark.parametrize("loss", ["half_sse", "mse"])
def test_gradients_match_central_differences(activation, loss):
    p = {**GOLDEN, "activation": activation, "loss": loss, "b1": [0.35, -0.2],
         "target": [0.01, 0.99]}
    a = engine.solve(KIND, p).answer

    def loss_at(**changes):
        return engine.solve(KIND, {**p, **changes}).answer["loss"]

    h = 1e-6
    for name in ("w1", "w2"):
        for i in range(2):
            for j in range(2):
                up = [row[:] for row in p[name]]
                down = [row[:] for row in p[name]]
                up[i][j] += h
                down[i][j] -= h
                numeric = (loss_at(**{name: up}) - loss_at(**{name: down})) / (2 * h)
                assert a[f"grad_{name}"][i][j] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_update_bias_and_per_unit_biases():
    a = engine.solve(KIND, {**GOLDEN, "update_bias": True}).answer
    assert a["b2_new"] == pytest.approx([0.60 - 0.5 * g for g in a["grad_b2"]], abs=1e-15)
    assert a["b1_new"] == pytest.approx([0.35 - 0.5 * g for g in a["grad_b1"]], abs=1e-15)
    # One shared number is the same network as one equal bias per unit.
    listed = engine.solve(KIND, {**GOLDEN, "b1": [0.35, 0.35], "b2": [0.6, 0.6]}).answer
    assert listed == engine.solve(KIND, GOLDEN).answer


def test_relu_derivative_at_zero_is_zero():
    # Hidden unit 1 has net_h = 0.5 - 0.5 + 0 = 0 exactly: f'(0) = 0 stops its gradient.
    p = {"x": [0.5, 0.5], "target": [0.9], "w1": [[1.0, -1.0], [0.5, 0.5]], "b1": 0.0,
         "w2": [[0.3, 0.7]], "b2": 0.1, "lr": 0.1, "activation": "relu"}
    s = engine.solve(KIND, p)
    assert s.verification.passed
    assert s.answer["grad_w1"][0] == [0.0, 0.0]
    assert s.answer["grad_w1"][1] != [0.0, 0.0]


def test_identity_network_has_no_derivative_or_net_mistakes():
    keys = {m.key for m in engine.solve(KIND, {**GOLDEN, "activation": "identity"}).misconceptions}
    assert "no_activation_derivative" not in keys and "net_instead_of_out" not in keys
    assert "sigmoid_plus_exponent" not in keys


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"lr": -1}, "lr"),
        ({"lr": 11}, "lr"),
        ({"w1": [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]]}, "w1"),
        ({"w2": [[0.4], [0.5]]}, "w2"),
        ({"target": [0.5]}, "target"),
        ({"b1": [0.1, 0.2, 0.3]}, "b1"),
        ({"b2": [[0.1, 0.2]]}, "b2"),
        ({"activation": "softplus"}, "activation"),
        ({"loss": "cross_entropy"}, "loss"),
        ({"x": [0.05, 1e6]}, "x"),
        ({"w1": [[0.1, 0.2], [0.3]]}, "w1"),
    ],
)
def test_invalid_params_name_the_parameter(changes, name):
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        engine.solve(KIND, {**GOLDEN, **changes})


def test_solve_batch_equals_solve():
    ps = [engine.sample_params(KIND, seed) for seed in range(200)]
    assert len({(len(p["x"]), len(p["w1"]), len(p["w2"]), p["activation"]) for p in ps}) > 10
    kind, cpu = engine.get_kind(KIND), torch.device("cpu")
    for p, got in zip(ps, engine.solve_batch(KIND, ps, "cpu"), strict=True):
        want = plain(kind.solve(p, cpu).answer)  # the torch solve alone, without the checks
        for key, value in want.items():
            assert np.allclose(got[key], value, rtol=1e-12, atol=1e-14), key


def test_samples_are_deterministic_and_as_described():
    assert engine.sample_params(KIND, 3) == engine.sample_params(KIND, 3)
    ps = [engine.sample_params(KIND, seed) for seed in range(100)]
    assert len({str(p) for p in ps}) == 100
    assert sum(p["activation"] == "sigmoid" for p in ps) > 40
    for p in ps:
        assert 2 <= len(p["x"]) <= 3 and 2 <= len(p["w1"]) <= 3 and 1 <= len(p["w2"]) <= 2
        assert p["lr"] in (0.1, 0.5, 1.0)
        assert all(0.01 <= v <= 0.99 for v in p["target"])
        weights = [v for row in p["w1"] + p["w2"] for v in row]
        assert all(-1 <= v <= 1 and round(v, 2) == v for v in weights)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-100, 100), min_size=8, max_size=8),
       st.sampled_from(["sigmoid", "tanh"]), st.sampled_from(["half_sse", "mse"]))
def test_a_small_step_lowers_the_loss_by_lr_times_squared_gradient(ints, activation, loss):
    w = [v / 100 for v in ints]
    lr = 1e-4
    p = {**GOLDEN, "w1": [w[0:2], w[2:4]], "w2": [w[4:6], w[6:8]], "lr": lr,
         "activation": activation, "loss": loss}
    a = engine.solve(KIND, p).answer
    squared = sum(g * g for key in ("grad_w1", "grad_w2") for row in a[key] for g in row)
    assert a["loss"] - a["loss_after"] == pytest.approx(lr * squared, rel=1e-2, abs=1e-12)
