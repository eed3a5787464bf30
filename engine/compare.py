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


Flat = tuple[tuple[int, ...], list[float]]


def _flat(value: Any) -> Flat | None:
    """Shape and row-major elements of a number or nested list of plain numbers.

    None when ``value`` is anything else (numpy arrays, ragged lists): numpy handles those.
    Small answers are the common case, and plain Python is faster than numpy for them.
    """
    if type(value) in (int, float):
        return (), [value]
    if type(value) is not list:
        return None
    if all(type(v) in (int, float) for v in value):
        return (len(value),), value
    parts = [_flat(v) for v in value]
    if not parts or any(p is None for p in parts):
        return None
    shapes = {p[0] for p in parts}  # type: ignore[index]
    if len(shapes) != 1:
        return None
    return (len(value), *shapes.pop()), [x for p in parts for x in p[1]]  # type: ignore[index]


def _flatten_pair(a: Any, b: Any) -> tuple[Flat, Flat]:
    fa, fb = _flat(a), _flat(b)
    if fa is None or fb is None:
        x, y = as_array(a), as_array(b)
        fa, fb = (x.shape, x.ravel().tolist()), (y.shape, y.ravel().tolist())
    return fa, fb


def compare(a: Any, b: Any, *, rtol: float, atol: float) -> tuple[float, bool]:
    """``(largest |a - b|, whether a agrees with the reference b)``, element-wise.

    Different shapes never agree (error inf); non-finite elements must be equal.
    """
    (shape_a, xs), (shape_b, ys) = _flatten_pair(a, b)
    if shape_a != shape_b:
        return float("inf"), False
    worst, ok = 0.0, True
    for x, y in zip(xs, ys, strict=True):
        if not (math.isfinite(x) and math.isfinite(y)):
            if x != y:
                return float("inf"), False
            continue
        diff = abs(x - y)
        worst = max(worst, diff)
        ok = ok and diff <= atol + rtol * abs(y)
    return worst, ok


def max_abs_error(a: Any, b: Any) -> float:
    """Largest element-wise |a - b|; inf if the shapes differ."""
    return compare(a, b, rtol=0.0, atol=0.0)[0]


def allclose(a: Any, b: Any, *, rtol: float, atol: float) -> bool:
    """True when ``a`` matches the reference ``b`` element-wise within tolerance."""
    return compare(a, b, rtol=rtol, atol=atol)[1]


def exact(a: Any, b: Any) -> bool:
    """Exact equality of integers or shapes (floats that are whole numbers count)."""
    (shape_a, xs), (shape_b, ys) = _flatten_pair(a, b)
    return shape_a == shape_b and xs == ys


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

