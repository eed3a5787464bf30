"""Engine versus independent check over many seeded variants of every kind.

Used by ``python -m engine verify``: any disagreement (or a kind that cannot
produce or solve its own variants) is a failure.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

from engine.api import sample
from engine.registry import list_kinds


@dataclass
class KindReport:
    kind: str
    variants: int
    passed: int
    max_abs_error: float
    seconds: float
    first_failure: str = ""

    @property
    def ok(self) -> bool:
        return self.passed == self.variants


def verify_kind(kind: str, variants: int, device: str | None = None) -> KindReport:
    """Solve seeds 0..variants-1 of ``kind`` and compare each with its check."""
    start = time.perf_counter()
    passed, worst, first_failure = 0, 0.0, ""
    for seed in range(variants):
        try:
            solution = sample(kind, seed, device)
        except Exception as exc:  # noqa: BLE001 - a crash is a failed variant, reported by seed
            first_failure = first_failure or f"seed {seed}: {type(exc).__name__}: {exc}"
            continue
        worst = max(worst, solution.verification.max_abs_error)
        if solution.verification.passed:
            passed += 1
        elif not first_failure:
            first_failure = (f"seed {seed}: engine and check disagree by "
                             f"{solution.verification.max_abs_error:.3g}")
    return KindReport(kind, variants, passed, worst, time.perf_counter() - start, first_failure)


def _verify_kind_args(args: tuple[str, int, str | None]) -> dict:
    import torch

    torch.set_num_threads(1)  # tiny tensors: threads only add overhead
    return asdict(verify_kind(*args))


def verify_all(
    variants: int, *, kinds: list[str] | None = None, jobs: int = 1, device: str | None = None
) -> list[KindReport]:
    """Verify every kind (or ``kinds``), spreading kinds over ``jobs`` processes."""
    names = kinds or list_kinds()
    tasks = [(name, variants, device) for name in names]
    if jobs <= 1 or len(names) == 1:
        return [verify_kind(*t) for t in tasks]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return [KindReport(**r) for r in pool.map(_verify_kind_args, tasks)]
