"""center_loss against hand computations (the worked example of catalog LOSS-06), closed forms
of the centre update, and central finite differences for the gradient."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.center_loss  # noqa: F401  (registers the kind)

KIND = "center_loss"
# Two 2-D features of class 0, one of class 1 (the bank's LOSS-06 example).
EXAMPLE = {"x": [[1, 2], [3, 2], [0, -1]], "labels": [0, 0, 1], "centers": [[2, 1], [0, 0]],
           "alpha": 0.5}


def solve(**params):
    return engine.solve(KIND, params)


def mistakes(**params):
    return {m.key: m.answer for m in solve(**params).misconceptions}


def test_hand_computed_example():
    # Squared distances 2, 2, 1: L_C = ½·5. Δc_0 = [(1, −1) + (−1, −1)]/(1 + 2) = (0, −2/3),
    # Δc_1 = (0, 1)/(1 + 1); c ← c − 0.5 Δc.
    s = solve(**EXAMPLE)
    assert s.verification.passed
    assert s.answer["loss"] == pytest.approx(2.5, rel=1e-15)
    assert s.answer["grad_x"] == [[-1.0, 1.0], [1.0, 1.0], [0.0, -1.0]]
    np.testing.assert_allclose(s.answer["delta_c"], [[0, -2 / 3], [0, 0.5]], rtol=1e-15)
    np.testing.assert_allclose(s.answer["centers_new"], [[2, 4 / 3], [0, -0.25]], rtol=1e-15)


def test_the_examples_wrong_answers():
    wrong = mistakes(**EXAMPLE)
    assert wrong["forgot_half"]["loss"] == pytest.approx(5.0)
    assert wrong["averaged_over_batch"]["loss"] == pytest.approx(2.5 / 3)
    assert wrong["distances_not_squared"]["loss"] == pytest.approx(0.5 * (2 * 2**0.5 + 1))
    np.testing.assert_allclose(wrong["delta_without_plus_one"]["centers_new"][0], [2, 1.5])
    np.testing.assert_allclose(wrong["flipped_update_sign"]["centers_new"][0], [2, 2 / 3])
    np.testing.assert_allclose(wrong["plain_gradient_on_centres"]["centers_new"][0], [2, 2])


def test_mean_reduction_divides_loss_and_gradient_but_not_the_update():
    s_sum, s_mean = solve(**EXAMPLE), solve(**EXAMPLE, reduction="mean")
    assert s_mean.answer["loss"] == pytest.approx(2.5 / 3, rel=1e-15)
    np.testing.assert_allclose(s_mean.answer["grad_x"], np.array(s_sum.answer["grad_x"]) / 3,
                               rtol=1e-15)
    assert s_mean.answer["centers_new"] == s_sum.answer["centers_new"]
    assert mistakes(**EXAMPLE, reduction="mean")["summed_over_batch"]["loss"] == \
        pytest.approx(2.5)


def test_absent_class_keeps_its_centre():
    # Class 2 has no example in the batch: n_2 = 0, so Δc_2 = 0/(1 + 0) = 0.
    p = {**EXAMPLE, "centers": [[2, 1], [0, 0], [5, -5]]}
    s = solve(**p)
    assert s.answer["delta_c"][2] == [0.0, 0.0]
    assert s.answer["centers_new"][2] == [5.0, -5.0]
    # Ignoring δ(y_i = j) drags it toward the whole batch: Σ_i (c_2 − x_i)/(1 + 3).
    moved = mistakes(**p)["ignored_class_indicator"]
    expected = np.sum(np.array([5.0, -5.0]) - np.array(EXAMPLE["x"]), axis=0) / 4
    np.testing.assert_allclose(moved["delta_c"][2], expected, rtol=1e-15)
    assert moved["centers_new"][2] != [5.0, -5.0]


def test_alpha_one_puts_the_centre_at_the_mean_of_itself_and_its_features():
    # c − (Σ(c − x_i))/(1 + n) = (c + Σ x_i)/(1 + n).
    p = {"x": [[1.0, 4.0, 0.0], [2.0, -1.0, 3.0], [6.0, 0.5, 1.0], [-2.0, 2.0, 2.0]],
         "labels": [1, 1, 0, 1], "centers": [[0.0, 0.0, 0.0], [3.0, 3.0, 3.0]], "alpha": 1.0}
    got = np.array(solve(**p).answer["centers_new"])
    x = np.array(p["x"])
    np.testing.assert_allclose(got[1], (np.array([3.0, 3.0, 3.0]) + x[[0, 1, 3]].sum(0)) / 4,
                               rtol=1e-14)
    np.testing.assert_allclose(got[0], (x[2] + 0.0) / 2, rtol=1e-14)


def test_alpha_zero_leaves_the_centres():
    assert solve(**EXAMPLE | {"alpha": 0.0}).answer["centers_new"] == [[2.0, 1.0], [0.0, 0.0]]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), reduction=st.sampled_from(["sum", "mean"]))
def test_gradient_matches_central_differences(seed, reduction):
    rng = np.random.default_rng(seed)
    m, d, k = rng.integers(1, 6), rng.integers(1, 4), rng.integers(1, 4)
    x = rng.normal(size=(m, d)).round(2)
    p = {"x": x.tolist(), "labels": rng.integers(0, k, size=m).tolist(),
         "centers": rng.normal(size=(k, d)).round(2).tolist(), "reduction": reduction}
    grad = np.array(solve(**p).answer["grad_x"])
    h = 1e-6
    for i in range(m):
        for j in range(d):
            up, down = x.copy(), x.copy()
            up[i, j] += h
            down[i, j] -= h
            numeric = (solve(**p | {"x": up.tolist()}).answer["loss"]
                       - solve(**p | {"x": down.tolist()}).answer["loss"]) / (2 * h)
            assert grad[i, j] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({**EXAMPLE, "labels": [0, 1]}, "labels"),
        ({**EXAMPLE, "labels": [0, 0, 2]}, "labels"),
        ({**EXAMPLE, "labels": [0, 0, -1]}, "labels"),
        ({**EXAMPLE, "labels": [0, 0.5, 1]}, "labels"),
        ({**EXAMPLE, "centers": [[2, 1, 0], [0, 0, 0]]}, "centers"),
        ({**EXAMPLE, "alpha": 1.5}, "alpha"),
        ({**EXAMPLE, "reduction": "max"}, "reduction"),
        ({**EXAMPLE, "x": [[0.0] * 65] * 3, "centers": [[0.0] * 65] * 2}, "x"),
        ({**EXAMPLE, "x": [1, 2, 0]}, "x"),
    ],
)
def test_bad_params_name_the_parameter(params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve(KIND, params)


def test_misconceptions_differ_from_the_answer():
    for seed in range(20):
        s = engine.sample(KIND, seed)
        for m in s.misconceptions:
            assert any(not np.allclose(v, s.answer[k]) for k, v in m.answer.items()), m.key


def test_steps_are_bilingual_and_end_with_the_new_centres():
    s = solve(**EXAMPLE)
    assert all(step.label and step.label_zh and step.formula for step in s.steps)
    assert s.steps[-1].values["centers_new"] == s.answer["centers_new"]
    assert s.steps[3].values["n"] == [2.0, 1.0]
