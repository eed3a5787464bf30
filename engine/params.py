"""Typed parameter declarations for engine kinds.

Each kind lists its parameters as ``Param`` objects. ``Param.clean(value)``
turns JSON input into a plain, normalised Python value (ints, floats, nested
lists) or raises ``ValueError`` naming the parameter, the bad value and the
valid range. Size limits live here so that no request can make the server
compute for long: arrays are capped at ``MAX_ELEMENTS`` elements.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_ELEMENTS = 4096  # largest array a parameter may hold
MAX_STEPS = 1000  # longest optimiser / schedule run


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Param:
    """Base declaration: a name, a default (or REQUIRED) and a help text."""

    name: str
    default: Any = REQUIRED
    help: str = ""
    type_name: str = field(default="any", init=False)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def clean(self, value: Any) -> Any:
        return value

    def error(self, message: str) -> ValueError:
        return ValueError(f"parameter '{self.name}': {message}")

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type_name, "required": self.required}
        if not self.required:
            out["default"] = self.default
        if self.help:
            out["help"] = self.help
        return out


@dataclass(frozen=True)
class Number(Param):
    """A real number within [min, max] (bounds optional; ``open_min`` excludes the lower bound)."""

    min: float | None = None
    max: float | None = None
    open_min: bool = False
    type_name: str = field(default="number", init=False)

    def _range(self) -> str:
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"{'(' if self.open_min or self.min is None else '['}{lo}, {hi}]"

    def clean(self, value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise self.error(f"expected a number, got {value!r}") from None
        if not _is_number(value):
            raise self.error(f"expected a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise self.error(f"must be finite, got {value!r}")
        too_low = self.min is not None and (
            value < self.min or (self.open_min and value == self.min)
        )
        if too_low or (self.max is not None and value > self.max):
            raise self.error(f"{value:g} is out of range; valid range is {self._range()}")
        return value

    def schema(self) -> dict[str, Any]:
        out = super().schema()
        out.update({"min": self.min, "max": self.max})
        if self.open_min:
            out["open_min"] = True
        return out


@dataclass(frozen=True)
class Integer(Param):
    """An integer within [min, max]."""

    min: int | None = None
    max: int | None = None
    type_name: str = field(default="integer", init=False)

    def clean(self, value: Any) -> int:
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(f"expected an integer, got {value!r}")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            lo = "-inf" if self.min is None else self.min
            hi = "inf" if self.max is None else self.max
            raise self.error(f"{value} is out of range; valid range is [{lo}, {hi}]")
        return value

    def schema(self) -> dict[str, Any]:
        out = super().schema()
        out.update({"min": self.min, "max": self.max})
        return out


@dataclass(frozen=True)
class Boolean(Param):
    type_name: str = field(default="boolean", init=False)

    def clean(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise self.error(f"expected true or false, got {value!r}")


@dataclass(frozen=True)
class Choice(Param):
    """One of a fixed set of strings."""

    choices: tuple[str, ...] = ()
    type_name: str = field(default="choice", init=False)

    def clean(self, value: Any) -> str:
        if value not in self.choices:
            raise self.error(f"{value!r} is not one of {', '.join(self.choices)}")
        return value

    def schema(self) -> dict[str, Any]:
        out = super().schema()
        out["choices"] = list(self.choices)
        return out


_NUMBER_TYPES = (int, float)


def _walk(value: Any, name: str, flat: list[float]) -> tuple[int, ...]:
    """Shape of a rectangular nested list of numbers, appending its elements to ``flat``.

    ValueError if it is ragged, empty or holds something other than numbers.
    """
    if type(value) in _NUMBER_TYPES:
        flat.append(value)
        return ()
    if not isinstance(value, Sequence) or isinstance(value, str):
        if _is_number(value):  # a numeric subclass (e.g. numpy float64)
            flat.append(float(value))
            return ()
        raise ValueError(f"parameter '{name}': expected numbers or nested lists, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"parameter '{name}': must not be empty")
    if all(type(v) in _NUMBER_TYPES for v in value):  # fast path: a row of plain numbers
        flat.extend(value)
        return (len(value),)
    shapes = {_walk(v, name, flat) for v in value}
    if len(shapes) != 1:
        raise ValueError(f"parameter '{name}': rows have different lengths (ragged array)")
    return (len(value), *shapes.pop())


def _rebuild(flat: list[float], shape: tuple[int, ...], convert) -> Any:
    """Nested lists of ``shape`` from the row-major ``flat`` elements."""
    if not shape:
        return convert(flat[0])
    if len(shape) == 1:
        return [convert(x) for x in flat]
    step = len(flat) // shape[0]
    return [_rebuild(flat[i * step:(i + 1) * step], shape[1:], convert) for i in range(shape[0])]


@dataclass(frozen=True)
class Array(Param):
    """A number, vector, matrix or higher tensor given as nested lists.

    ``ndim`` lists the accepted numbers of dimensions (0 = a scalar);
    ``shape`` may fix sizes (``None`` = any) for one ndim; ``min``/``max``
    bound every element; ``integer`` asks for whole numbers.
    """

    ndim: tuple[int, ...] = (1,)
    shape: tuple[int | None, ...] | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    max_elements: int = MAX_ELEMENTS
    type_name: str = field(default="array", init=False)

    def clean(self, value: Any) -> Any:
        flat: list[float] = []
        shape = _walk(value, self.name, flat)
        if len(shape) not in self.ndim:
            want = " or ".join(f"{n}-D" for n in self.ndim)
            raise self.error(f"expected a {want} array, got {len(shape)}-D with shape {list(shape)}")
        if self.shape is not None and len(shape) == len(self.shape):
            for have, want in zip(shape, self.shape, strict=True):
                if want is not None and have != want:
                    raise self.error(f"expected shape {list(self.shape)}, got {list(shape)}")
        if len(flat) > self.max_elements:
            raise self.error(f"{len(flat)} elements is too many; at most {self.max_elements}")
        lo = -math.inf if self.min is None else self.min
        hi = math.inf if self.max is None else self.max
        for x in flat:
            if not lo <= x <= hi:  # also false for NaN
                if not math.isfinite(x):
                    raise self.error(f"every element must be finite, got {x!r}")
                raise self.error(f"element {x:g} is out of range; valid range is "
                                 f"[{'-inf' if self.min is None else f'{self.min:g}'}, "
                                 f"{'inf' if self.max is None else f'{self.max:g}'}]")
            if not math.isfinite(x):
                raise self.error(f"every element must be finite, got {x!r}")
        if self.integer:
            for x in flat:
                if x != int(x):
                    raise self.error(f"every element must be an integer, got {x!r}")
        return _rebuild(flat, shape, int if self.integer else float)

    def schema(self) -> dict[str, Any]:
        out = super().schema()
        out.update({"ndim": list(self.ndim), "max_elements": self.max_elements})
        if self.shape is not None:
            out["shape"] = list(self.shape)
        if self.min is not None or self.max is not None:
            out.update({"min": self.min, "max": self.max})
        if self.integer:
            out["integer"] = True
        return out


def shape_of(value: Any) -> tuple[int, ...]:
    """Shape of an already-cleaned nested list (``()`` for a scalar)."""
    return _walk(value, "value", [])
