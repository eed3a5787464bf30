"""``python -m engine bench``: how fast each kind answers.

Per kind, on seeded variants:
- solve: median wall time of ``engine.solve`` (validate + torch + independent
  check + misconceptions), warm;
- check: median time of the kind's independent numpy/Python computation alone,
  the "plain closed form" baseline; the ratio solve/check says what torch,
  the trace and the verification cost on top of the bare number;
- batch: variants per second through ``solve_batch`` (one vectorised call) for
  batchable kinds, on the CPU and on ``--device`` when given, for params already
  validated (as ``sample_params`` returns them) and, on the CPU, also including
  per-variant validation of raw input.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Any, TextIO

import torch

from engine.api import runtime_info, sample_params, solve, solve_batch
from engine.registry import get_kind, list_kinds

WARMUP = 20


def _median_seconds(fn, items) -> float:
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _batch_rate(kind: str, ps: list[dict[str, Any]], device: str, validated: bool) -> float:
    solve_batch(kind, ps[:64], device)  # warm-up (allocations, CUDA context)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        solve_batch(kind, ps, device, validated=validated)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return len(ps) / best


def bench_kind(kind_name: str, repeat: int, batch_size: int, device: str | None) -> dict[str, Any]:
    kind = get_kind(kind_name)
    ps = [sample_params(kind_name, seed) for seed in range(repeat)]
    for p in ps[:WARMUP]:
        solve(kind_name, p, "cpu")
    solve_s = _median_seconds(lambda p: solve(kind_name, p, "cpu"), ps)
    check_s = _median_seconds(kind.check, ps)
    row: dict[str, Any] = {
        "kind": kind_name,
        "solve_ms": solve_s * 1e3,
        "check_ms": check_s * 1e3,
        "ratio": solve_s / check_s if check_s else float("inf"),
        "batchable": kind.batchable,
    }
    if kind.batchable:
        batch = [sample_params(kind_name, seed) for seed in range(batch_size)]
        row["batch_cpu_per_s"] = _batch_rate(kind_name, batch, "cpu", validated=True)
        row["batch_cpu_validating_per_s"] = _batch_rate(kind_name, batch, "cpu", validated=False)
        if device and device != "cpu":
            row[f"batch_{device}_per_s"] = _batch_rate(kind_name, batch, device, validated=True)
    return row


def run_bench(args: argparse.Namespace, out: TextIO) -> int:
    from engine.cli import dumps

    torch.set_num_threads(1)
    kinds = args.kinds.split(",") if args.kinds else list_kinds()
    rows = [bench_kind(k, args.repeat, args.batch_size, args.device) for k in kinds]
    info = {**runtime_info(), "machine": platform.machine(), "processor": platform.processor(),
            "torch_threads": torch.get_num_threads()}
    if args.json:
        out.write(dumps({"runtime": info, "kinds": rows}) + "\n")
        return 0
    gpu_col = f"batch_{args.device}_per_s" if args.device and args.device != "cpu" else None
    if args.markdown:
        head = ("| kind | solve median (ms) | numpy check (ms) | ratio | batched CPU (variants/s) "
                "| batched CPU incl. validation (variants/s) |")
        sep = "|---|---:|---:|---:|---:|---:|"
        if gpu_col:
            head += f" batched {args.device} (variants/s) |"
            sep += "---:|"
        out.write(head + "\n" + sep + "\n")
        for r in rows:
            line = (f"| `{r['kind']}` | {r['solve_ms']:.3f} | {r['check_ms']:.3f} | {r['ratio']:.1f} | "
                    f"{_rate(r.get('batch_cpu_per_s'))} | {_rate(r.get('batch_cpu_validating_per_s'))} |")
            if gpu_col:
                line += f" {_rate(r.get(gpu_col))} |"
            out.write(line + "\n")
        return 0
    out.write(f"{'kind':32} {'solve ms':>9} {'check ms':>9} {'ratio':>6} {'batch/s CPU':>12}"
              + (f" {'batch/s ' + args.device:>14}" if gpu_col else "") + "\n")
    for r in rows:
        out.write(f"{r['kind']:32} {r['solve_ms']:9.3f} {r['check_ms']:9.3f} {r['ratio']:6.1f} "
                  f"{_rate(r.get('batch_cpu_per_s')):>12}"
                  + (f" {_rate(r.get(gpu_col)):>14}" if gpu_col else "") + "\n")
    slow = [r["kind"] for r in rows if r["solve_ms"] > 1.0]
    out.write(f"{len(rows)} kinds; over 1 ms median: {', '.join(slow) or 'none'}\n")
    return 0


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"
