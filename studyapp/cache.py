"""A Redis cache that degrades instead of failing: when Redis is down or refuses commands, reads
miss and writes are dropped (logged), so pages, sessions (written through to the database) and throttles keep
working and the app recovers by itself when Redis is back."""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
# Unreachable, timing out, or refusing writes (MISCONF when it cannot persist, OOM): all degrade.
UNAVAILABLE = (RedisError, OSError)

# method -> what it returns when Redis cannot be reached
FALLBACKS = {"get": None, "get_many": {}, "set": None, "set_many": [], "add": False, "delete": False,
             "delete_many": None, "touch": False, "has_key": False, "clear": None}


def _degrading(name: str, fallback):
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            log.warning("cache unavailable (%s: %s); continuing without it", name, exc)
            if name == "get":
                return kwargs.get("default", args[1] if len(args) > 1 else None)
            return fallback() if callable(fallback) else fallback

    return wrapper


class ResilientRedisCache(RedisCache):
    """Django's RedisCache with every operation falling back when Redis is unreachable."""

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            log.warning("cache unavailable (incr: %s)", exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc


for _name, _fallback in FALLBACKS.items():
    setattr(ResilientRedisCache, _name, _degrading(_name, dict if _fallback == {} else
                                                   list if _fallback == [] else _fallback))
