"""Contract tests run over every registered kind, so no kind goes untested.

For each kind: its seeded variants are reproducible, solve agrees with the
independent check on many seeds, the batched path agrees with solve, the trace
is bilingual data, misconceptions are real alternatives, and everything is JSON.
"""

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.registry import AnswerType, get_kind

KINDS = engine.list_kinds()
SEEDS = range(30)


@pytest.fixture(scope="module", params=KINDS)
def kind(request):
    return get_kind(request.param)


def test_kind_declares_its_contract(kind):
    assert kind.title and kind.title_zh
    assert kind.__doc__ and kind.__doc__.strip(), "the docstring carries the formula"
    assert kind.answers, "at least one answer key"
    assert kind.check_method
    assert len({a.name for a in kind.answers}) == len(kind.answers)
    json.dumps(kind.schema())


def test_same_seed_same_variant(kind):
    for seed in (0, 1, 17):
        assert engine.sample_params(kind.name, seed) == engine.sample_params(kind.name, seed)
    distinct = {json.dumps(engine.sample_params(kind.name, s), sort_keys=True) for s in SEEDS}
    assert len(distinct) > len(SEEDS) // 3, "variants should actually vary"


def test_engine_agrees_with_independent_check(kind):
    for seed in SEEDS:
        solution = engine.sample(kind.name, seed)
        v = solution.verification
        assert v.passed, f"seed {seed}: max |err| {v.max_abs_error} (tolerance {v.rtol}, {v.atol})"
        assert v.checked, "the check must cover at least one answer key"
        assert v.max_abs_error <= 1e-6 or kind.tolerance.rtol > 1e-9


def test_answers_match_declared_keys_and_types(kind):
    declared = {a.name: a.type for a in kind.answers}
    solution = engine.sample(kind.name, 3)
    assert set(solution.answer) == set(declared)
    for key, value in solution.answer.items():
        if declared[key] is AnswerType.INTEGER:
            assert isinstance(value, int) and not isinstance(value, bool), key
        elif declared[key] is AnswerType.SHAPE:
            assert all(isinstance(v, int) for v in value), key
        elif declared[key] is AnswerType.SCALAR:
            assert isinstance(value, int | float) and math.isfinite(value), key


def test_trace_is_bilingual_data(kind):
    solution = engine.sample(kind.name, 5)
    assert solution.steps, "a worked solution has steps"
    for step in solution.steps:
        assert step.label and step.label_zh and step.formula
        json.dumps(step.values)


def test_misconceptions_are_named_wrong_answers(kind):
    declared = {a.name for a in kind.answers}
    for seed in range(10):
        solution = engine.sample(kind.name, seed)
        keys = [m.key for m in solution.misconceptions]
        assert len(keys) == len(set(keys)), "misconception keys are unique"
        for m in solution.misconceptions:
            assert m.label and m.label_zh
            assert m.answer and set(m.answer) <= declared, m.key


def test_solution_is_json(kind):
    data = engine.sample(kind.name, 7).to_dict()
    text = json.dumps(data, allow_nan=False)
    assert set(json.loads(text)) == {"kind", "params", "answer", "steps", "verification",
                                     "misconceptions", "device", "dtype", "versions"}
    assert data["dtype"] == "float64"


def test_params_round_trip_through_validation(kind):
    p = engine.sample_params(kind.name, 11)
    assert kind.validate(json.loads(json.dumps(p))) == p


def test_batch_agrees_with_solve(kind):
    ps = [engine.sample_params(kind.name, s) for s in SEEDS]
    batched = engine.solve_batch(kind.name, ps)
    assert len(batched) == len(ps)
    for p, answer in zip(ps, batched, strict=True):
        single = engine.solve(kind.name, p).answer
        assert set(answer) <= set(single)
        for key, value in answer.items():
            assert _close(value, single[key]), (kind.name, p, key)


@pytest.mark.parametrize("was_enabled", [True, False])
def test_batch_leaves_the_garbage_collector_as_it_found_it(was_enabled):
    import gc

    (gc.enable if was_enabled else gc.disable)()
    try:
        engine.solve_batch("softmax", [{"logits": [1.0, 2.0]}])
        assert gc.isenabled() is was_enabled
        with pytest.raises(ValueError):
            engine.solve_batch("softmax", [{"logits": "x"}])  # validation fails inside the pause
        assert gc.isenabled() is was_enabled
    finally:
        gc.enable()


def _close(a, b) -> bool:
    from engine.compare import allclose

    if isinstance(a, list) and a and isinstance(a[0], dict):
        return all(_close(x[k], y[k]) for x, y in zip(a, b, strict=True) for k in x)
    if isinstance(a, dict):
        return all(_close(a[k], b[k]) for k in a)
    return allclose(a, b, rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_any_seed_gives_a_verified_variant(seed):
    for name in KINDS:
        assert engine.sample(name, seed).verification.passed, (name, seed)


WORKED_2_2_2 = {"x": [0.05, 0.1], "target": [0.01, 0.99], "w1": [[0.15, 0.2], [0.25, 0.3]], "b1": 0.35,
                "w2": [[0.4, 0.45], [0.5, 0.55]], "b2": 0.6, "lr": 0.5}


def test_variants_like_a_worked_example_keep_its_shapes():
    like = engine.get_kind("backprop.two_layer").validate(WORKED_2_2_2)
    variants = [engine.sample_params("backprop.two_layer", s, like=like) for s in range(1, 30)]
    for p in variants:
        assert len(p["x"]) == 2 and len(p["target"]) == 2
        assert [len(row) for row in p["w1"]] == [2, 2] and [len(row) for row in p["w2"]] == [2, 2]
        assert not isinstance(p["b1"], list) and not isinstance(p["b2"], list), "a number stays a number"
    assert len({str(p) for p in variants}) == len(variants), "the numbers still change"
    assert engine.sample_params("backprop.two_layer", 7, like=like) == variants[6], "seeded"
    free = [engine.sample_params("backprop.two_layer", s) for s in range(1, 30)]
    assert any(len(p["x"]) != 2 or len(p["w2"]) != 2 for p in free), "without it, shapes vary"


def test_a_shape_the_kind_cannot_draw_falls_back_to_its_first_valid_draw():
    like = engine.get_kind("softmax").validate({"logits": [0.5] * 40})  # the sampler draws 2–6 logits
    assert engine.sample_params("softmax", 3, like=like) == engine.sample_params("softmax", 3)
