"""The quiz pages and endpoints: sign-up, starting, autosave, submit, review, and access
control (someone else's attempt is a 404 on every URL that names it)."""

import random
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from studyapp import quiz
from studyapp.models import Attempt, Quiz
from studyapp.services import quizzes_load

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    return client


@pytest.fixture
def attempt(bank, ada):
    return quiz.attempt_start(user=ada, count=3, mix="numeric", time_limit=600, rng=random.Random(2))


def url(name, attempt):
    return reverse(f"studyapp:{name}", args=[attempt.pk])


def save(client, attempt, position, text, seq=1):
    return client.post(url("attempt_save", attempt), {"position": position, "text": text, "seq": seq},
                       HTTP_ACCEPT="application/json")


def test_sign_up_is_one_short_form_and_signs_in(client, db):
    page = client.get(reverse("signup"))
    assert page.status_code == 200 and b"password2" in page.content
    r = client.post(reverse("signup"), {"username": "grace", "password1": "a-Long-pass-42",
                                        "password2": "a-Long-pass-42"})
    assert r.status_code == 302 and r["Location"] == reverse("studyapp:quiz_index")
    assert client.get(reverse("studyapp:quiz_index")).context["user"].username == "grace"


def test_sign_up_errors_are_shown_not_500(client, db):
    r = client.post(reverse("signup"), {"username": "grace", "password1": "x", "password2": "y"})
    assert r.status_code == 400 and "password2" in r.context["form"].errors


def test_browsing_stays_open_but_quizzes_need_an_account(client, bank):
    quizzes_load()
    page = client.get(reverse("studyapp:quiz_index"))
    assert page.status_code == 200 and "CNN arithmetic" in page.content.decode()
    zh = client.get(reverse("studyapp:quiz_index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "CNN 尺寸与参数计算" in zh
    assert b"Start the quiz" not in page.content
    r = client.post(reverse("studyapp:quiz_start"), {"count": 3, "mix": "numeric", "minutes": 5,
                                                      "layout": "all"})
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))
    assert client.get(reverse("studyapp:question_list")).status_code == 200


def test_builder_starts_an_attempt(signed_in, bank):
    r = signed_in.post(reverse("studyapp:quiz_start"), {"areas": ["prop"], "count": 2, "mix": "numeric",
                                                         "minutes": 5, "layout": "all"})
    attempt = Attempt.objects.get()
    assert r.status_code == 302 and r["Location"] == attempt.get_absolute_url()
    assert attempt.time_limit == 300 and attempt.max_score == 2
    page = signed_in.get(r["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and 'id="timer"' in html and 'data-remaining="' in html
    assert html.count('class="card quiz-q"') == 2 and "js/quiz.js" in html


@pytest.mark.parametrize(("data", "field"), [
    ({"count": 0, "mix": "numeric", "minutes": 5, "layout": "all"}, "count"),
    ({"count": 3, "mix": "essay", "minutes": 5, "layout": "all"}, "mix"),
    ({"count": 3, "mix": "numeric", "minutes": "ten", "layout": "all"}, "minutes"),
    ({"count": 3, "mix": "numeric", "minutes": 5, "layout": "all", "areas": ["nope"]}, "areas"),
])
def test_builder_errors_are_form_errors(signed_in, bank, data, field):
    r = signed_in.post(reverse("studyapp:quiz_start"), data)
    assert r.status_code == 400 and field in r.context["builder"].errors
    assert not Attempt.objects.exists()


def test_a_preset_quiz_starts_with_its_settings(signed_in, bank):
    quizzes_load()
    Quiz.objects.filter(slug="backprop-and-losses").update(question_count=2)
    r = signed_in.post(reverse("studyapp:quiz_start"), {"quiz": "backprop-and-losses"})
    attempt = Attempt.objects.get()
    assert r.status_code == 302 and attempt.quiz.slug == "backprop-and-losses"
    assert attempt.time_limit == 1200 and attempt.max_score == 2
    assert signed_in.post(reverse("studyapp:quiz_start"), {"quiz": "nope"}).status_code == 400


def test_autosave_json_and_resume(signed_in, attempt):
    r = save(signed_in, attempt, 0, "0.5")
    body = r.json()
    assert r.status_code == 200 and body["saved"] is True and 590 < body["remaining"] <= 600
    page = signed_in.get(url("attempt", attempt)).content.decode()
    assert 'value="0.5"' in page, "reopening shows what was saved"


def test_autosave_reports_unreadable_text_without_losing_it(signed_in, attempt):
    body = save(signed_in, attempt, 0, "12 apples").json()
    assert body["saved"] and "not a number" in body["problem"]
    assert attempt.responses.get(position=0).text == "12 apples"


@pytest.mark.parametrize("data", [
    {"position": "x", "text": "1"}, {"position": 99, "text": "1"}, {"position": -1, "text": "1"},
    {"position": 0, "text": "1" * 30_000}, {"position": 0, "text": "1", "seq": "soon"},
])
def test_bad_autosaves_are_400_with_a_reason(signed_in, attempt, data):
    r = signed_in.post(url("attempt_save", attempt), data, HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and r.json()["error"]


def test_autosave_after_the_deadline_and_grace_is_409(signed_in, attempt, settings):
    settings.QUIZ_GRACE_SECONDS = 60
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=61))
    r = save(signed_in, attempt, 0, "1")
    assert r.status_code == 409 and r.json()["closed"] and "Time ran out" in r.json()["error"]


def test_opening_an_overdue_attempt_closes_it_and_shows_the_review(signed_in, attempt):
    save(signed_in, attempt, 0, "1")
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(minutes=5))
    r = signed_in.get(url("attempt", attempt))
    assert r.status_code == 302 and r["Location"] == url("attempt_review", attempt)
    attempt.refresh_from_db()
    assert attempt.status == "expired" and attempt.finished_at == attempt.deadline


def test_submit_then_review_shows_answer_band_solution_and_mistake(signed_in, attempt):
    r0 = attempt.responses.get(position=0)
    r = signed_in.post(url("attempt_submit", attempt), {"answer-0": repr(r0.expected) if not isinstance(
        r0.expected, list) else ", ".join(map(repr, r0.expected)), "answer-1": "42"})
    assert r.status_code == 302 and r["Location"] == url("attempt_review", attempt)
    review = signed_in.get(r["Location"])
    html = review.content.decode()
    assert review.status_code == 200 and "1 / 3" in html
    assert "✔ Correct" in html and "✘ Wrong" in html and "Unanswered" in html
    assert "Worked solution for your numbers" in html and 'class="band"' in html
    assert signed_in.post(url("attempt_submit", attempt), {"answer-0": "0"}).status_code == 302
    attempt.refresh_from_db()
    assert attempt.score == 1.0, "submitting twice changes nothing"


def test_submit_with_unreadable_answers_asks_first_and_keeps_them(signed_in, attempt):
    r = signed_in.post(url("attempt_submit", attempt), {"answer-0": "1,,2]"})
    assert r.status_code == 400 and "Submit anyway" in r.content.decode()
    assert attempt.responses.get(position=0).text == "1,,2]"
    r = signed_in.post(url("attempt_submit", attempt), {"answer-0": "1,,2]", "confirm": "1"})
    assert r.status_code == 302
    attempt.refresh_from_db()
    assert not attempt.is_open


def test_one_question_per_page_with_save_and_go(signed_in, attempt):
    page = signed_in.get(url("attempt", attempt) + "?layout=one&q=1").content.decode()
    assert page.count('class="card quiz-q"') == 1 and 'id="q2"' in page
    r = signed_in.post(url("attempt_save", attempt), {"position": 1, "answer-1": "0.25", "go": "2"})
    assert r.status_code == 302 and r["Location"].endswith("?layout=one&q=2")
    assert attempt.responses.get(position=1).text == "0.25"
    assert signed_in.get(url("attempt", attempt) + "?layout=one&q=x").status_code == 400


def test_history_lists_attempts_and_retake_draws_new_numbers(signed_in, attempt):
    signed_in.post(url("attempt_submit", attempt), {"confirm": "1"})
    page = signed_in.get(reverse("studyapp:quiz_index")).content.decode()
    assert "Review" in page and "0 / 3" in page
    r = signed_in.post(url("attempt_retake", attempt))
    new = Attempt.objects.exclude(pk=attempt.pk).get()
    assert r.status_code == 302 and r["Location"] == new.get_absolute_url()


@pytest.mark.parametrize(("name", "method", "data"), [
    ("attempt", "get", {}), ("attempt_review", "get", {}),
    ("attempt_save", "post", {"position": 0, "text": "1"}), ("attempt_submit", "post", {}),
    ("attempt_self_grade", "post", {"position": 0, "correct": "1"}), ("attempt_retake", "post", {}),
])
def test_someone_elses_attempt_is_404_on_every_url(client, attempt, name, method, data):
    eve = User.objects.create_user("eve", password="pw-eve-12345")
    client.force_login(eve)
    r = getattr(client, method)(url(name, attempt), data)
    assert r.status_code == 404
    assert str(attempt.pk) not in r.content.decode()
    attempt.refresh_from_db()
    assert attempt.is_open and attempt.responses.get(position=0).text == ""


def test_anonymous_visitors_are_sent_to_sign_in(client, attempt):
    r = client.get(url("attempt", attempt))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


def test_unknown_attempt_is_404(signed_in, bank):
    assert signed_in.get("/quizzes/attempts/00000000-0000-0000-0000-000000000000/").status_code == 404
