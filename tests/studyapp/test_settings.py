"""Settings come from the environment, with safe defaults; production settings pass
``check --deploy``; Django's own commands never import torch."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A developer's local .env (``make run`` writes one) must not leak into these checks.
NO_ENV_FILE = {"ENV_FILE": "/nonexistent/.env", "DJANGO_SETTINGS_MODULE": "studyapp.settings"}
# Every variable settings.py reads; the test process may carry some (e.g. from a .env).
SETTINGS_VARS = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS",
                 "CSRF_TRUSTED_ORIGINS", "ENGINE_DEVICE", "ENGINE_THREADS", "SESSION_COOKIE_SECURE",
                 "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
                 "BEHIND_TLS_PROXY", "CONN_MAX_AGE", "TIME_ZONE", "LOG_LEVEL",
                 # set for the browser tests in the same process; never in a deployment
                 "DJANGO_ALLOW_ASYNC_UNSAFE"}


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    base = clean_environ()
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**base, **NO_ENV_FILE, **env}, timeout=120)


SHOW = ("import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.DEBUG, "
        "s.ENGINE_DEVICE, s.SESSION_COOKIE_SECURE)")


def test_defaults_are_sqlite_locmem_and_safe():
    proc = run_python(SHOW)
    assert proc.stdout.split() == ["django.db.backends.sqlite3",
                                   "django.core.cache.backends.locmem.LocMemCache",
                                   "False", "auto", "True"]


def test_database_and_redis_urls_are_honoured():
    proc = run_python(SHOW, DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
                      REDIS_URL="redis://127.0.0.1:6379/0", DEBUG="1", ENGINE_DEVICE="cpu")
    assert proc.stdout.split() == ["django.db.backends.postgresql",
                                   "studyapp.cache.ResilientRedisCache",
                                   "True", "cpu", "False"]


def test_bad_engine_device_is_refused_with_a_reason():
    proc = run_python(SHOW, ENGINE_DEVICE="tpu")
    assert proc.returncode != 0
    assert "ENGINE_DEVICE must be one of auto, cpu, cuda; got 'tpu'" in proc.stderr


def test_check_deploy_is_clean_with_production_settings():
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**clean_environ(), **NO_ENV_FILE, "DEBUG": "0", "SECRET_KEY": "x" * 20 + "-production-secret-" + "y" * 30,
             "SECURE_SSL_REDIRECT": "1", "ALLOWED_HOSTS": "study.example.org"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_management_commands_do_not_import_torch():
    proc = run_python(
        "import sys, django; django.setup(); from django.core.management import call_command; "
        "call_command('check'); call_command('showmigrations', stdout=open('/dev/null', 'w')); "
        "print('torch' in sys.modules)"
    )
    assert proc.stdout.strip().splitlines()[-1] == "False", proc.stderr


@pytest.mark.parametrize("name", ["studyapp.wsgi", "studyapp.asgi"])
def test_entry_points_load_without_torch(name):
    proc = run_python(f"import sys, {name}; print('torch' in sys.modules)")
    assert proc.stdout.strip() == "False", proc.stderr
