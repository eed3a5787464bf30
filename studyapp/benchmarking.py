"""Shared by the load benchmarks (``bench_web``, ``bench_exam``): the production server on
loopback, and percentiles. Traffic only ever goes to 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from django.conf import settings


class ServerError(RuntimeError):
    pass


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_server(*, port: int, workers: int) -> subprocess.Popen:
    """gunicorn with gunicorn.conf.py (preloaded engine) over this process's database and cache;
    returns once /healthz answers 200."""
    import httpx
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # the manifest pages need
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(workers),
           "DEBUG": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
           "SECURE_HSTS_SECONDS": "0", "SECRET_KEY": settings.SECRET_KEY}
    log = tempfile.TemporaryFile()  # never a pipe: an unread pipe fills up and stalls the server
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=log)
    server.log = log
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                answer = httpx.post(f"http://127.0.0.1:{port}/api/engine/softmax/solve/",
                                    json={"params": {"logits": [1.0, 2.0, 3.0]}}, timeout=30)
                answer.raise_for_status()
                server.cold_start_s = time.perf_counter() - started  # launch to first engine answer
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise ServerError("gunicorn did not start: " + server_log(server)[-2000:])
        time.sleep(0.2)
    stop_server(server)
    raise ServerError("gunicorn did not answer /healthz within a minute")


def worker_memory(server: subprocess.Popen) -> list[dict[str, float]]:
    """Per gunicorn worker: resident (RSS), proportional (PSS: shared pages split between the
    processes sharing them) and unique (USS) memory in MB, from /proc/<pid>/smaps_rollup."""
    from pathlib import Path

    rows = []
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    for pid in children:
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024
        rows.append({"pid": int(pid), "rss_mb": round(fields["Rss"], 1), "pss_mb": round(fields["Pss"], 1),
                     "uss_mb": round(fields["Private_Clean"] + fields["Private_Dirty"], 1)})
    return rows


def server_log(server: subprocess.Popen) -> str:
    server.log.seek(0)
    return server.log.read().decode(errors="replace")


def stop_server(server: subprocess.Popen) -> None:
    """Graceful stop (SIGTERM), then SIGKILL if the workers linger."""
    server.terminate()
    try:
        server.wait(35)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)


async def raw_get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    """GET over a fresh loopback connection; returns the status code after reading the whole
    response. A few lines of asyncio instead of an HTTP library: the load generator shares the
    machine with the server, so its own cost per request must stay small."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        response = await reader.read()
    finally:
        writer.close()
    status = response.split(b"\r\n", 1)[0].split(b" ")
    return int(status[1]) if len(status) > 1 and status[1].isdigit() else 0
