"""kl_divergence and entropy against independent oracles: published worked examples,
numpy sums and F.kl_div (a different torch path from the kinds' Categorical), and the
identity H(P, Q) = H(P) + KL(P‖Q) (catalog LOSS-01, LOSS-02, LOSS-03)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
import engine.kinds.information  # noqa: F401  (registers the kinds)


def kl(p, q, base="e"):
    return engine.solve("kl_divergence", {"p": p, "q": q, "base": base})


def entropy(p, base="e"):
    return engine.solve("entropy", {"p": p, "base": base})


def test_fair_coin_has_one_bit():
    assert entropy([0.5, 0.5], "2").answer == {"entropy": 1.0, "self_information": [1.0, 1.0]}
    assert entropy([0.5, 0.5]).answer["entropy"] == pytest.approx(math.log(2), rel=1e-15)


def test_fair_die_has_log2_6_bits():
    got = entropy([1 / 6] * 6, "2").answer
    assert got["entropy"] == pytest.approx(math.log2(6), rel=1e-12)
    assert got["entropy"] == pytest.approx(2.585, abs=5e-4)
    assert got["self_information"] == pytest.approx([math.log2(6)] * 6, rel=1e-12)


def test_published_kl_example_and_its_asymmetry():
    # Wikipedia's worked example: P = Binomial(2, 0.4), Q uniform on {0, 1, 2}.
    s = kl([0.36, 0.48, 0.16], [1 / 3, 1 / 3, 1 / 3])
    assert s.answer["kl"] == pytest.approx(0.0852996, abs=1e-7)
    swapped = {m.key: m.answer for m in s.misconceptions}["swapped_arguments"]["kl"]
    assert swapped == pytest.approx(0.097455, abs=1e-6)


def test_kl_closed_form_and_cross_entropy_identity():
    # KL((½, ½) ‖ (0.9, 0.1)) = ½ ln(5/9) + ½ ln 5 = ln(5/3).
    a = kl([0.5, 0.5], [0.9, 0.1]).answer
    assert a["kl"] == pytest.approx(math.log(5 / 3), rel=1e-12)
    assert a["cross_entropy"] == pytest.approx(a["entropy_p"] + a["kl"], rel=1e-12)


def test_zero_log_zero_is_zero():
    a = kl([1.0, 0.0], [0.5, 0.5], "2").answer
    assert a["entropy_p"] == pytest.approx(0.0, abs=1e-15)
    assert a["kl"] == pytest.approx(1.0, rel=1e-12)  # one bit
    names = {m.key for m in kl([1.0, 0.0], [0.5, 0.5]).misconceptions}
    assert "swapped_arguments" not in names  # KL(Q‖P) is infinite here


def test_seed_difference_formula_is_a_misconception():
    # 000 §16.2 renders KL as Σ P(x)[P(x) − Q(x)].
    p, q = [0.36, 0.48, 0.16], [1 / 3, 1 / 3, 1 / 3]
    wrong = {m.key: m.answer for m in kl(p, q).misconceptions}["seed_difference_formula"]
    assert wrong["kl"] == pytest.approx(sum(a * (a - b) for a, b in zip(p, q, strict=True)), rel=1e-12)


def test_wrong_base_misconceptions_rescale_every_answer():
    s = kl([0.5, 0.5], [0.9, 0.1])
    m = {x.key: x.answer for x in s.misconceptions}
    for key in ("kl", "entropy_p", "cross_entropy"):
        assert m["log_base_2"][key] == pytest.approx(s.answer[key] / math.log(2), rel=1e-12)
        assert m["log_base_10"][key] == pytest.approx(s.answer[key] / math.log(10), rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 9), st.integers(0, 9)), min_size=2, max_size=6),
       st.sampled_from(["e", "2", "10"]))
def test_kl_matches_torch_kl_div_and_is_non_negative(weights, base):
    q = [w / sum(w for w, _ in weights) for w, _ in weights]
    total = sum(v for _, v in weights) or 1
    p = [v / total for _, v in weights] if any(v for _, v in weights) else q
    a = kl(p, q, base).answer
    pt, qt = torch.tensor(p, dtype=torch.float64), torch.tensor(q, dtype=torch.float64)
    ref = F.kl_div(qt.log(), pt, reduction="sum").item() / math.log({"e": math.e, "2": 2, "10": 10}[base])
    assert a["kl"] == pytest.approx(ref, rel=1e-9, abs=1e-12)
    assert a["kl"] >= -1e-15
    assert a["cross_entropy"] == pytest.approx(a["entropy_p"] + a["kl"], rel=1e-9, abs=1e-12)


def test_entropy_matches_numpy():
    for seed in range(100):
        p = engine.sample_params("entropy", seed)
        probs = np.asarray(p["p"]) / np.sum(p["p"])
        b = {"e": math.e, "2": 2.0, "10": 10.0}[p["base"]]
        a = engine.solve("entropy", p).answer
        assert a["entropy"] == pytest.approx(float(-np.sum(probs * np.log(probs)) / np.log(b)), rel=1e-12)


def test_near_one_sums_are_renormalised():
    p = [0.5 + 4e-7, 0.5]  # sums to 1 within the 1e-6 tolerance
    s = kl(p, [0.25, 0.75])
    p1, p2 = p[0] / sum(p), p[1] / sum(p)
    assert s.verification.passed
    assert s.answer["kl"] == pytest.approx(p1 * math.log(p1 / 0.25) + p2 * math.log(p2 / 0.75),
                                           rel=1e-12)


@pytest.mark.parametrize(
    ("params", "bad", "words"),
    [
        ({"p": [0.5, 0.4], "q": [0.5, 0.5]}, "p", "sum to 0.9"),
        ({"p": [0.5, 0.5], "q": [0.5, 0.6]}, "q", "sum to 1.1"),
        ({"p": [0.5, 0.5], "q": [1.0, 0.0]}, "q", "infinite"),
        ({"p": [0.5, 0.5], "q": [0.2, 0.3, 0.5]}, "q", "same length"),
        ({"p": [1.5, -0.5], "q": [0.5, 0.5]}, "p", "out of range"),
        ({"p": [0.5, 0.5], "q": [0.5, 0.5], "base": "3"}, "base", "not one of"),
    ],
)
def test_kl_validation(params, bad, words):
    with pytest.raises(ValueError, match=f"parameter '{bad}'.*{words}"):
        engine.solve("kl_divergence", params)


def test_entropy_refuses_zero_probabilities():
    with pytest.raises(ValueError, match="parameter 'p'.*infinite"):
        entropy([1.0, 0.0])


def test_entropy_misconceptions():
    m = {x.key: x.answer for x in entropy([0.5, 0.25, 0.25], "2").misconceptions}
    assert m["dropped_minus"]["entropy"] == pytest.approx(-1.5)
    assert m["unweighted_sum"]["entropy"] == pytest.approx(5.0)  # 1 + 2 + 2 bits


@pytest.mark.parametrize("kind", ["kl_divergence", "entropy"])
def test_sampled_variants_verify_and_batch_equals_solve(kind):
    ps = [engine.sample_params(kind, i) for i in range(200)]
    assert ps[:20] == [engine.sample_params(kind, i) for i in range(20)]  # deterministic
    batch = engine.solve_batch(kind, ps)
    for p, b in zip(ps, batch, strict=True):
        s = engine.solve(kind, p)
        assert s.verification.passed, (p, s.verification)
        for key, value in s.answer.items():
            assert b[key] == pytest.approx(value, rel=1e-12, abs=1e-15)
