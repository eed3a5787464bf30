"""attention against a hand-worked example, explicit Python loops, torch's own
nn.MultiheadAttention (one head, identity projections), and the mask conventions."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.attention  # noqa: F401  (registers the kind)


def loops(p):
    """Scores, weights and output with plain Python loops and math.exp (no numpy, no torch)."""
    q, k, v, s = p["q"], p["k"], p["v"], p["scale"]
    n, m = len(q), len(k)
    mask = p["mask"]
    keep = [[1] * m for _ in range(n)] if mask is None else (
        [list(mask) for _ in range(n)] if not isinstance(mask[0], list) else mask)
    scores = [[s * math.fsum(a * b for a, b in zip(q[i], k[j], strict=True)) for j in range(m)]
              for i in range(n)]
    weights = []
    for i in range(n):
        top = max(scores[i][j] for j in range(m) if keep[i][j])
        exps = [math.exp(scores[i][j] - top) if keep[i][j] else 0.0 for j in range(m)]
        total = math.fsum(exps)
        weights.append([e / total for e in exps])
    output = [[math.fsum(weights[i][j] * v[j][c] for j in range(m)) for c in range(len(v[0]))]
              for i in range(n)]
    return scores, weights, output


def close(a, b, tol=1e-12):
    return np.allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def test_hand_worked_example():
    # d = 4, so s = 1/2. Q·K = [4, 0] -> S = [2, 0] -> A = [e²/(e²+1), 1/(e²+1)].
    p = {"q": [[1, 1, 1, 1]], "k": [[1, 1, 1, 1], [0, 0, 0, 0]], "v": [[1, 0], [0, 1]]}
    solution = engine.solve("attention", p)
    a = solution.answer
    e2 = math.exp(2)
    assert solution.params["scale"] == 0.5
    assert a["scores"] == [[2.0, 0.0]]
    assert close(a["weights"], [[e2 / (e2 + 1), 1 / (e2 + 1)]])
    assert close(a["output"], [[0.8807970779778823, 0.11920292202211755]])


@pytest.mark.parametrize("seed", range(40))
def test_matches_python_loops_on_sampled_variants(seed):
    p = engine.sample_params("attention", seed)
    a = engine.solve("attention", p).answer
    scores, weights, output = loops(p)
    assert close(a["scores"], scores) and close(a["weights"], weights)
    assert close(a["output"], output)


@pytest.mark.parametrize("mask_kind", ["none", "padding", "causal"])
def test_matches_torch_multihead_attention_with_identity_projections(mask_kind):
    g = torch.Generator().manual_seed(3)
    n = m = d = 4
    q, k, v = (torch.randn(n, d, generator=g, dtype=torch.float64) for _ in range(3))
    params = {"q": q.tolist(), "k": k.tolist(), "v": v.tolist()}
    mha = torch.nn.MultiheadAttention(d, num_heads=1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.eye(d, dtype=torch.float64).repeat(3, 1))
        mha.out_proj.weight.copy_(torch.eye(d, dtype=torch.float64))
    kwargs = {}
    if mask_kind == "padding":
        params["mask"] = [1, 1, 1, 0]
        kwargs["key_padding_mask"] = torch.tensor([[False, False, False, True]])  # True = pad
    elif mask_kind == "causal":
        params["mask"] = [[int(j <= i) for j in range(m)] for i in range(n)]
        kwargs["attn_mask"] = torch.triu(torch.ones(n, m, dtype=torch.bool), 1)  # True = block
    with torch.no_grad():
        out, weights = mha(q[:, None], k[:, None], v[:, None], need_weights=True, **kwargs)
    a = engine.solve("attention", params).answer
    assert close(a["output"], out[:, 0], 1e-10)
    assert close(a["weights"], weights[0], 1e-10)


def test_causal_mask_first_query_sees_only_the_first_key():
    p = {"q": [[1.0], [2.0]], "k": [[3.0], [-1.0]], "v": [[5.0], [7.0]],
         "mask": [[1, 0], [1, 1]]}
    a = engine.solve("attention", p).answer
    assert a["weights"][0] == [1.0, 0.0] and a["output"][0] == [5.0]
    assert a["scores"] == [[3.0, -1.0], [6.0, -2.0]]  # reported before masking


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"mask": [[1, 1, 0], [0, 0, 0]]}, "parameter 'mask': row 1 masks every key"),
        ({"mask": [0, 0, 0]}, "parameter 'mask': it masks every key"),
        ({"mask": [1, 1]}, "parameter 'mask': must have length m = 3"),
        ({"mask": [1, 2, 0]}, "parameter 'mask'"),
        ({"k": [[1, 1, 1]] * 3}, "parameter 'k': keys must have d = 2"),
        ({"v": [[1.0]]}, "parameter 'v': needs one row per key"),
        ({"scale": 0}, "parameter 'scale'"),
        ({"q": [1.0, 2.0]}, "parameter 'q'"),
    ],
)
def test_bad_params_name_the_parameter(changes, pattern):
    p = {"q": [[1, 0], [0, 1]], "k": [[1, 1], [0, 1], [2, 0]], "v": [[1], [2], [3]]}
    p.update(changes)
    with pytest.raises(ValueError, match=pattern):
        engine.solve("attention", p)


def test_too_many_scores_are_refused():
    p = {"q": [[1.0]] * 100, "k": [[1.0]] * 100, "v": [[1.0]] * 100}
    with pytest.raises(ValueError, match="parameter 'k': n·m = 10000"):
        engine.solve("attention", p)


def test_misconceptions():
    p = {"q": [[1, 1, 1, 1], [0, 1, 0, 0]], "k": [[1, 1, 1, 1], [0, 0, 2, 0]],
         "v": [[1, 0], [0, 1]]}
    solution = engine.solve("attention", p)
    wrong = {m.key: m.answer for m in solution.misconceptions}
    unscaled = engine.solve("attention", {**p, "scale": 1.0}).answer
    quarter = engine.solve("attention", {**p, "scale": 0.25}).answer
    assert close(wrong["no_scale"]["weights"], unscaled["weights"])
    assert close(wrong["scale_1_over_d"]["output"], quarter["output"])
    columns = np.asarray(wrong["softmax_over_queries"]["weights"]).sum(axis=0)
    assert close(columns, [1.0, 1.0])  # normalised over the queries instead of the keys
    assert "ignored_mask" not in wrong
    masked = engine.solve("attention", {**p, "mask": [1, 0]})
    assert "ignored_mask" in {m.key for m in masked.misconceptions}


def test_custom_scale_has_no_one_over_d_misconception():
    p = {"q": [[1.0, 2.0]], "k": [[1.0, 0.0], [0.0, 1.0]], "v": [[1.0], [0.0]], "scale": 0.3}
    keys = {m.key for m in engine.solve("attention", p).misconceptions}
    assert "scale_1_over_d" not in keys and "no_scale" in keys


def test_sampling_is_deterministic():
    assert [engine.sample_params("attention", s) for s in range(20)] == [
        engine.sample_params("attention", s) for s in range(20)]


def test_solve_batch_equals_solve():
    ps = [engine.sample_params("attention", s) for s in range(200)]
    for p, batched in zip(ps, engine.solve_batch("attention", ps), strict=True):
        single = engine.solve("attention", p).answer
        for key in ("scores", "weights", "output"):
            assert close(batched[key], single[key]), (p, key)


small = st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 1))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=st.integers(1, 3), m=st.integers(1, 4), d=st.integers(1, 3),
       d_v=st.integers(1, 2))
def test_rows_sum_to_one_and_key_order_does_not_matter(data, n, m, d, d_v):
    q = data.draw(st.lists(st.lists(small, min_size=d, max_size=d), min_size=n, max_size=n))
    k = data.draw(st.lists(st.lists(small, min_size=d, max_size=d), min_size=m, max_size=m))
    v = data.draw(st.lists(st.lists(small, min_size=d_v, max_size=d_v), min_size=m, max_size=m))
    a = engine.solve("attention", {"q": q, "k": k, "v": v}).answer
    assert close(np.sum(a["weights"], axis=1), np.ones(n))
    vs = np.asarray(v)
    assert np.all(np.asarray(a["output"]) <= vs.max(axis=0) + 1e-12)  # a convex combination
    assert np.all(np.asarray(a["output"]) >= vs.min(axis=0) - 1e-12)
    order = data.draw(st.permutations(range(m)))
    shuffled = engine.solve("attention", {"q": q, "k": [k[j] for j in order],
                                          "v": [v[j] for j in order]}).answer
    assert close(shuffled["output"], a["output"], 1e-10)
