"""kkt_qp against independent oracles: Nocedal & Wright's Example 16.4, the bank's
one-variable example (MATH-05), hand-solved problems with an equality, numpy checks of all
four KKT conditions, and brute force: no feasible point of a dense grid does better."""

import itertools

import numpy as np
import pytest

import engine
import engine.kinds.kkt_qp  # noqa: F401  (registers the kind)

KIND = "kkt_qp"

# Nocedal & Wright, Numerical Optimization (2nd ed.), Example 16.4:
# min (x1 − 1)² + (x2 − 2.5)² s.t. x1 − 2x2 + 2 ≥ 0, −x1 − 2x2 + 6 ≥ 0, −x1 + 2x2 + 2 ≥ 0,
# x1 ≥ 0, x2 ≥ 0 — written here as ½xᵀQx + cᵀx (the constant 7.25 dropped) with Gx ≤ h.
NW = {"Q": [[2, 0], [0, 2]], "c": [-2, -5],
      "G": [[-1, 2], [1, 2], [1, -2], [-1, 0], [0, -1]], "h": [2, 6, 2, 0, 0]}


def solve(params):
    return engine.solve(KIND, params)


def test_nocedal_wright_example_16_4():
    s = solve(NW)
    assert s.verification.passed
    assert s.answer["x"] == pytest.approx([1.4, 1.7], abs=1e-14)
    assert s.answer["lambda"] == pytest.approx([0.8, 0, 0, 0, 0], abs=1e-14)
    assert s.answer["active"] == [1, 0, 0, 0, 0]
    assert s.answer["objective"] + 7.25 == pytest.approx(0.8, abs=1e-14)  # (0.4)² + (0.8)²
    assert s.answer["nu"] == []


def test_bank_example_x_squared_with_x_at_least_one():
    # MATH-05: min x² s.t. 1 − x ≤ 0 → x* = 1, α* = 2 (active); with x ≥ −1 inactive, α* = 0.
    a = solve({"Q": [[2]], "c": [0], "G": [[-1]], "h": [-1]}).answer
    assert a["x"] == pytest.approx([1.0]) and a["lambda"] == pytest.approx([2.0])
    assert a["active"] == [1] and a["objective"] == pytest.approx(1.0)
    b = solve({"Q": [[2]], "c": [0], "G": [[-1]], "h": [1]}).answer
    assert b["x"] == pytest.approx([0.0]) and b["lambda"] == [0.0] and b["active"] == [0]


def test_equality_and_inequality_by_hand():
    # min ‖x‖² s.t. x1 + x2 + x3 = 3, x1 ≤ 0.5: x = (0.5, 1.25, 1.25), ν = −2.5, λ = 1.5.
    a = solve({"Q": [[2, 0, 0], [0, 2, 0], [0, 0, 2]], "c": [0, 0, 0], "G": [[1, 0, 0]],
               "h": [0.5], "A": [[1, 1, 1]], "b": [3]}).answer
    assert a["x"] == pytest.approx([0.5, 1.25, 1.25], abs=1e-14)
    assert a["nu"] == pytest.approx([-2.5], abs=1e-14)
    assert a["lambda"] == pytest.approx([1.5], abs=1e-14)
    assert a["objective"] == pytest.approx(0.25 + 2 * 1.5625, abs=1e-14)


def _kkt_residuals(p, a):
    Q, c, G, h = (np.asarray(p[k], dtype=float) for k in ("Q", "c", "G", "h"))
    x, lam = np.asarray(a["x"]), np.asarray(a["lambda"])
    grad = Q @ x + c + G.T @ lam
    if p.get("A") is not None:
        grad += np.asarray(p["A"], dtype=float).T @ np.asarray(a["nu"])
        assert np.allclose(np.asarray(p["A"]) @ x, p["b"], atol=1e-10)
    return grad, h - G @ x, lam


def test_sampled_variants_satisfy_all_four_conditions_clearly():
    for seed in range(150):
        p = engine.sample_params(KIND, seed)
        a = solve(p).answer
        grad, slack, lam = _kkt_residuals(p, a)
        assert np.abs(grad).max() < 1e-10  # stationarity
        assert slack.min() > -1e-10  # primal feasibility
        assert lam.min() >= 0  # dual feasibility
        assert np.abs(lam * slack).max() < 1e-10  # complementary slackness
        for flag, li, si in zip(a["active"], lam, slack, strict=True):
            assert (li >= 0.1) if flag else (si >= 0.1), (seed, p)  # clearly (in)active


def test_no_grid_point_does_better_in_two_dimensions():
    grid = np.linspace(-4, 4, 161)
    for seed in range(40):
        p = engine.sample_params(KIND, seed)
        if len(p["c"]) != 2 or p.get("A") is not None:
            continue
        a = solve(p).answer
        Q, c, G, h = (np.asarray(p[k], dtype=float) for k in ("Q", "c", "G", "h"))
        X = np.array(list(itertools.product(grid, grid)))  # (N, 2)
        feasible = X[(X @ G.T <= h + 1e-12).all(axis=1)]
        f = 0.5 * np.einsum("ni,ij,nj->n", feasible, Q, feasible) + feasible @ c
        assert f.min() >= a["objective"] - 1e-9, seed


def test_misconceptions():
    p = {"Q": [[2, 0], [0, 2]], "c": [-4, -4], "G": [[1, 0], [0, 1]], "h": [1, 5]}
    s = solve(p)  # optimum (1, 2): constraint 0 active with λ = 2, constraint 1 inactive
    assert s.answer["x"] == pytest.approx([1, 2]) and s.answer["lambda"] == pytest.approx([2, 0])
    m = {x.key: x.answer for x in s.misconceptions}
    assert m["ignored_inequalities"]["x"] == pytest.approx([2, 2])
    assert m["all_active"]["x"] == pytest.approx([1, 5])
    assert m["all_active"]["lambda"] == pytest.approx([2, -6])  # negative: not a KKT point
    assert m["lambda_sign"]["lambda"] == pytest.approx([-2, 0])


@pytest.mark.parametrize(
    ("change", "bad", "words"),
    [
        ({"Q": [[1, 2], [2, 1]]}, "Q", "positive definite"),
        ({"Q": [[2, 1], [0, 2]]}, "Q", "symmetric"),
        ({"Q": [[2, 0, 0], [0, 2, 0], [0, 0, 2]]}, "Q", "2 × 2"),
        ({"G": [[1, 0, 0], [0, 1, 0]]}, "G", "2 columns"),
        ({"G": [[1, 0], [0, 0]]}, "G", "all zeros"),
        ({"h": [1]}, "h", "one entry per row"),
        ({"G": [[1, 0], [-1, 0]], "h": [-1, -1]}, "h", "infeasible"),  # x1 ≤ −1 and x1 ≥ 1
        ({"G": [[1, 0], [2, 0]], "h": [1, 2]}, "G", "linearly dependent"),
        ({"A": [[1, 1]]}, "b", "both A and b"),
        ({"A": [[1, 1], [2, 2]], "b": [1, 2]}, "A", "linearly independent"),
        ({"G": [[1, 0]] * 7, "h": [1] * 6}, "G", "at most 6"),
        ({"G": [[1, 0]] * 7, "h": [1] * 7}, "h", "too many"),
    ],
)
def test_validation_names_the_parameter(change, bad, words):
    p = {"Q": [[2, 0], [0, 2]], "c": [-4, -4], "G": [[1, 0], [0, 1]], "h": [1, 5], **change}
    with pytest.raises(ValueError, match=f"parameter '{bad}'") as info:
        solve(p)
    assert words in str(info.value)


def test_trace_records_the_active_set_search():
    steps = solve(NW).steps
    search = next(s for s in steps if "active sets" in s.label)
    assert search.values["S"] == [0]
    assert search.values["tried"][-1]["primal_feasible"] and search.values["tried"][-1]["dual_feasible"]
    assert not search.values["tried"][0]["primal_feasible"]  # the unconstrained point (1, 2.5)
