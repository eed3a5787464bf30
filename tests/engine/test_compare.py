"""Tolerant comparison, precision-as-stated matching and answer paths."""

import pytest

from engine.api import answer_at
from engine.compare import agrees_as_stated, allclose, decimals_of, exact, max_abs_error


def test_allclose_is_elementwise_with_reference_on_the_right():
    assert allclose([1.0, 2.0], [1.0 + 1e-10, 2.0], rtol=1e-9, atol=0)
    assert not allclose([1.0, 2.1], [1.0, 2.0], rtol=1e-2, atol=0)
    assert not allclose([1.0], [1.0, 2.0], rtol=1, atol=1), "shape mismatch never agrees"
    assert allclose(0.0, 1e-13, rtol=0, atol=1e-12)


def test_exact_for_integers_and_shapes():
    assert exact(112, 112) and not exact(112, 113)
    assert exact([1, 8, 28, 28], [1, 8, 28, 28]) and not exact([28, 28], [28, 27])


def test_max_abs_error():
    assert max_abs_error([1.0, 2.0], [1.5, 2.0]) == 0.5
    assert max_abs_error([1.0], [1.0, 2.0]) == float("inf")
    assert max_abs_error(3, 3) == 0.0


@pytest.mark.parametrize(("text", "digits"), [("0.75", 2), ("112", 0), ("1.5e-3", 4), ("2.0E2", -1)])
def test_decimals_of(text, digits):
    assert decimals_of(text) == digits


@pytest.mark.parametrize(
    ("stated", "computed", "agrees"),
    [
        ("0.75136507", 0.7513650695523157, True),
        ("0.75136079", 0.7513650695523157, False),  # the source's slip in PROP-03
        ("0.5933", 0.593269992, True),  # rounded correctly to 4 places
        ("0.5932", 0.593269992, False),  # truncated, not rounded
        ("4", 4, True),
        ("3", 4, False),
        (["0.879", "0.119", "0.002"], [0.87888, 0.11894, 0.00218], True),
        (["0.879", "0.119"], [0.87888, 0.11894, 0.00218], False),
    ],
)
def test_agrees_as_stated(stated, computed, agrees):
    assert agrees_as_stated(stated, computed) is agrees


def test_answer_paths():
    answer = {"loss": 0.3, "grad": [[1, 2], [3, 4]], "layers": [{"rf": 3}, {"rf": 7}]}
    assert answer_at(answer, "loss") == 0.3
    assert answer_at(answer, "grad[1][0]") == 3
    assert answer_at(answer, "layers[1].rf") == 7
    with pytest.raises(ValueError, match="answer has no key 'los'"):
        answer_at(answer, "los")
    with pytest.raises(ValueError, match="does not exist"):
        answer_at(answer, "grad[2][0]")
    with pytest.raises(ValueError, match="is not of the form"):
        answer_at(answer, "grad[-1]")
