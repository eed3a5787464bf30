"""rnn_cell against torch's own modules (nn.RNNCell, nn.LSTMCell, nn.GRUCell with the
weights loaded), hand-worked steps, and the GRU / LSTM conventions the kind states."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.rnn  # noqa: F401  (registers the kind)

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def module_step(p):
    """h', c' from a real torch module with the variant's weights (float64)."""
    size_in, hidden = len(p["x"]), len(p["h"])
    if p["cell"] == "lstm":
        cell = torch.nn.LSTMCell(size_in, hidden, dtype=torch.float64)
    elif p["cell"] == "gru":
        cell = torch.nn.GRUCell(size_in, hidden, dtype=torch.float64)
    else:
        cell = torch.nn.RNNCell(size_in, hidden, nonlinearity=p["nonlinearity"],
                                dtype=torch.float64)
    with torch.no_grad():
        for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
            target = getattr(cell, name.replace("w_", "weight_").replace("b_", "bias_"))
            target.copy_(torch.tensor(p["weights"][name], dtype=torch.float64))
        x = torch.tensor([p["x"]], dtype=torch.float64)
        h = torch.tensor([p["h"]], dtype=torch.float64)
        if p["cell"] == "lstm":
            h_new, c_new = cell(x, (h, torch.tensor([p["c"]], dtype=torch.float64)))
            return h_new[0].tolist(), c_new[0].tolist()
        h_new = cell(x, h)[0].tolist()
        return h_new, h_new


def scalar_params(cell, *, x, h, w_ih, w_hh, b_ih, b_hh, c=None):
    """One input, one hidden unit: every gate block is a single number."""
    p = {"cell": cell, "x": [x], "h": [h],
         "weights": {"w_ih": [[v] for v in w_ih], "w_hh": [[v] for v in w_hh],
                     "b_ih": b_ih, "b_hh": b_hh}}
    if c is not None:
        p["c"] = [c]
    return p


def zeros(n):
    return [0.0] * n


# -- torch modules as the oracle -----------------------------------------------------------------

@pytest.mark.parametrize("seed", range(60))
def test_matches_torch_modules_on_sampled_variants(seed):
    p = engine.sample_params("rnn_cell", seed)
    solution = engine.solve("rnn_cell", p)
    h_ref, c_ref = module_step(p)
    assert solution.answer["h_new"] == pytest.approx(h_ref, rel=1e-12, abs=1e-14)
    assert solution.answer["c_new"] == pytest.approx(c_ref, rel=1e-12, abs=1e-14)
    assert solution.verification.passed


@settings(max_examples=40, deadline=None)
@given(cell=st.sampled_from(["rnn", "lstm", "gru"]), seed=st.integers(0, 2**31),
       size_in=st.integers(1, 4), hidden=st.integers(1, 3))
def test_matches_torch_modules_for_any_sizes(cell, seed, size_in, hidden):
    g = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return (torch.rand(*shape, generator=g, dtype=torch.float64) * 4 - 2).tolist()

    rows = GATES[cell] * hidden
    p = {"cell": cell, "x": rand(size_in), "h": rand(hidden),
         "weights": {"w_ih": rand(rows, size_in), "w_hh": rand(rows, hidden),
                     "b_ih": rand(rows), "b_hh": rand(rows)}}
    if cell == "lstm":
        p["c"] = rand(hidden)
    solution = engine.solve("rnn_cell", p)
    h_ref, c_ref = module_step(solution.params)
    assert solution.answer["h_new"] == pytest.approx(h_ref, rel=1e-12, abs=1e-14)
    assert solution.answer["c_new"] == pytest.approx(c_ref, rel=1e-12, abs=1e-14)


# -- hand-worked steps ---------------------------------------------------------------------------

def test_lstm_with_zero_weights_halves_the_cell_state():
    # Every gate pre-activation is 0: i = f = o = σ(0) = 1/2, g = tanh(0) = 0,
    # so c' = c/2 = 1 and h' = tanh(1)/2.
    p = scalar_params("lstm", x=3.0, h=-1.0, c=2.0, w_ih=zeros(4), w_hh=zeros(4),
                      b_ih=zeros(4), b_hh=zeros(4))
    a = engine.solve("rnn_cell", p).answer
    assert a["gates"] == {"i": [0.5], "f": [0.5], "g": [0.0], "o": [0.5]}
    assert a["c_new"] == pytest.approx([1.0], abs=1e-15)
    assert a["h_new"] == pytest.approx([math.tanh(1.0) / 2], abs=1e-15)


def test_lstm_gate_order_is_i_f_g_o():
    # Only the third block (g) has a bias: i = f = o = 1/2, g = tanh(1); c = 0.
    p = scalar_params("lstm", x=0.0, h=0.0, w_ih=zeros(4), w_hh=zeros(4),
                      b_ih=[0.0, 0.0, 1.0, 0.0], b_hh=zeros(4))
    a = engine.solve("rnn_cell", p).answer
    assert a["gates"]["g"] == pytest.approx([math.tanh(1.0)])
    assert a["c_new"] == pytest.approx([0.5 * math.tanh(1.0)])


def test_gru_update_gate_near_one_keeps_the_old_state():
    # PyTorch's h' = (1 − z) ⊙ n + z ⊙ h: a huge z bias gives z ≈ 1, so h' ≈ h = 0.8,
    # whereas the swapped convention would give h' ≈ n = tanh(0) = 0.
    p = scalar_params("gru", x=0.0, h=0.8, w_ih=zeros(3), w_hh=zeros(3),
                      b_ih=[0.0, 40.0, 0.0], b_hh=zeros(3))
    solution = engine.solve("rnn_cell", p)
    assert solution.answer["h_new"] == pytest.approx([0.8], abs=1e-12)
    wrong = {m.key: m.answer for m in solution.misconceptions}
    assert wrong["gru_z_swapped"]["h_new"] == pytest.approx([0.0], abs=1e-12)


def test_gru_reset_gate_multiplies_after_the_hidden_matmul_and_bias():
    # r = σ(0) = 1/2 and z = σ(0) = 1/2. With b_hn = 1, W_hn = 0:
    #   PyTorch: n = tanh(r·(W_hn h + b_hn)) = tanh(1/2)
    #   original paper: n = tanh(W_hn (r ⊙ h) + b_hn) = tanh(1)
    p = scalar_params("gru", x=0.0, h=0.6, w_ih=zeros(3), w_hh=zeros(3),
                      b_ih=zeros(3), b_hh=[0.0, 0.0, 1.0])
    solution = engine.solve("rnn_cell", p)
    assert solution.answer["gates"]["n"] == pytest.approx([math.tanh(0.5)])
    assert solution.answer["h_new"] == pytest.approx([0.5 * math.tanh(0.5) + 0.5 * 0.6])
    wrong = {m.key: m.answer for m in solution.misconceptions}
    assert wrong["gru_reset_before_matmul"]["h_new"] == pytest.approx(
        [0.5 * math.tanh(1.0) + 0.5 * 0.6])


def test_relu_rnn_and_missing_biases_mean_no_bias():
    p = {"cell": "rnn", "nonlinearity": "relu", "x": [1.0, -2.0], "h": [0.5, 0.5],
         "weights": {"w_ih": [[1.0, 1.0], [1.0, 0.0]], "w_hh": [[0.0, 0.0], [2.0, 0.0]]}}
    solution = engine.solve("rnn_cell", p)
    # a = W_ih x + W_hh h = [-1, 1 + 1] -> relu -> [0, 2]
    assert solution.answer["h_new"] == [0.0, 2.0]
    assert solution.answer["gates"] == {"a": [-1.0, 2.0]}
    assert solution.params["weights"]["b_ih"] == [0.0, 0.0]
    assert solution.answer["c_new"] == solution.answer["h_new"]


def test_returned_gates_rebuild_the_new_state():
    for seed in range(30):
        p = engine.sample_params("rnn_cell", seed)
        a = engine.solve("rnn_cell", p).answer
        g = a["gates"]
        if p["cell"] == "lstm":
            c_new = [f * c + i * gg for f, c, i, gg in zip(g["f"], p["c"], g["i"], g["g"],
                                                           strict=True)]
            assert a["c_new"] == pytest.approx(c_new, rel=1e-12, abs=1e-15)
            assert a["h_new"] == pytest.approx(
                [o * math.tanh(c) for o, c in zip(g["o"], c_new, strict=True)], abs=1e-15)
        elif p["cell"] == "gru":
            assert a["h_new"] == pytest.approx(
                [(1 - z) * n + z * h for z, n, h in zip(g["z"], g["n"], p["h"], strict=True)],
                abs=1e-15)


# -- misconceptions ------------------------------------------------------------------------------

def test_lstm_without_forget_gate_drops_the_old_cell_state():
    p = scalar_params("lstm", x=0.0, h=0.0, c=2.0, w_ih=zeros(4), w_hh=zeros(4),
                      b_ih=[0.0, 0.0, 1.0, 0.0], b_hh=zeros(4))
    wrong = {m.key: m.answer for m in engine.solve("rnn_cell", p).misconceptions}
    assert wrong["lstm_no_forget_gate"]["c_new"] == pytest.approx([0.5 * math.tanh(1.0)])
    # tanh gates: i = f = o = tanh(0) = 0, so c' = 0 and h' = 0.
    assert wrong["tanh_gates"]["c_new"] == pytest.approx([0.0])


def test_misconception_keys_per_cell():
    keys = {}
    for seed in range(40):
        s = engine.sample("rnn_cell", seed)
        keys.setdefault(s.params["cell"], set()).update(m.key for m in s.misconceptions)
    assert {"gru_z_swapped", "gru_reset_before_matmul", "tanh_gates"} <= keys["gru"]
    assert {"lstm_no_forget_gate", "tanh_gates"} <= keys["lstm"]
    assert "ignored_h" in keys["rnn"]


# -- validation ----------------------------------------------------------------------------------

def lstm_params(**changes):
    p = {"cell": "lstm", "x": [1.0, 2.0, 3.0], "h": [0.5, -0.5],
         "weights": {"w_ih": [[0.1] * 3] * 8, "w_hh": [[0.1] * 2] * 8}}
    p.update(changes)
    return p


def test_wrong_weight_shape_message_names_the_entry_and_the_sizes():
    bad = lstm_params(weights={"w_ih": [[0.1] * 3] * 4, "w_hh": [[0.1] * 2] * 8})
    with pytest.raises(ValueError) as err:
        engine.solve("rnn_cell", bad)
    assert str(err.value) == ("parameter 'weights': w_ih must be 8×3 for an LSTM with input 3 "
                              "and hidden 2, got 4×3")


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"weights": {"w_ih": [[0.1] * 3] * 8, "w_hh": [[0.1] * 3] * 8}},
         "parameter 'weights': w_hh must be 8×2"),
        ({"weights": {"w_ih": [[0.1] * 3] * 8, "w_hh": [[0.1] * 2] * 8, "b_hh": [0.0] * 6}},
         "parameter 'weights': b_hh must have 8 entries"),
        ({"weights": {"w_ih": [[0.1] * 3] * 8}}, "parameter 'weights': w_hh is required"),
        ({"weights": {"w_ih": [[0.1] * 3] * 8, "w_hh": [[0.1, "a"]] * 8}},
         "parameter 'weights': w_hh: expected numbers"),
        ({"weights": {"w_ih": [[0.1] * 3] * 8, "w_hh": [[0.1] * 2] * 8, "bias": [0.0]}},
         "parameter 'weights': unknown entry 'bias'"),
        ({"weights": [[0.1]]}, "parameter 'weights': expected an object"),
        ({"c": [0.0]}, "parameter 'c'"),
        ({"nonlinearity": "relu"}, "parameter 'nonlinearity'"),
        ({"cell": "transformer"}, "parameter 'cell'"),
        ({"x": [float("nan")] * 3}, "parameter 'x'"),
    ],
)
def test_bad_params_name_the_parameter(changes, pattern):
    with pytest.raises(ValueError, match=pattern):
        engine.solve("rnn_cell", lstm_params(**changes))


def test_cell_state_is_refused_for_a_gru():
    p = {"cell": "gru", "x": [1.0], "h": [0.0], "c": [1.0],
         "weights": {"w_ih": [[0.1]] * 3, "w_hh": [[0.1]] * 3}}
    with pytest.raises(ValueError, match="parameter 'c': only an LSTM"):
        engine.solve("rnn_cell", p)


# -- variants and batches ------------------------------------------------------------------------

def test_sampling_is_deterministic_and_small():
    for seed in range(20):
        p = engine.sample_params("rnn_cell", seed)
        assert p == engine.sample_params("rnn_cell", seed)
        assert 2 <= len(p["x"]) <= 3 and len(p["h"]) == 2
        assert all(round(v, 1) == v and -1 <= v <= 1 for v in p["weights"]["b_ih"])


def test_solve_batch_equals_solve():
    ps = [engine.sample_params("rnn_cell", s) for s in range(200)]
    for p, batched in zip(ps, engine.solve_batch("rnn_cell", ps), strict=True):
        single = engine.solve("rnn_cell", p).answer
        assert batched["h_new"] == pytest.approx(single["h_new"], rel=1e-12, abs=1e-15)
        assert batched["c_new"] == pytest.approx(single["c_new"], rel=1e-12, abs=1e-15)
        for name, values in single["gates"].items():
            assert batched["gates"][name] == pytest.approx(values, rel=1e-12, abs=1e-15)
