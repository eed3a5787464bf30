"""Step traces: the worked solution as data, not formatted text.

A kind records each step with an English and a Chinese label, the formula
in LaTeX using the same symbols as the kind's docstring, and the values it
produced. Values are plain JSON (numbers, nested lists); tensors are
converted on the way in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

_ATOMS = (int, float, str, bool, type(None))


def plain(value: Any) -> Any:
    """Convert tensors, numpy arrays and tuples to JSON-ready Python values."""
    if type(value) in _ATOMS:
        return value
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.item() if value.ndim == 0 else value.tolist()
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):  # numpy array / scalar
        return value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if all(type(v) in _ATOMS for v in value):
            return list(value)
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class Step:
    """One line of a worked solution."""

    label: str
    label_zh: str
    formula: str
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Trace:
    """Collects the steps of one solve, in order."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def step(self, label: str, label_zh: str, formula: str, **values: Any) -> None:
        self.steps.append(Step(label, label_zh, formula, {k: plain(v) for k, v in values.items()}))
