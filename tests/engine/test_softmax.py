"""softmax and cross_entropy: the seed's ACT-15 logits, stability, and gradients."""

import math

import pytest
import torch

import engine


def test_act15_logits():
    probs = engine.solve("softmax", {"logits": [3, 1, -3]}).answer["probs"]
    assert probs == pytest.approx([0.8788782427, 0.1189432359, 0.0021785214], abs=1e-10)
    assert math.fsum(probs) == pytest.approx(1.0, abs=1e-15)


def test_huge_and_tiny_logits_stay_finite():
    s = engine.solve("softmax", {"logits": [0, -1000, 3, 1000]})
    assert s.verification.passed
    assert s.answer["probs"][3] == pytest.approx(1.0)
    assert all(math.isfinite(v) for v in s.answer["log_probs"])


def test_temperature_flattens():
    sharp = engine.solve("softmax", {"logits": [2, 1], "temperature": 0.5}).answer["probs"]
    flat = engine.solve("softmax", {"logits": [2, 1], "temperature": 2.0}).answer["probs"]
    assert sharp[0] > flat[0] > 0.5


def test_cross_entropy_gradient_is_probs_minus_onehot():
    logits, target = [2.0, -1.0, 0.5], 2
    answer = engine.solve("cross_entropy", {"logits": logits, "target": target}).answer
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(z[None], torch.tensor([target]))
    loss.backward()
    assert answer["loss"] == pytest.approx(loss.item(), abs=1e-12)
    assert answer["grad_logits"] == pytest.approx(z.grad.tolist(), abs=1e-12)


def test_target_must_be_a_class_index():
    with pytest.raises(ValueError, match=r"parameter 'target': 3 is not a class index; valid range is \[0, 2\]"):
        engine.solve("cross_entropy", {"logits": [1, 2, 3], "target": 3})


def test_named_mistakes():
    s = engine.solve("cross_entropy", {"logits": [3, 1, -3], "target": 0})
    mistakes = {m.key: m.answer for m in s.misconceptions}
    assert mistakes["dropped_minus"]["loss"] == pytest.approx(-s.answer["loss"])
    assert mistakes["log2"]["loss"] == pytest.approx(s.answer["loss"] / math.log(2))
