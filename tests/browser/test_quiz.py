"""Taking a short timed quiz in a real browser: sign in, start, answers autosave as they are
typed, a reload resumes them, the one-minute warning shows, and the page submits itself
when the server's time is up."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from studyapp.models import Attempt, Quiz

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username="ada", password="pw-ada-12345"):
    User.objects.create_user(username, password=password)
    page.goto(f"{page.base}/accounts/login/?next=/quizzes/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{page.base}/quizzes/")


def test_timed_quiz_autosaves_resumes_warns_and_submits_itself(page):
    quiz = Quiz.objects.create(slug="blitz", title_zh="闪电测验", title_en="Blitz", question_count=2,
                               mix="numeric", time_limit=12)
    sign_in(page)
    page.click(f"form:has(input[value='{quiz.slug}']) button")
    page.wait_for_selector("#timer")
    attempt = Attempt.objects.get()
    assert page.locator(".quiz-q").count() == 2
    # the deferred script shows it on its first tick, which may come after #timer is attached
    expect(page.locator("#time-warning"), "under a minute left from the start").to_be_visible()

    first = attempt.responses.get(position=0)
    answer = ", ".join(map(repr, first.expected)) if isinstance(first.expected, list) else repr(first.expected)
    page.fill("#answer-0", answer)
    expect(page.locator("#save-state")).to_contain_text("Saved")
    assert attempt.responses.get(position=0).text == answer, "saved on the server while typing"

    page.fill("#answer-1", "12 apples")
    expect(page.locator("#problem-1")).to_contain_text("not a number")

    page.reload()  # a closed tab or a reload resumes with what was saved and the time left
    assert page.input_value("#answer-0") == answer
    left = float(page.locator("#timer").get_attribute("data-remaining"))
    assert 0 < left < 12

    page.wait_for_url(f"{page.base}/quizzes/attempts/{attempt.pk}/review/", timeout=30_000)
    attempt.refresh_from_db()
    assert attempt.status == "submitted" and attempt.score == 1.0
    assert attempt.finished_at <= attempt.deadline
    text = page.locator("#score").inner_text()
    assert text.startswith("1 / 2")
    assert page.locator(".review-q.status-correct").count() == 1
    assert page.console_errors == []


def test_screenshot_of_a_quiz_review(page, screenshot_dir):
    """Writes docs/screenshots/quiz-review.png when SCREENSHOT_DIR is set (make screenshot)."""
    import random

    from studyapp import quiz

    sign_in(page)
    user = User.objects.get(username="ada")
    attempt = quiz.attempt_start(user=user, count=3, mix="numeric", time_limit=900, rng=random.Random(7))
    first, second = attempt.responses.order_by("position")[:2]
    right = ", ".join(map(repr, first.expected)) if isinstance(first.expected, list) else f"{first.expected:.4g}"
    quiz.attempt_submit(attempt_id=attempt.pk, user=user, confirm=True,
                        answers={0: right, 1: "0.5"})
    page.set_viewport_size({"width": 1100, "height": 1400})
    page.goto(f"{page.base}/quizzes/attempts/{attempt.pk}/review/")
    page.wait_for_selector(".katex")
    page.screenshot(path=str(screenshot_dir / "quiz-review.png"), full_page=False)


def test_an_answer_typed_after_the_session_expired_is_kept_and_sent_after_signing_in(page):
    Quiz.objects.create(slug="long", title_zh="长测验", title_en="Long", question_count=1,
                        mix="numeric", time_limit=600)
    sign_in(page)
    page.click("form:has(input[value='long']) button")
    page.wait_for_selector("#timer")
    attempt = Attempt.objects.get()
    url = page.url
    page.context.clear_cookies()  # the session is gone (expired, or signed out elsewhere)
    page.fill("#answer-0", "0.125")
    expect(page.locator("#save-state")).to_contain_text("Signed out")
    assert attempt.responses.get().text == "", "nothing reached the server"

    page.goto(f"{page.base}/accounts/login/?next=/quizzes/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "pw-ada-12345")
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{page.base}/quizzes/")
    page.goto(url)  # the page puts back what was typed and sends it
    expect(page.locator("#save-state")).to_contain_text("Saved")
    assert page.input_value("#answer-0") == "0.125"
    assert attempt.responses.get().text == "0.125"
