"""Reading typed answers and grading them: formats accepted, formats refused with a reason
(never marked wrong), tolerances, exact integers, and misconception matching."""

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from studyapp.grading import (
    AnswerFormatError,
    Status,
    grade_choice,
    grade_numeric,
    grade_self,
    read_answer,
    read_choices,
    read_numbers,
    tolerance_band,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(("text", "value"), [
    ("0.25", 0.25), ("-3", -3.0), (" +2.5 ", 2.5), (".5", 0.5), ("1e-3", 1e-3), ("2.5E+2", 250.0),
    ("3/8", 0.375), ("-1/3", -1 / 3), ("1.5×10^-3", 1.5e-3), ("1.5 x 10^{-3}", 1.5e-3),
    ("2*10**3", 2000.0), ("−0.7", -0.7), ("１/4".replace("１", "1"), 0.25),
])
def test_scalars_in_every_accepted_notation(text, value):
    assert read_numbers(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize(("text", "value"), [
    ("0.1, 0.2, 0.7", [0.1, 0.2, 0.7]), ("0.1 0.2 0.7", [0.1, 0.2, 0.7]),
    ("[0.1, 0.2, 0.7]", [0.1, 0.2, 0.7]), ("(1, 2)", [1.0, 2.0]), ("0.1，0.2", [0.1, 0.2]),
    ("[[1, 2], [3, 4]]", [[1.0, 2.0], [3.0, 4.0]]), ("1 2; 3 4", [[1.0, 2.0], [3.0, 4.0]]),
    ("[[1 2] [3 4]]", [[1.0, 2.0], [3.0, 4.0]]), ("1/2, 1/4", [0.5, 0.25]),
])
def test_vectors_and_matrices(text, value):
    assert read_numbers(text) == value


@pytest.mark.parametrize(("text", "reason"), [
    ("abc", "not a number"), ("1.2.3", "not a number"), ("--1", "not a number"), ("1/0", "divides by zero"),
    ("[1, 2", "closing bracket"), ("1, [2]", "Brackets"), ("1e999", "too large"), ("   ", "empty"),
    ("1 2; 3", "same number of entries"), ("[[1, 2], [3]]", "different lengths"), ("3 apples", "not a number"),
])
def test_malformed_text_is_refused_with_a_reason(text, reason):
    with pytest.raises(AnswerFormatError, match=reason):
        read_answer(text, [[1.0, 2.0], [3.0, 4.0]] if "[[" in text or ";" in text else 1.0)


def test_counts_must_match_but_flat_input_fills_a_matrix_row_major():
    assert read_answer("1 2 3 4", [[0, 0], [0, 0]]) == [[1.0, 2.0], [3.0, 4.0]]
    assert read_answer("[7]", 0.0) == 7.0
    with pytest.raises(AnswerFormatError, match="Expected 3 numbers, got 2"):
        read_answer("1, 2", [1, 2, 3])
    with pytest.raises(AnswerFormatError, match=r"4 numbers \(a 2×2 array\)"):
        read_answer("1 2 3", [[1, 2], [3, 4]])


def test_relative_and_absolute_tolerance_defaults():
    # rtol 1e-2: 1/3 accepts 0.33 (|err| 0.0033 <= 0.00333) but not 0.32.
    assert grade_numeric("0.33", 1 / 3).status == Status.CORRECT
    assert grade_numeric("0.32", 1 / 3).status == Status.INCORRECT
    assert grade_numeric("1/3", 1 / 3).status == Status.CORRECT
    # atol 1e-8 only: an expected 0 needs |given| <= 1e-8.
    assert grade_numeric("0", 0.0).status == Status.CORRECT
    assert grade_numeric("1e-9", 0.0).status == Status.CORRECT
    assert grade_numeric("1e-6", 0.0).status == Status.INCORRECT
    assert grade_numeric("100.9", 100.0, rtol=1e-2).status == Status.CORRECT
    assert grade_numeric("100.9", 100.0, rtol=1e-3).status == Status.INCORRECT


def test_vectors_are_graded_element_wise():
    assert grade_numeric("0.090, 0.245, 0.665", [0.0900306, 0.2447285, 0.6652410]).status == Status.CORRECT
    # one element off is wrong as a whole
    assert grade_numeric("0.090, 0.245, 0.600", [0.0900306, 0.2447285, 0.6652410]).status == Status.INCORRECT


def test_integers_and_shapes_are_exact():
    assert grade_numeric("28", 28, exact_match=True).status == Status.CORRECT
    assert grade_numeric("28.0", 28, exact_match=True).status == Status.CORRECT
    assert grade_numeric("28.1", 28, exact_match=True).status == Status.INCORRECT
    assert grade_numeric("64, 28, 28", [64, 28, 28], exact_match=True).status == Status.CORRECT
    assert grade_numeric("64, 28, 27", [64, 28, 28], exact_match=True).status == Status.INCORRECT


def test_blank_is_unanswered_and_unreadable_is_not_wrong():
    assert grade_numeric("  ", 1.0).status == Status.UNANSWERED
    g = grade_numeric("one half", 0.5)
    assert g.status == Status.UNREADABLE and "not a number" in g.message


MISCONCEPTIONS = [
    {"key": "padding_once", "label": "Counted the padding once", "label_zh": "填充只算了一侧", "value": 27},
    {"key": "ceil", "label": "Rounded up", "label_zh": "向上取整", "value": 28},  # same as the answer
]


def test_a_wrong_number_is_named_by_the_mistake_that_produces_it():
    g = grade_numeric("27", 28, exact_match=True, misconceptions=MISCONCEPTIONS)
    assert g.status == Status.INCORRECT and g.misconception["key"] == "padding_once"
    assert grade_numeric("26", 28, exact_match=True, misconceptions=MISCONCEPTIONS).misconception is None
    # a misconception that gives the right answer never names a correct one
    assert grade_numeric("28", 28, exact_match=True, misconceptions=MISCONCEPTIONS).misconception is None


def test_misconceptions_of_another_shape_are_skipped():
    g = grade_numeric("1 2", [1.0, 3.0], misconceptions=[{**MISCONCEPTIONS[0], "value": [[1.0]]}])
    assert g.status == Status.INCORRECT and g.misconception is None


def test_tolerance_band_is_what_the_grader_accepts():
    (lo, hi), = tolerance_band(2.0, rtol=1e-2, atol=1e-8, exact_match=False)
    assert (lo, hi) == pytest.approx((1.98 - 1e-8, 2.02 + 1e-8), rel=1e-12)
    assert grade_numeric(repr(hi * (1 - 1e-12)), 2.0).status == Status.CORRECT
    assert grade_numeric(repr(hi * (1 + 1e-9)), 2.0).status == Status.INCORRECT
    assert tolerance_band([3, 4], rtol=0.1, atol=0, exact_match=True) == [[3, 3], [4, 4]]


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_the_exact_value_printed_in_full_is_always_correct(x):
    assert grade_numeric(repr(x), x).status == Status.CORRECT


@given(st.integers(min_value=-1000, max_value=1000), st.integers(min_value=1, max_value=1000))
def test_fractions_equal_their_decimal_value(a, b):
    assert read_numbers(f"{a}/{b}") == a / b  # both correctly rounded


def test_choices():
    assert read_choices("2", options=4, single=True) == [2]
    assert read_choices(",0,2", options=4, single=False) == [0, 2]
    with pytest.raises(AnswerFormatError, match="exactly one"):
        read_choices("0,1", options=4, single=True)
    with pytest.raises(AnswerFormatError, match="options shown"):
        read_choices("7", options=4, single=True)
    assert grade_choice("2", [2], options=4, single=True).status == Status.CORRECT
    assert grade_choice("0,2", [0, 2], options=4, single=False).score == 1.0
    assert grade_choice("0", [0, 2], options=4, single=False).status == Status.INCORRECT  # all or nothing
    assert grade_choice("", [1], options=4, single=True).status == Status.UNANSWERED
    assert grade_choice("x", [1], options=4, single=True).status == Status.UNREADABLE


def test_self_graded():
    assert grade_self("my answer", None).status == Status.PENDING
    assert grade_self("my answer", None).score is None
    assert grade_self("", None).status == Status.UNANSWERED
    assert grade_self("my answer", True).score == 1.0
    assert grade_self("my answer", False).status == Status.INCORRECT
