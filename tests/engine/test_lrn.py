"""lrn against independent oracles: F.local_response_norm (PyTorch's own LRN), a hand-computed
AlexNet example, and window counts worked out channel by channel (catalog NORM-04)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import engine
import engine.kinds.lrn  # noqa: F401  (registers the kind)

ALEXNET = {"size": 5, "k": 2.0, "alpha": 1e-4, "beta": 0.75, "alpha_divided_by_n": False}


def lrn(a, **params):
    return engine.solve("lrn", {"a": a, **params})


def torch_lrn(a, size, alpha, beta, k):
    """PyTorch's F.local_response_norm on C or C×H×W activations, float64."""
    x = torch.tensor(a, dtype=torch.float64)
    x = x.reshape(1, x.shape[0], -1)  # (1, C, M)
    return F.local_response_norm(x, size, alpha=alpha, beta=beta, k=k).reshape(np.shape(a))


def _random_case(rng: np.random.Generator):
    channels = int(rng.integers(1, 10))
    shape = (channels,) if rng.random() < 0.5 else (channels, int(rng.integers(1, 4)),
                                                     int(rng.integers(1, 4)))
    return {"a": np.round(rng.normal(0, 3, size=shape), 3).tolist(),
            "size": int(rng.integers(1, 8)), "alpha": float(rng.choice([1e-4, 0.01, 0.3, 1.0])),
            "beta": float(rng.choice([0.5, 0.75, 1.0, 1.5])), "k": float(rng.choice([0.5, 1, 2]))}


def test_alpha_divided_by_n_matches_torch_local_response_norm():
    rng = np.random.default_rng(2012)
    for _ in range(200):
        p = _random_case(rng)
        ref = torch_lrn(p["a"], p["size"], p["alpha"], p["beta"], p["k"])
        s = lrn(alpha_divided_by_n=True, **p)
        assert s.verification.passed
        np.testing.assert_allclose(s.answer["b"], ref.numpy(), rtol=1e-12, atol=1e-15)
        # the denominator comes from the kind's own pad-and-sum, not from F
        a = np.asarray(p["a"])
        np.testing.assert_allclose(a / np.asarray(s.answer["denominator"]), ref.numpy(),
                                   rtol=1e-12, atol=1e-15)


def test_alpha_not_divided_equals_torch_with_alpha_times_n():
    # The paper's α is PyTorch's α/n: porting AlexNet to nn.LocalResponseNorm needs alpha = n·α.
    rng = np.random.default_rng(7)
    for _ in range(100):
        p = _random_case(rng)
        ref = torch_lrn(p["a"], p["size"], p["alpha"] * p["size"], p["beta"], p["k"])
        s = lrn(alpha_divided_by_n=False, **p)
        np.testing.assert_allclose(s.answer["b"], ref.numpy(), rtol=1e-12, atol=1e-15)


def test_alexnet_hand_example():
    # Activations (1, 2, 3, 4, 5); the middle channel's window covers all five: Σa² = 55,
    # d = (2 + 1e-4 · 55)^0.75 = 2.0055^0.75, b = 3 / d ≈ 1.780.
    s = lrn([1, 2, 3, 4, 5], **ALEXNET)
    assert s.answer["window"] == 5
    assert s.answer["denominator"][2] == pytest.approx(2.0055**0.75, rel=1e-12)
    assert s.answer["b_mid"] == pytest.approx(3 / 2.0055**0.75, rel=1e-12)
    assert s.answer["b_mid"] == pytest.approx(1.780, abs=5e-4)
    assert s.answer["b"][2] == s.answer["b_mid"]
    # channel 0 sums channels 0..2 only: 1 + 4 + 9 = 14
    assert s.answer["b"][0] == pytest.approx(1 / (2 + 1e-4 * 14) ** 0.75, rel=1e-12)


def test_b_mid_of_a_map_is_the_middle_channels_map():
    a = [[[1, 2]], [[3, 4]], [[5, 6]]]  # C×H×W = 3×1×2
    s = lrn(a, size=3)
    assert s.answer["b_mid"] == s.answer["b"][1]
    np.testing.assert_allclose(s.answer["b"], torch_lrn(a, 3, 1e-4, 0.75, 2.0).numpy(), rtol=1e-12)


@pytest.mark.parametrize(("size", "window"), [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6),
                                              (9, 9), (11, 9), (64, 9)])
def test_window_counts_away_from_and_at_the_edges(size, window):
    # Nine channels, middle channel 4: n channels while the window fits, all 9 once it does not.
    assert lrn(list(range(1, 10)), size=size).answer["window"] == window


def test_window_at_the_edge_of_few_channels():
    assert lrn([1, 2, 3], **ALEXNET).answer["window"] == 3  # channels 0..2 only


@pytest.mark.parametrize(("size", "touched"), [(3, {3, 4, 5}), (5, {2, 3, 4, 5, 6}),
                                               (4, {3, 4, 5, 6}), (2, {4, 5})])
def test_which_channels_a_single_activation_inhibits(size, touched):
    # A lone activation at channel 4 raises the denominator of channel i iff 4 is in i's window
    # i - ⌊n/2⌋ … i + ⌊(n-1)/2⌋. For even n the window has one channel fewer above, so the
    # lone activation reaches one channel fewer below.
    a = [0.0] * 9
    a[4] = 10.0
    den = lrn(a, size=size, alpha=1.0, k=1.0).answer["denominator"]
    assert {i for i, d in enumerate(den) if d > 1.0} == touched


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"a": [1, 2], "size": 0}, "size"),
        ({"a": [1, 2], "size": 65}, "size"),
        ({"a": [1, 2], "size": 2.5}, "size"),
        ({"a": [1, 2], "size": 3, "alpha": -1e-4}, "alpha"),
        ({"a": [1, 2], "size": 3, "k": 0}, "k"),
        ({"a": [1, 2], "size": 3, "beta": 11}, "beta"),
        ({"a": [1, 2], "size": 3, "alpha_divided_by_n": "maybe"}, "alpha_divided_by_n"),
        ({"a": [[1, 2], [3, 4]], "size": 3}, "a"),
        ({"a": [1.0] * 1025, "size": 3}, "a"),
        ({"a": [1, float("nan")], "size": 3}, "a"),
        ({"a": [1, 2e4], "size": 3}, "a"),
        ({"size": 3}, "a"),
    ],
)
def test_bad_params_raise_value_error_naming_the_parameter(params, bad):
    with pytest.raises(ValueError, match=f"parameter '{bad}'"):
        engine.solve("lrn", params)


def test_unknown_parameter_is_refused():
    with pytest.raises(ValueError, match="unknown parameter 'depth_radius'"):
        engine.solve("lrn", {"a": [1, 2], "size": 3, "depth_radius": 2})


def test_misconceptions_are_distinct_and_named():
    a = [1, 2, 3, 4, 5, 6, 7]
    s = lrn(a, **ALEXNET)
    m = {x.key: x.answer for x in s.misconceptions}
    assert set(m) == {"window_n_plus_one", "alpha_divided", "forgot_beta"}
    for key, wrong in m.items():
        assert not np.allclose(wrong["b"], s.answer["b"], rtol=1e-9, atol=0), key
    # n + 1 channels: 2 below and 3 above the middle channel 3 (the seed's "n + 1 points")
    assert m["window_n_plus_one"]["window"] == 6
    sq = np.square(a, dtype=float)
    assert m["window_n_plus_one"]["b_mid"] == pytest.approx(4 / (2 + 1e-4 * sq[1:7].sum()) ** 0.75)
    # dividing α by n gives PyTorch's value with α = 1e-4
    assert m["alpha_divided"]["b"] == pytest.approx(torch_lrn(a, 5, 1e-4, 0.75, 2.0).tolist())
    assert m["forgot_beta"]["b_mid"] == pytest.approx(4 / (2 + 1e-4 * sq[1:6].sum()))


def test_misconception_equal_to_the_answer_is_dropped():
    # β = 1 already: "forgot β" gives the right answer and is not offered as a mistake.
    keys = {x.key for x in lrn([1, 2, 3], size=3, beta=1.0).misconceptions}
    assert "forgot_beta" not in keys


def test_sampled_variants_verify_and_batch_equals_solve():
    ps = [engine.sample_params("lrn", i) for i in range(200)]
    assert ps[:20] == [engine.sample_params("lrn", i) for i in range(20)]  # deterministic
    batch = engine.solve_batch("lrn", ps)
    for p, b in zip(ps, batch, strict=True):
        s = engine.solve("lrn", p)
        assert s.verification.passed, (p, s.verification)
        assert b["window"] == s.answer["window"]
        for key in ("b", "denominator", "b_mid"):
            np.testing.assert_allclose(b[key], s.answer[key], rtol=1e-12, atol=1e-15)


def test_fixed_alexnet_hyper_parameters_survive_sampling():
    fixed = dict(ALEXNET)
    for seed in range(1, 30):
        p = engine.sample_params("lrn", seed, fixed=fixed)
        assert {k: p[k] for k in fixed} == fixed
        assert engine.solve("lrn", p).verification.passed
