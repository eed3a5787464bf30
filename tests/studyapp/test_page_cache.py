"""Stored anonymous pages: the shared cache plus a bounded copy in each process's memory."""

import uuid

import pytest
from django.core.cache import cache

from studyapp import page_cache


@pytest.fixture
def page():
    return {"content": b"<p>hello</p>", "type": "text/html; charset=utf-8", "status": 200}


def test_a_stored_page_is_kept_in_memory_in_front_of_the_shared_cache(page):
    page_cache.page_set("page:a", page)
    assert cache.get("page:a") == page
    cache.delete("page:a")
    assert page_cache.page_get("page:a") == page, "served from this process's memory"


def test_a_page_from_the_shared_cache_is_remembered(page):
    cache.set("page:b", page)  # stored by another process
    assert page_cache.page_get("page:b") == page
    cache.delete("page:b")
    assert page_cache.page_get("page:b") == page
    assert page_cache.page_get("page:missing") is None


def test_memory_keeps_only_the_most_recently_used_pages(page, monkeypatch):
    monkeypatch.setattr(page_cache, "PAGES_IN_MEMORY", 2)
    for key in ("page:1", "page:2"):
        page_cache.page_set(key, page)
    page_cache.page_get("page:1")  # used: page:2 is now the oldest
    page_cache.page_set("page:3", page)
    cache.delete_many(["page:1", "page:2", "page:3"])  # only memory is left
    assert page_cache.page_get("page:1") == page and page_cache.page_get("page:3") == page
    assert page_cache.page_get("page:2") is None
    assert len(page_cache._pages) <= 2


def test_memory_follows_the_shared_cache_namespace(page, settings):
    page_cache.page_set("page:c", page)
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"other-{uuid.uuid4().hex}"}}
    assert page_cache.page_get("page:c") is None
