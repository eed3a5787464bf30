"""The registry of kinds: every numeric answer the bank can ask for.

A kind is a class registered under an explicit name::

    @register("conv2d.output_size")
    class Conv2dOutputSize(Kind):
        '''H_out = floor((H_in + 2p - d(k-1) - 1) / s) + 1'''
        params = (Integer("in_size", min=1), ...)
        answers = (Answer("output_size", AnswerType.INTEGER),)
        def sample(self, rng): ...      # raw params from a local random.Random
        def solve(self, p, device): ... # torch, float64 -> Computed(answer, steps)
        def check(self, p): ...         # independent computation (numpy / loops / closed form)
        def misconceptions(self, p): ...# answers that common mistakes produce

Duplicates and unknown names raise ``ValueError``; ``list_kinds()`` is sorted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import torch

from engine.params import Param
from engine.trace import Step

DTYPE = torch.float64


class AnswerType(StrEnum):
    """How an answer key is compared when graded."""

    SCALAR = "scalar"  # real number, relative + absolute tolerance
    INTEGER = "integer"  # whole number, exact
    VECTOR = "vector"  # list of reals, element-wise tolerance
    TENSOR = "tensor"  # nested lists of reals, element-wise tolerance
    SHAPE = "shape"  # list of ints, exact
    OBJECT = "object"  # structured data (e.g. optimiser state), not graded directly


@dataclass(frozen=True)
class Answer:
    name: str
    type: AnswerType
    help: str = ""

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "type": str(self.type), "help": self.help}


@dataclass(frozen=True)
class Tolerance:
    """|engine - check| <= atol + rtol * |check|, element-wise."""

    rtol: float = 1e-9
    atol: float = 1e-12


@dataclass(frozen=True)
class Misconception:
    """The answer a named mistake produces, e.g. 'padding counted once'."""

    key: str
    label: str
    label_zh: str
    answer: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "label_zh": self.label_zh, "answer": self.answer}


@dataclass
class Computed:
    """What ``Kind.solve`` returns: the answer (by key) and the worked steps."""

    answer: dict[str, Any]
    steps: list[Step] = field(default_factory=list)


class Kind:
    """Base class of a registered computation. Subclasses fill the class attributes."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    title_zh: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    answers: ClassVar[tuple[Answer, ...]] = ()
    tolerance: ClassVar[Tolerance] = Tolerance()
    check_method: ClassVar[str] = ""
    conventions: ClassVar[tuple[str, ...]] = ()  # where textbooks disagree, what we do
    version: ClassVar[int] = 1  # bump when answers for the same params change

    # -- parameters ---------------------------------------------------------
    def validate(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Return cleaned params with defaults filled; ValueError names the bad parameter."""
        if not isinstance(raw, dict):
            raise ValueError(f"params for kind '{self.name}' must be a JSON object, got {raw!r}")
        known = {p.name: p for p in self.params}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ValueError(
                f"unknown parameter '{unknown[0]}' for kind '{self.name}'; "
                f"expected: {', '.join(known)}"
            )
        cleaned: dict[str, Any] = {}
        for param in self.params:
            if param.name in raw and raw[param.name] is not None:
                cleaned[param.name] = param.clean(raw[param.name])
            elif param.required:
                raise ValueError(f"parameter '{param.name}' is required for kind '{self.name}'")
            else:
                cleaned[param.name] = param.default
        self.clean(cleaned)
        return cleaned

    def clean(self, p: dict[str, Any]) -> None:
        """Cross-parameter checks; raise ValueError naming the parameter. May normalise ``p``."""

    # -- variants -----------------------------------------------------------
    def sample(self, rng: random.Random) -> dict[str, Any]:
        """Raw params of a random variant, drawn only from ``rng``, rounded as displayed."""
        raise NotImplementedError

    def is_degenerate(self, p: dict[str, Any]) -> bool:
        """True for a variant not worth asking (e.g. every value zero)."""
        return False

    # -- computation --------------------------------------------------------
    def solve(self, p: dict[str, Any], device: torch.device) -> Computed:
        raise NotImplementedError

    def check(self, p: dict[str, Any]) -> dict[str, Any]:
        """The same answer computed another way (never the same torch call)."""
        raise NotImplementedError

    def misconceptions(self, p: dict[str, Any]) -> list[Misconception]:
        return []

    def solve_batch(self, ps: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
        """Answers for many variants. Batchable kinds override this with one vectorised call."""
        return [self.solve(p, device).answer for p in ps]

    batchable: ClassVar[bool] = False

    # -- description ----------------------------------------------------------
    def schema(self) -> dict[str, Any]:
        doc = (type(self).__doc__ or "").strip()
        return {
            "kind": self.name,
            "title": self.title,
            "title_zh": self.title_zh,
            "doc": doc,
            "params": [p.schema() for p in self.params],
            "answers": [a.schema() for a in self.answers],
            "conventions": list(self.conventions),
            "check_method": self.check_method,
            "batchable": self.batchable,
            "version": self.version,
        }

    def answer_type(self, key: str) -> AnswerType:
        for a in self.answers:
            if a.name == key:
                return a.type
        raise ValueError(f"kind '{self.name}' has no answer key '{key}'; expected one of "
                         f"{', '.join(a.name for a in self.answers)}")


_REGISTRY: dict[str, Kind] = {}


def register(name: str):
    """Class decorator: register a Kind subclass under ``name`` (once)."""

    def decorator(cls: type[Kind]) -> type[Kind]:
        if name in _REGISTRY:
            raise ValueError(f"An engine kind is already registered under the name '{name}'.")
        cls.name = name
        _REGISTRY[name] = cls()
        return cls

    return decorator


def get_kind(name: str) -> Kind:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown kind {name!r}; run 'python -m engine list' to see the kinds"
        ) from None


def list_kinds() -> list[str]:
    return sorted(_REGISTRY)
