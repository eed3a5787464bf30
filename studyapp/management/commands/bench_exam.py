"""Exam load benchmark: many quiz takers start attempts and autosave against a real server.

Method: a gunicorn server (gunicorn.conf.py, the production set-up) runs on loopback over
this command's database; ``--users`` signed-in users (sessions made in the database, so
password hashing is not what is measured) start a quiz within the ramp-up and then save an
answer every ``--interval`` seconds (jittered ±50 %) for ``--duration`` seconds, from one
asyncio process with httpx. Every acknowledged save is remembered; afterwards the database
must hold, for every answer, the last text the server acknowledged. Reported: latency
percentiles of starts and autosaves (all of them, and "steady": those sent after every
taker has started), errors, and lost answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import statistics
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string

from studyapp.benchmarking import ServerError, percentile, start_server, stop_server
from studyapp.models import Attempt, Response

PREFIX = "bench-exam-"


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=500)
        parser.add_argument("--duration", type=float, default=60.0, help="seconds of autosaving")
        parser.add_argument("--interval", type=float, default=3.0, help="mean seconds between saves")
        parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which users start")
        parser.add_argument("--questions", type=int, default=5)
        parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
        parser.add_argument("--port", type=int, default=8061)
        parser.add_argument("--json", type=Path, help="write the figures here too")
        parser.add_argument("--faults", action="store_true",
                            help="during the run: kill a worker, restart PostgreSQL, stop and "
                                 "restart Redis; every acknowledged answer must survive")
        parser.add_argument("--pg-restart", default="pg_ctlcluster 15 main restart")
        parser.add_argument("--redis-stop", default="redis-cli -p 6379 shutdown nosave")
        parser.add_argument("--redis-start", default="service redis-server start")
        parser.add_argument("--allow-sqlite", action="store_true",
                            help="run on SQLite (figures are not comparable)")

    def handle(self, *args, **opts):
        logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
        if connection.vendor != "postgresql" and not opts["allow_sqlite"]:
            raise CommandError("the exam benchmark runs on PostgreSQL: set DATABASE_URL "
                               "(or pass --allow-sqlite for a smoke run)")
        cookies = self.prepare_users(opts["users"])
        try:
            server = start_server(port=opts["port"], workers=opts["workers"])
        except ServerError as exc:
            raise CommandError(str(exc)) from exc
        try:
            results = asyncio.run(self.simulate(cookies, opts, server))
            healthy = self.healthy(opts["port"])
        finally:
            stop_server(server)
        connection.close()  # this process's connection predates any PostgreSQL restart
        lost = self.check_saved(results["acked"])
        report = {**self.report(results, lost, opts), "healthy_after": healthy}
        self.stdout.write(json.dumps(report, indent=2))
        if opts["json"]:
            opts["json"].write_text(json.dumps(report, indent=2))
        if lost or (report["errors"] and not opts["faults"]) or report["errors_15s_after_last_fault"]:
            raise CommandError(f"{report['errors']} errors, {lost} lost answers")
        if not healthy:
            raise CommandError("the app did not recover")

    # -- set-up -------------------------------------------------------------------------

    def prepare_users(self, n: int) -> list[str]:
        """``n`` fresh users with a signed-in session each; returns their Cookie headers."""
        old = User.objects.filter(username__startswith=PREFIX)
        Attempt.objects.filter(user__in=old).delete()
        old.delete()
        users = User.objects.bulk_create(
            [User(username=f"{PREFIX}{i:04d}", password="!") for i in range(n)])
        users = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
        cookies = []
        for user in users:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            csrf = _get_new_csrf_string()
            cookies.append((f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
                            f"{settings.CSRF_COOKIE_NAME}={csrf}", csrf))
        return cookies

    # -- the simulated exam ----------------------------------------------------------------------

    async def simulate(self, cookies, opts, server=None) -> dict:
        import httpx

        base = f"http://127.0.0.1:{opts['port']}"
        starts: list[float] = []
        started_at: list[float] = []
        saves: list[tuple[float, float]] = []  # (sent at, latency)
        errors: list[tuple[float, str]] = []  # (when, what)
        events: list[tuple[float, str]] = []
        acked: dict[tuple[str, int], str] = {}
        limits = httpx.Limits(max_connections=opts["users"], max_keepalive_connections=opts["users"])
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            t_start = time.perf_counter()
            t_end = t_start + opts["ramp"] + opts["duration"]

            async def taker(i: int, cookie: str, csrf: str):
                rng = random.Random(i)
                await asyncio.sleep(rng.uniform(0, opts["ramp"]))
                headers = {"Cookie": cookie, "X-CSRFToken": csrf, "Referer": base + "/quizzes/"}
                r = None
                while r is None or r.status_code != 302:  # like a person pressing Start again
                    if time.perf_counter() > t_end:
                        return
                    t0 = time.perf_counter()
                    try:
                        r = await client.post("/quizzes/start/", headers=headers, data={
                            "count": opts["questions"], "mix": "numeric", "minutes": 120, "layout": "all"})
                    except httpx.HTTPError as exc:
                        errors.append((t0, f"start: {exc!r}"))
                        await asyncio.sleep(1)
                        continue
                    if r.status_code != 302:
                        errors.append((t0, f"start: HTTP {r.status_code}"))
                        await asyncio.sleep(1)
                starts.append(time.perf_counter() - t0)
                started_at.append(time.perf_counter())
                save_url = r.headers["location"] + "save/"
                attempt_id = r.headers["location"].rstrip("/").rsplit("/", 1)[-1]
                seq = 0
                while True:
                    await asyncio.sleep(opts["interval"] * rng.uniform(0.5, 1.5))
                    if time.perf_counter() > t_end:
                        return
                    seq += 1
                    position = rng.randrange(opts["questions"])
                    text = f"{i}.{seq}"
                    while time.perf_counter() < t_end + 30:  # retried until acknowledged, as quiz.js does
                        t0 = time.perf_counter()
                        try:
                            r = await client.post(save_url, data={"position": position, "text": text,
                                                                   "seq": seq},
                                                  headers={**headers, "Accept": "application/json"})
                        except httpx.HTTPError as exc:
                            errors.append((t0, f"save: {exc!r}"))
                            await asyncio.sleep(1)
                            continue
                        saves.append((t0, time.perf_counter() - t0))
                        if r.status_code == 200 and r.json().get("saved"):
                            acked[(attempt_id, position)] = text
                            break
                        errors.append((t0, f"save: HTTP {r.status_code} {r.text[:120]}"))
                        await asyncio.sleep(1)

            async def faults():
                """Kill a worker, restart PostgreSQL, stop and restart Redis, spread over the run."""
                plan = [(0.2, "kill a gunicorn worker", lambda: self.kill_worker(server)),
                        (0.45, "restart PostgreSQL", lambda: self.shell(opts["pg_restart"])),
                        (0.65, "stop Redis", lambda: self.shell(opts["redis_stop"])),
                        (0.8, "start Redis", lambda: self.shell(opts["redis_start"]))]
                for fraction, name, action in plan:
                    at = t_start + opts["ramp"] + fraction * opts["duration"]
                    await asyncio.sleep(max(0.0, at - time.perf_counter()))
                    events.append((time.perf_counter() - t_start, name))
                    await asyncio.to_thread(action)

            jobs = [taker(i, c, t) for i, (c, t) in enumerate(cookies)]
            if opts["faults"]:
                jobs.append(faults())
            await asyncio.gather(*jobs)
        all_started = max(started_at, default=0.0)
        last_fault = max((t for t, _ in events), default=0.0) + t_start
        return {"starts": starts, "saves": [lat for _, lat in saves],
                "steady": [lat for sent, lat in saves if sent > all_started],
                "errors": [what for _, what in errors],
                "errors_after_recovery": sum(when > last_fault + 15 for when, _ in errors),
                "events": [f"{t:.1f}s {name}" for t, name in events], "acked": acked}

    @staticmethod
    def healthy(port: int) -> bool:
        """/healthz answers 200 and the app takes requests again, within 30 s."""
        import httpx

        for _ in range(60):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        return False

    @staticmethod
    def kill_worker(server) -> None:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        if children:
            os.kill(int(children[0]), signal.SIGKILL)

    @staticmethod
    def shell(command: str) -> None:
        subprocess.run(command, shell=True, check=False, capture_output=True, timeout=120)

    def check_saved(self, acked: dict[tuple[str, int], str]) -> int:
        """How many acknowledged answers the database does not hold (must be 0)."""
        stored = {(str(a), p): t for a, p, t in Response.objects.filter(
            attempt__user__username__startswith=PREFIX).values_list("attempt_id", "position", "text")}
        return sum(stored.get(key) != text for key, text in acked.items())

    def report(self, results, lost: int, opts) -> dict:
        ms = lambda v: round(v * 1000, 1)  # noqa: E731
        saves, starts = results["saves"], results["starts"]
        span = opts["duration"]
        return {
            "users": opts["users"], "workers": opts["workers"], "duration_s": span,
            "interval_s": opts["interval"], "database": connection.vendor,
            "starts": len(starts), "start_p50_ms": ms(percentile(starts, 50)),
            "start_p99_ms": ms(percentile(starts, 99)),
            "autosaves": len(saves), "autosaves_per_s": round(len(saves) / span, 1),
            "autosave_p50_ms": ms(percentile(saves, 50)), "autosave_p99_ms": ms(percentile(saves, 99)),
            "autosave_max_ms": ms(max(saves)) if saves else None,
            "autosave_mean_ms": ms(statistics.fmean(saves)) if saves else None,
            "steady_autosaves": len(results["steady"]),
            "steady_autosave_p50_ms": ms(percentile(results["steady"], 50)),
            "steady_autosave_p99_ms": ms(percentile(results["steady"], 99)),
            "errors": len(results["errors"]), "first_errors": results["errors"][:5],
            "faults": results["events"], "errors_15s_after_last_fault": results["errors_after_recovery"],
            "acknowledged_answers": len(results["acked"]), "lost_answers": lost,
        }
