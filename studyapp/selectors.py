"""Reads that span models or leave the database (health checks)."""

from __future__ import annotations

import importlib
from typing import Any

from django.db import DatabaseError, connection

from studyapp import __version__
from studyapp.models import Area


def areas_for_home():
    return Area.objects.all()


def health_report() -> tuple[bool, dict[str, Any]]:
    """Check the database and the engine; return (healthy, report)."""
    report: dict[str, Any] = {"version": __version__}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        report["database"] = {"ok": True, "vendor": connection.vendor}
    except DatabaseError as exc:
        healthy = False
        report["database"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
    try:
        engine = importlib.import_module("engine")
        report["engine"] = {"ok": True, **engine.runtime_info()}
    except Exception as exc:  # noqa: BLE001 - any import failure makes the engine unhealthy
        healthy = False
        report["engine"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    report["status"] = "ok" if healthy else "error"
    return healthy, report
