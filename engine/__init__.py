"""The computation engine: every numeric answer of the bank, computed with PyTorch,
cross-checked by an independent computation, explained step by step.

Pure Python + torch + numpy; never imports Django.

    >>> import engine
    >>> engine.solve("conv2d.output_size", {"in_size": 224, "kernel": 7, "stride": 2, "padding": 3}).answer
    {'output_size': 112}
"""

__version__ = "0.1.0"

# Importing the kind modules registers them (explicit list: no module walking).
from engine import (  # noqa: E402,F401
    kinds,
)
from engine.api import (  # noqa: E402
    Solution,
    answer_at,
    runtime_info,
    sample,
    sample_params,
    solve,
    solve_batch,
)
from engine.registry import get_kind, list_kinds  # noqa: E402

__all__ = [
    "answer_at",
    "Solution",
    "get_kind",
    "list_kinds",
    "runtime_info",
    "sample",
    "sample_params",
    "solve",
    "solve_batch",
]
