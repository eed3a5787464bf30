"""perceptron against the seeds' worked examples (NAND, the judges' vote), the tie
convention, and the XOR limit: no single perceptron on a grid of weights computes XOR,
while three of them wired as a 2-2-1 network do."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.perceptron  # noqa: F401  (registers the kind)

KIND = "perceptron"
INPUTS = [(0, 0), (0, 1), (1, 0), (1, 1)]


def fire(x, w, b, output="step"):
    return engine.solve(KIND, {"x": list(x), "w": list(w), "b": b, "output": output}).answer


def test_nand_gate_from_the_seed():
    # Seed 002 §3.1.1: w = (-2, -2), b = 3; for input (0, 1): 0·(-2) + 1·(-2) + 3 = 1.
    answers = [fire(x, (-2, -2), 3) for x in INPUTS]
    assert [a["net"] for a in answers] == [3, 1, 1, -1]
    assert [a["output"] for a in answers] == [1, 1, 1, 0]


def test_judges_vote_from_the_seed():
    # Seed 002 §3.1.1: scores 4, 1, -3 weighted 1, 3, 2 sum to 1, below the threshold 3,
    # so the singer is out: b = -3 gives net = -2 and output 0.
    s = engine.solve(KIND, {"x": [4, 1, -3], "w": [1, 3, 2], "b": -3})
    assert s.answer == {"net": -2.0, "output": 0}
    assert s.verification.passed
    assert s.steps[1].values["weighted_sum"] == 1.0
    wrong = {m.key: m.answer for m in s.misconceptions}
    assert wrong["threshold_added"] == {"net": 4.0, "output": 1}  # took b = +3
    assert wrong["forgot_bias"] == {"net": 1.0, "output": 1}


def test_tie_fires_and_strict_rule_is_a_named_mistake():
    for output, low in (("step", 0), ("sign", -1)):
        s = engine.solve(KIND, {"x": [1, 1], "w": [1, 1], "b": -2, "output": output})
        assert s.answer == {"net": 0.0, "output": 1}
        assert {m.key: m.answer for m in s.misconceptions}["strict_inequality"] == {"output": low}


def test_decimal_cancellation_is_a_tie():
    # 0.3 - 0.1 - 0.2 is -2.8e-17 in floating point; by hand it is 0, which fires.
    assert fire((1, 1), (0.3, -0.1), -0.2) == {"net": 0.0, "output": 1}
    assert fire((1, 1), (0.3, -0.1), -0.2, "sign") == {"net": 0.0, "output": 1}


def test_sign_output_and_the_other_convention():
    s = engine.solve(KIND, {"x": [1, 1], "w": [-2, -2], "b": 3, "output": "sign"})
    assert s.answer == {"net": -1.0, "output": -1}
    assert {m.key: m.answer for m in s.misconceptions}["other_convention"] == {"output": 0}


def test_misconceptions_only_list_answers_that_differ():
    # (0, 0) into NAND: forgetting b = 3 changes net (3 -> 0) but not the output (still 1).
    s = engine.solve(KIND, {"x": [0, 0], "w": [-2, -2], "b": 3})
    wrong = {m.key: m.answer for m in s.misconceptions}
    assert wrong["forgot_bias"] == {"net": 0.0}
    assert "other_convention" not in wrong  # output 1 is the same under both conventions


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"x": [1, 2], "w": [1]}, "w"),
        ({"x": [1, 2], "w": [1, 2], "output": "tanh"}, "output"),
        ({"x": [1, 2], "w": [1, 2], "b": 1e9}, "b"),
        ({"x": [], "w": []}, "x"),
        ({"x": [1, float("nan")], "w": [1, 2]}, "x"),
    ],
)
def test_invalid_params_name_the_parameter(params, name):
    with pytest.raises(ValueError, match=f"parameter '{name}'"):
        engine.solve(KIND, params)


def _grid_solutions(targets):
    """(w1, w2, b) on a 0.5-step grid in [-3, 3] whose outputs on INPUTS equal ``targets``."""
    values = [v / 2 for v in range(-6, 7)]
    grid = list(itertools.product(values, repeat=3))
    ps = [{"x": list(x), "w": [w1, w2], "b": b} for w1, w2, b in grid for x in INPUTS]
    outs = [a["output"] for a in engine.solve_batch(KIND, ps)]
    return [grid[i] for i in range(len(grid)) if outs[4 * i:4 * i + 4] == targets]


def test_no_single_perceptron_on_a_grid_computes_xor():
    assert _grid_solutions([0, 1, 1, 0]) == []
    assert _grid_solutions([1, 0, 0, 1]) == []  # nor XNOR
    # The grid is fine enough for the linearly separable gates.
    for gate in ([0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0]):  # AND, OR, NAND
        assert _grid_solutions(gate)


def test_two_layer_network_of_perceptrons_computes_xor():
    def xor(x):
        h1 = fire(x, (1, 1), -0.5)["output"]  # OR
        h2 = fire(x, (-1, -1), 1.5)["output"]  # NAND
        return fire((h1, h2), (1, 1), -1.5)["output"]  # AND

    assert [xor(x) for x in INPUTS] == [0, 1, 1, 0]


def test_solve_batch_equals_solve():
    ps = [engine.sample_params(KIND, seed) for seed in range(200)]
    assert len({len(p["x"]) for p in ps}) > 1  # several shapes in one batch
    batch = engine.solve_batch(KIND, ps)
    for p, got in zip(ps, batch, strict=True):
        want = engine.solve(KIND, p).answer
        assert got["output"] == want["output"]
        assert got["net"] == pytest.approx(want["net"], rel=1e-12, abs=1e-12)


def test_samples_are_deterministic_and_checked():
    assert engine.sample_params(KIND, 5) == engine.sample_params(KIND, 5)
    assert len({str(engine.sample_params(KIND, s)) for s in range(30)}) > 25
    for seed in range(50):
        s = engine.sample(KIND, seed)
        assert s.verification.passed
        assert all(len(step.label) and len(step.label_zh) for step in s.steps)


small = st.integers(-5, 5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(small, small), min_size=1, max_size=4), small,
       st.sampled_from([0.5, 1, 3]))
def test_positive_scaling_keeps_the_output_and_sign_is_two_step_minus_one(xw, b, scale):
    x, w = [v for v, _ in xw], [v for _, v in xw]
    step = fire(x, w, b)["output"]
    assert fire(x, [scale * v for v in w], scale * b)["output"] == step
    assert fire(x, w, b, "sign")["output"] == 2 * step - 1
