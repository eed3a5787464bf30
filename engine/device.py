"""Choosing where the engine computes: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.

The default comes from the ``ENGINE_DEVICE`` environment variable.
"""

from __future__ import annotations

import os

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str | None = None) -> torch.device:
    """Return the torch device for ``name`` (or ``$ENGINE_DEVICE``, default ``auto``)."""
    name = (name or os.environ.get("ENGINE_DEVICE") or "auto").strip().lower()
    if name.startswith("cuda:"):
        index = name.split(":", 1)[1]
        if not index.isdigit():
            raise ValueError(f"device {name!r} is not valid; use auto, cpu, cuda or cuda:N")
    elif name not in DEVICE_CHOICES:
        raise ValueError(f"device {name!r} is not valid; use auto, cpu, cuda or cuda:N")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for but no CUDA device is available")
    return torch.device(name)
