"""bootstrap against independent oracles: exact enumeration of every sequence of draws for
small n, the closed form in Python fractions, hand values (n = 1, n = 2) and the limit
1 - 1/e (catalog REG-19)."""

import itertools
import math
from fractions import Fraction

import pytest

import engine
import engine.kinds.bootstrap  # noqa: F401  (registers the kind)
from engine.kinds.bootstrap import EXACT_DRAWS, distinct_distribution


def boot(n, draws=None):
    return engine.solve("bootstrap", {"n": n} if draws is None else {"n": n, "draws": draws})


def enumerate_distinct(n: int, m: int) -> dict[int, Fraction]:
    """P(D = d) by listing all n^m equally likely sequences of draws."""
    counts: dict[int, int] = {}
    for seq in itertools.product(range(n), repeat=m):
        d = len(set(seq))
        counts[d] = counts.get(d, 0) + 1
    return {d: Fraction(c, n**m) for d, c in counts.items()}


def closed_form(n: int, m: int) -> Fraction:
    """p_in = 1 - (1 - 1/n)^m, exactly."""
    return 1 - Fraction(n - 1, n) ** m


def test_a_single_example_is_always_drawn():
    a = boot(1).answer
    assert a["p_in"] == 1.0 and a["p_out"] == 0.0 and a["expected_distinct"] == 1.0


def test_two_examples_two_draws():
    # Sequences 00, 01, 10, 11: example 0 is in three of four; E[D] = (1 + 2 + 2 + 1) / 4 = 1.5.
    a = boot(2).answer
    assert a["p_in"] == pytest.approx(0.75, rel=1e-15)
    assert a["p_out"] == pytest.approx(0.25, rel=1e-15)
    assert a["expected_distinct"] == pytest.approx(1.5, rel=1e-15)


def test_ten_examples_give_65_1_percent():
    assert boot(10).answer["p_in"] == pytest.approx(1 - 0.9**10, rel=1e-13)
    assert boot(10).answer["p_in"] == pytest.approx(0.6513, abs=5e-5)


def test_large_n_tends_to_one_minus_one_over_e():
    limit = 1 - math.exp(-1)
    a = boot(10**6).answer
    assert a["p_in_limit"] == pytest.approx(limit, rel=1e-15)
    assert a["p_in"] == pytest.approx(limit, abs=1e-6)
    assert a["p_out"] == pytest.approx(math.exp(-1), abs=1e-6)
    assert boot(1000).answer["p_in"] == pytest.approx(0.6323, abs=5e-5)
    # the approach is from above: p_in decreases towards 1 - 1/e
    values = [boot(n).answer["p_in"] for n in (2, 5, 10, 100, 1000, 10**5)]
    assert values == sorted(values, reverse=True) and values[-1] > limit


@pytest.mark.parametrize(("n", "m"), [(n, m) for n in range(1, 6) for m in range(1, 6)])
def test_matches_exact_enumeration_of_all_draw_sequences(n, m):
    dist = enumerate_distinct(n, m)
    expected = sum(d * p for d, p in dist.items())
    a = boot(n, m).answer
    assert a["expected_distinct"] == pytest.approx(float(expected), rel=1e-13)
    assert a["p_in"] == pytest.approx(float(expected / n), rel=1e-13)
    assert a["p_out"] == pytest.approx(float(1 - expected / n), rel=1e-13, abs=1e-15)
    # the kind's Stirling-number distribution (its check) agrees term by term
    assert {d: p for d, p in enumerate(distinct_distribution(n, m)) if p} == dist


@pytest.mark.parametrize(("n", "m"), [(7, 500), (1000, 1000), (1000, 250), (3, 2000),
                                      (50_000, 100_000)])
def test_matches_the_closed_form_in_fractions(n, m):
    exact = closed_form(n, m)
    a = boot(n, m).answer
    assert a["p_in"] == pytest.approx(float(exact), rel=1e-12)
    assert a["expected_distinct"] == pytest.approx(float(n * exact), rel=1e-12)
    assert a["p_out"] == pytest.approx(float(1 - exact), rel=1e-9, abs=1e-15)
    assert boot(n, m).verification.passed


def test_both_check_paths_are_used_and_agree():
    # m <= EXACT_DRAWS: rational distribution; above: the first-draw sum
    for m in (EXACT_DRAWS, EXACT_DRAWS + 1):
        s = boot(300, m)
        assert s.verification.passed
        assert s.answer["p_in"] == pytest.approx(float(closed_form(300, m)), rel=1e-13)


def test_draws_default_to_n_and_other_ratios():
    assert engine.get_kind("bootstrap").validate({"n": 12}) == {"n": 12, "draws": 12}
    half = boot(1000, 500).answer
    assert half["p_in"] == pytest.approx(float(closed_form(1000, 500)), rel=1e-12)
    assert half["p_in_limit"] == pytest.approx(1 - math.exp(-0.5), rel=1e-15)
    assert boot(1000, 2000).answer["p_in_limit"] == pytest.approx(1 - math.exp(-2), rel=1e-15)


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"n": 0}, "n"),
        ({"n": -3}, "n"),
        ({"n": 10**6 + 1}, "n"),
        ({"n": 2.5}, "n"),
        ({"n": True}, "n"),
        ({"n": "ten"}, "n"),
        ({"n": 10, "draws": 0}, "draws"),
        ({"n": 10, "draws": 10**6 + 1}, "draws"),
        ({"n": 10, "draws": 1.5}, "draws"),
        ({}, "n"),
    ],
)
def test_bad_params_raise_value_error_naming_the_parameter(params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve("bootstrap", params)


def test_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match="unknown parameter 'replace'"):
        engine.solve("bootstrap", {"n": 10, "replace": False})


def test_misconceptions_are_distinct_and_named():
    s = boot(1000)
    m = {x.key: x.answer for x in s.misconceptions}
    assert set(m) == {"two_thirds", "swapped_in_out", "ignored_repeats", "used_limit"}
    assert m["two_thirds"]["p_in"] == pytest.approx(2 / 3)  # 000 §25.1's round figure
    assert m["swapped_in_out"]["p_in"] == pytest.approx(s.answer["p_out"], rel=1e-12)
    assert m["swapped_in_out"]["p_in"] == pytest.approx(math.exp(-1), abs=2e-4)
    assert m["ignored_repeats"] == {"p_in": 1.0, "p_out": 0.0, "expected_distinct": 1000.0}
    assert m["used_limit"]["p_in"] == pytest.approx(1 - math.exp(-1), rel=1e-15)
    for key, wrong in m.items():
        assert not math.isclose(wrong["p_in"], s.answer["p_in"], rel_tol=1e-6), key


def test_two_thirds_is_named_only_for_a_full_size_resample():
    keys = {x.key for x in boot(10, 5).misconceptions}
    assert "two_thirds" not in keys
    half = {x.key: x.answer for x in boot(10, 5).misconceptions}
    assert half["ignored_repeats"]["p_in"] == pytest.approx(0.5)


def test_seed_two_thirds_is_an_erratum_at_two_digits():
    # 000 §25.1: "about 2/3 of the original examples"; for n = 1000 the expectation is 0.632.
    from engine.compare import agrees_as_stated

    p_in = boot(1000).answer["p_in"]
    assert not agrees_as_stated("0.67", p_in)
    assert agrees_as_stated("0.63", p_in)


def test_sampled_variants_verify_and_batch_equals_solve():
    ps = [engine.sample_params("bootstrap", i) for i in range(200)]
    assert ps[:20] == [engine.sample_params("bootstrap", i) for i in range(20)]  # deterministic
    ps += [{"n": 10, "draws": 5}, {"n": 3, "draws": 1000}, {"n": 10**6, "draws": 10**6},
           {"n": 1, "draws": 4}]
    batch = engine.solve_batch("bootstrap", ps)
    for p, b in zip(ps, batch, strict=True):
        s = engine.solve("bootstrap", p)
        assert s.verification.passed, (p, s.verification)
        for key, value in s.answer.items():
            assert b[key] == pytest.approx(value, rel=1e-12, abs=1e-15)
