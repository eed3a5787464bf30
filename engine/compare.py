"""Tolerant comparison of answers: the one rule used by verification and grading.

``a`` agrees with ``b`` when, element-wise, ``|a - b| <= atol + rtol * |b|``
(``b`` is the reference), as in ``numpy.isclose``. Integers and shapes are
compared exactly. Never ``==`` on floats.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def as_array(value: Any) -> np.ndarray:
    """A float64 array of a number or (nested) list; ValueError if it is not numeric."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"not a number or a rectangular list of numbers: {value!r}") from None
    return arr


def _scalars(a: Any, b: Any) -> bool:
    return isinstance(a, int | float) and isinstance(b, int | float)


def max_abs_error(a: Any, b: Any) -> float:
    """Largest element-wise |a - b|; inf if the shapes differ."""
    if _scalars(a, b):  # fast path: most answers are single numbers
        return abs(float(a) - float(b)) if math.isfinite(a) and math.isfinite(b) else (
            0.0 if a == b else float("inf"))
    x, y = as_array(a), as_array(b)
    if x.shape != y.shape:
        return float("inf")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y)))


def allclose(a: Any, b: Any, *, rtol: float, atol: float) -> bool:
    """True when ``a`` matches the reference ``b`` element-wise within tolerance."""
    if _scalars(a, b):
        if not (math.isfinite(a) and math.isfinite(b)):
            return a == b
        return abs(a - b) <= atol + rtol * abs(b)
    x, y = as_array(a), as_array(b)
    if x.shape != y.shape:
        return False
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return bool(np.array_equal(x, y))
    return bool(np.all(np.abs(x - y) <= atol + rtol * np.abs(y)))


def exact(a: Any, b: Any) -> bool:
    """Exact equality of integers or shapes (floats that are whole numbers count)."""
    if _scalars(a, b):
        return a == b
    x, y = as_array(a), as_array(b)
    return x.shape == y.shape and bool(np.array_equal(x, y))


def decimals_of(stated: str) -> int:
    """Digits after the decimal point in a number as written (``"0.7514"`` -> 4)."""
    text = stated.strip().lower()
    mantissa, _, exponent = text.partition("e")
    digits = len(mantissa.partition(".")[2])
    return digits - int(exponent or 0)


def agrees_as_stated(stated: Any, computed: Any) -> bool:
    """True when ``computed`` rounds to ``stated`` at the precision ``stated`` was written with.

    ``stated`` is a number written as text (``"0.75136079"``) or a list of them; an
    integer must match exactly. Half a unit in the last written digit is allowed.
    """
    if isinstance(stated, list):
        return (isinstance(computed, list) and len(stated) == len(computed)
                and all(agrees_as_stated(s, c) for s, c in zip(stated, computed, strict=True)))
    text = str(stated)
    try:
        value = float(text)
        got = float(computed)
    except (TypeError, ValueError):
        return False
    half_unit = 0.5 * 10.0 ** (-decimals_of(text))
    return abs(got - value) <= half_unit * (1 + 1e-9) + 1e-15


def compare(a: Any, b: Any, *, rtol: float, atol: float) -> tuple[float, bool]:
    """``(max_abs_error(a, b), allclose(a, b, ...))``, converting each side only once."""
    if _scalars(a, b):
        return max_abs_error(a, b), allclose(a, b, rtol=rtol, atol=atol)
    x, y = as_array(a), as_array(b)
    if x.shape != y.shape:
        return float("inf"), False
    if x.size == 0:
        return 0.0, True
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        same = bool(np.array_equal(x, y))
        return (0.0 if same else float("inf")), same
    diff = np.abs(x - y)
    return float(diff.max()), bool(np.all(diff <= atol + rtol * np.abs(y)))
