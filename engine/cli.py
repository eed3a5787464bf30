"""Command line: ``python -m engine list|solve|sample|verify|bench``.

Every command prints JSON (or a table) on stdout. Bad input exits with
status 2 and one line on stderr naming the bad parameter, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Any, TextIO

import torch

from engine.api import sample, solve
from engine.registry import get_kind, list_kinds

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input on the command line; the message is printed as one line."""


def _finite(value: Any) -> Any:
    """JSON has no inf/NaN: write them as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_finite(value), ensure_ascii=False, allow_nan=False)


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{what} is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        ) from None


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    schemas = [get_kind(name).schema() for name in list_kinds()]
    if args.json:
        out.write(dumps(schemas) + "\n")
        return 0
    for s in schemas:
        params = ", ".join(p["name"] + ("" if p["required"] else "=" + json.dumps(p["default"]))
                           for p in s["params"])
        answers = ", ".join(a["name"] for a in s["answers"])
        out.write(f"{s['kind']}\n    {s['title']} / {s['title_zh']}\n"
                  f"    params:  {params}\n    answers: {answers}\n")
    return 0


def _solve_line(line: str, device: str | None) -> dict[str, Any]:
    item = _parse_json(line, "line")
    if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
        raise ValueError('each line must be an object like {"kind": "...", "params": {...}}')
    return solve(item["kind"], item.get("params") or {}, device).to_dict()


def cmd_solve(args: argparse.Namespace, out: TextIO) -> int:
    if args.batch is not None:
        if args.kind or args.params:
            raise UsageError("give either --batch FILE or KIND --params JSON, not both")
        source = sys.stdin if args.batch == "-" else _open(args.batch)
        for line in source:
            if not line.strip():
                continue
            try:
                result = _solve_line(line, args.device)
            except (ValueError, UsageError) as exc:
                result = {"error": str(exc)}
            out.write(dumps(result) + "\n")
        return 0
    if not args.kind:
        raise UsageError("solve needs a KIND (or --batch FILE)")
    params = _parse_json(args.params, "--params") if args.params else {}
    out.write(dumps(solve(args.kind, params, args.device).to_dict()) + "\n")
    return 0


def _open(path: str) -> TextIO:
    try:
        return open(path, encoding="utf-8")  # noqa: SIM115 - read line by line by the caller
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def cmd_sample(args: argparse.Namespace, out: TextIO) -> int:
    out.write(dumps(sample(args.kind, args.seed, args.device).to_dict()) + "\n")
    return 0


def cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    from engine.verify import verify_all

    kinds = args.kinds.split(",") if args.kinds else None
    for name in kinds or []:
        get_kind(name)
    start = time.perf_counter()
    reports = verify_all(args.variants, kinds=kinds, jobs=args.jobs, device=args.device)
    elapsed = time.perf_counter() - start
    failed = [r for r in reports if not r.ok]
    if args.json:
        out.write(dumps({"variants": args.variants, "seconds": elapsed,
                         "kinds": [r.__dict__ for r in reports], "failed": len(failed)}) + "\n")
    else:
        out.write(f"{'kind':32} {'variants':>8} {'passed':>8} {'max |err|':>10} {'seconds':>8}\n")
        for r in reports:
            out.write(f"{r.kind:32} {r.variants:8d} {r.passed:8d} {r.max_abs_error:10.2e} "
                      f"{r.seconds:8.2f}  {'ok' if r.ok else 'FAIL ' + r.first_failure}\n")
        out.write(f"{len(reports)} kinds, {len(reports) * args.variants} variants, "
                  f"{len(failed)} failed, {elapsed:.1f} s\n")
    return 1 if failed else 0


def cmd_bench(args: argparse.Namespace, out: TextIO) -> int:
    from engine.bench import run_bench

    return run_bench(args, out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="kinds with their parameter schema and answer keys")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("solve", help="solve one variant (or JSON Lines with --batch)")
    p.add_argument("kind", nargs="?")
    p.add_argument("--params", help="params as a JSON object")
    p.add_argument("--batch", metavar="FILE", help='JSON Lines of {"kind", "params"}; - for stdin')
    p.add_argument("--device", help="auto, cpu or cuda (default: $ENGINE_DEVICE or auto)")
    p.set_defaults(func=cmd_solve)

    p = sub.add_parser("sample", help="a seeded variant's params and solution")
    p.add_argument("kind")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--device")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("verify", help="engine vs independent check on N seeded variants per kind")
    p.add_argument("--variants", type=int, default=100)
    p.add_argument("--kinds", help="comma-separated kinds (default: all)")
    p.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1))
    p.add_argument("--device")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("bench", help="solve times, ratio to numpy, batched throughput")
    p.add_argument("--repeat", type=int, default=200, help="variants timed per kind")
    p.add_argument("--batch-size", type=int, default=10_000)
    p.add_argument("--device", help="also time solve_batch on this device (e.g. cuda)")
    p.add_argument("--kinds", help="comma-separated kinds (default: all)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--markdown", action="store_true", help="a Markdown table for docs/benchmarks.md")
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    torch.set_num_threads(1)  # the engine's tensors are tiny: extra threads only add latency
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse itself exits 2 with a usage line
    if getattr(args, "seed", 0) is not None and getattr(args, "seed", 0) < 0:
        print("error: --seed must be a non-negative integer", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.func(args, out)
    except (ValueError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. piped into head
        return 0
