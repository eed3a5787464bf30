import shutil
import uuid
from pathlib import Path

import pytest


def pytest_configure(config):
    import torch

    # The engine's tensors are tiny; extra intra-op threads only add latency spikes
    # on a loaded machine (the app does the same, see services.load_engine).
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Small, fast overrides only (as bakerydemo's settings/test.py): cheap hashing and
    static files served without a manifest, so tests need no collectstatic."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False  # the lockout tests turn it on; client.login() has no request
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    # A cache namespace of its own for every test: nothing cached leaks into the next test, and
    # parallel workers sharing one Redis never clear each other's keys.
    settings.CACHES = {**settings.CACHES,
                       "default": {**settings.CACHES["default"], "KEY_PREFIX": f"t{uuid.uuid4().hex}"}}
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
