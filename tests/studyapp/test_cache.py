"""With Redis down, the cache misses instead of failing, and pages and sign-in keep working."""

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches

pytestmark = pytest.mark.django_db

DOWN = {"default": {"BACKEND": "studyapp.cache.ResilientRedisCache",
                    "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
                    "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}


def test_operations_fall_back_when_redis_is_unreachable(settings):
    settings.CACHES = DOWN
    cache = caches["default"]
    assert cache.get("k") is None and cache.get("k", "fallback") == "fallback"
    cache.set("k", 1)
    assert cache.add("k", 1) is False and cache.get_many(["a", "b"]) == {}
    assert cache.delete("k") is False and cache.has_key("k") is False
    with pytest.raises(ValueError):
        cache.incr("k")


def test_the_site_works_without_redis(client, settings, bank_dir):
    from studyapp.services import bank_load

    bank_load(bank_dir=bank_dir)
    settings.CACHES = DOWN
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    assert client.get("/questions/prop-03/").status_code == 200
    User.objects.create_user("ada", password="pw-ada-12345")
    r = client.post("/accounts/login/", {"username": "ada", "password": "pw-ada-12345"})
    assert r.status_code == 302
    assert client.get("/quizzes/").context["user"].username == "ada", "the session lives in the database"
