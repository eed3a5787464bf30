"""The home page and /healthz."""

from unittest import mock

import pytest
from django.db import DatabaseError
from django.urls import reverse

from studyapp import __version__
from studyapp.services import bank_load

pytestmark = pytest.mark.django_db


def test_home_lists_the_areas_in_chinese_by_default(client):
    bank_load()
    response = client.get(reverse("studyapp:home"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "卷积神经网络" in content and 'lang="zh-hans"' in content


def test_home_in_english(client):
    bank_load()
    response = client.get(reverse("studyapp:home"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Convolutional networks" in response.content.decode()


def test_home_says_when_the_bank_is_empty(client):
    response = client.get(reverse("studyapp:home"), HTTP_ACCEPT_LANGUAGE="en")
    assert "load_bank" in response.content.decode()


def test_home_query_count(client, django_assert_num_queries):
    bank_load()
    with django_assert_num_queries(2):  # the bank stamp and the areas
        client.get(reverse("studyapp:home"))
    with django_assert_num_queries(0):  # then the stored page, under the cached stamp
        client.get(reverse("studyapp:home"))


def test_language_switch_sets_the_cookie(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


def test_healthz_reports_database_engine_and_version(client):
    response = client.get(reverse("studyapp:healthz"))
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok" and data["version"] == __version__
    assert data["database"]["ok"] is True
    assert data["engine"]["ok"] is True and data["engine"]["torch"].startswith("2.13.0")
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_when_the_database_is_down(client):
    with mock.patch("studyapp.selectors.connection") as conn:
        conn.cursor.side_effect = DatabaseError("connection refused")
        response = client.get(reverse("studyapp:healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "connection refused"}


def test_healthz_is_503_when_the_engine_cannot_be_imported(client):
    with mock.patch("studyapp.selectors.importlib.import_module", side_effect=ImportError("no torch")):
        response = client.get(reverse("studyapp:healthz"))
    assert response.status_code == 503
    assert response.json()["engine"] == {"ok": False, "error": "ImportError: no torch"}


def test_healthz_only_answers_get(client):
    assert client.post(reverse("studyapp:healthz")).status_code == 405


@pytest.mark.parametrize("name", ["studyapp:home", "studyapp:question_list", "studyapp:engine_index"])
def test_pages_send_a_strict_content_security_policy(client, name):
    policy = client.get(reverse(name))["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


def test_ping_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/ping")
    assert response.status_code == 200 and response.content == b"pong"


def test_a_database_outage_is_a_503_with_retry_after(client, monkeypatch):
    from django.db import OperationalError

    from studyapp import selectors

    def down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "question_list", down)
    response = client.get("/questions/")
    assert response.status_code == 503 and response["Retry-After"] == "2"
    api = client.get("/api/questions/")
    assert api.status_code == 503 and "detail" in api.json()
