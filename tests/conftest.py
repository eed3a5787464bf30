import pytest


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Small, fast overrides only (as bakerydemo's settings/test.py): cheap hashing and
    static files served without a manifest, so tests need no collectstatic."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
