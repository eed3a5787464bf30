"""The Makefile's serving command, as `make run` would run it (printed by `make -n`, not run)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def gunicorn_line(*args: str) -> str:
    out = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return next(line for line in out.splitlines() if "gunicorn -c gunicorn.conf.py" in line)


def test_run_leaves_the_worker_count_to_gunicorn_conf_unless_given():
    # gunicorn itself fails on an empty WEB_CONCURRENCY ("invalid literal for int()")
    assert "WEB_CONCURRENCY" not in gunicorn_line()
    assert "WEB_CONCURRENCY=3 " in gunicorn_line("WORKERS=3")
