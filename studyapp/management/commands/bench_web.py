"""Web benchmark: the card page and the question list against a bare Django view, same server,
same run.

Method: gunicorn (gunicorn.conf.py, production settings) on loopback over this command's database
and cache; for each URL in turn, ``--clients`` concurrent anonymous clients (one asyncio + httpx
process, a minimal HTTP client: new connection per request, as gunicorn's sync workers close
each one) request it back to back for ``--seconds`` after a short warm-up. Reported per URL:
requests/s, p50/p99 latency, errors, and throughput as a share of the bare view's (``/ping``: a
view that returns a constant, through the whole middleware stack).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from studyapp.benchmarking import (
    ServerError,
    percentile,
    raw_get,
    start_server,
    stop_server,
    worker_memory,
)

PAGES = [("bare view", "/ping"), ("question list", "/questions/"),
         ("card", "/questions/prop-03/"), ("search", "/questions/?q=%E6%A2%AF%E5%BA%A6")]


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=50)
        parser.add_argument("--seconds", type=float, default=20.0)
        parser.add_argument("--warmup", type=float, default=3.0)
        parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
        parser.add_argument("--port", type=int, default=8062)
        parser.add_argument("--json", type=Path)

    def handle(self, *args, **opts):
        try:
            server = start_server(port=opts["port"], workers=opts["workers"])
        except ServerError as exc:
            raise CommandError(str(exc)) from exc
        try:
            rows = [asyncio.run(self.load(name, path, opts)) for name, path in PAGES]
            memory = worker_memory(server)
        finally:
            stop_server(server)
        bare = rows[0]["requests_per_s"] or 1
        for row in rows:
            row["throughput_vs_bare"] = round(row["requests_per_s"] / bare, 3)
        report = {"clients": opts["clients"], "workers": opts["workers"], "seconds": opts["seconds"],
                  "database": connection.vendor, "pages": rows,
                  "cold_start_to_first_engine_answer_s": round(server.cold_start_s, 2),
                  "worker_memory_after_load": memory}
        self.stdout.write(json.dumps(report, indent=2))
        if opts["json"]:
            opts["json"].write_text(json.dumps(report, indent=2))
        if any(row["errors"] for row in rows):
            raise CommandError("some requests failed")

    async def load(self, name: str, path: str, opts) -> dict:
        latencies: list[float] = []
        errors = 0
        start = time.perf_counter()
        measure_from = start + opts["warmup"]
        stop = measure_from + opts["seconds"]

        async def one_client():
            nonlocal errors
            while (now := time.perf_counter()) < stop:
                try:
                    ok = await raw_get(opts["port"], path, {"Accept-Language": "en"}) == 200
                except OSError:
                    ok = False
                if now >= measure_from:
                    latencies.append(time.perf_counter() - now)
                    errors += not ok

        await asyncio.gather(*(one_client() for _ in range(opts["clients"])))
        ms = lambda v: round(v * 1000, 1)  # noqa: E731
        return {"page": name, "path": path, "requests": len(latencies),
                "requests_per_s": round(len(latencies) / opts["seconds"], 1),
                "p50_ms": ms(percentile(latencies, 50)), "p99_ms": ms(percentile(latencies, 99)),
                "errors": errors}
