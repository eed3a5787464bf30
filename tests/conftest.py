import shutil
import uuid
import warnings
from functools import cache
from pathlib import Path

import pytest


def pytest_configure(config):
    import torch

    # The engine's tensors are tiny; extra intra-op threads only add latency spikes
    # on a loaded machine (the app does the same, see services.load_engine).
    torch.set_num_threads(1)


@cache
def _redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _test_cache(caches: dict) -> dict:
    """The configured cache under a namespace of its own; the in-memory cache, with a warning,
    when the configured Redis does not answer (the tests of cached pages and throttles need a
    cache that keeps what it is given; tests/studyapp/test_cache.py covers Redis being down)."""
    default = {**caches["default"], "KEY_PREFIX": f"t{uuid.uuid4().hex}"}
    if default["BACKEND"].endswith("RedisCache") and not _redis_reachable(default["LOCATION"]):
        warnings.warn(f"Redis at {default['LOCATION']} does not answer: the tests use the in-memory cache",
                      stacklevel=2)
        default = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                   "LOCATION": default["KEY_PREFIX"], "KEY_PREFIX": default["KEY_PREFIX"]}
    return {**caches, "default": default}


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Small, fast overrides only (as bakerydemo's settings/test.py): cheap hashing and
    static files served without a manifest, so tests need no collectstatic."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False  # the lockout tests turn it on; client.login() has no request
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    # A cache namespace of its own for every test: nothing cached leaks into the next test, and
    # parallel workers sharing one Redis never clear each other's keys.
    settings.CACHES = _test_cache(settings.CACHES)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def bank_dir(tmp_path) -> Path:
    """A small copy of the real bank (the areas and one area's questions), free to edit."""
    from studyapp.services import DEFAULT_BANK_DIR

    target = tmp_path / "bank"
    target.mkdir()
    for name in ("areas.yaml", "prop.yaml"):
        shutil.copy(DEFAULT_BANK_DIR / name, target / name)
    return target
