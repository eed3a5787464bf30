"""A review session in a real browser, by keyboard only: reveal or check, rate, undo."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_quiz import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_flashcards_by_keyboard(page):
    from studyapp.models import Question, Review

    Question.objects.exclude(slug="prop-01").update(status="draft")  # one conceptual-looking card
    sign_in(page)
    page.goto(f"{page.base}/study/review/")
    page.wait_for_selector("#flashcard")
    if page.locator("#answer").count():  # a numeric card: type, check, then rate by key
        page.fill("#answer", "0")
        page.press("#answer", "Enter")
        page.wait_for_selector("#rate-form")
        page.locator("body").focus()
        page.keyboard.press("3")
    else:
        page.keyboard.press(" ")
        expect(page.locator("#reveal")).to_have_attribute("open", "")
        page.keyboard.press("3")
    expect(page.locator("body")).to_contain_text("All done for now")
    assert Review.objects.get().rating == 3
    page.keyboard.press("u")
    page.wait_for_selector("#flashcard")
    assert not Review.objects.exists(), "u undid the rating"
    assert page.console_errors == []


def test_screenshot_of_the_study_page(page, screenshot_dir):
    """Writes docs/screenshots/study.png when SCREENSHOT_DIR is set (make screenshot)."""
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    from studyapp import flashcards
    from studyapp.models import Question

    sign_in(page)
    user = User.objects.get(username="ada")
    profile = flashcards.profile_for(user)
    profile.interview_date = timezone.localdate() + timedelta(days=21)
    profile.save()
    start = timezone.now() - timedelta(days=12)
    for day in range(12):  # a fortnight of reviews, for the charts
        for n, question in enumerate(Question.objects.all()):
            flashcards.review_rate(user=user, question=question, rating=1 if (day + n) % 5 == 0 else 3,
                                   now=start + timedelta(days=day, minutes=n))
    page.set_viewport_size({"width": 1100, "height": 1300})
    page.goto(f"{page.base}/study/")
    page.wait_for_selector("svg.chart")
    page.screenshot(path=str(screenshot_dir / "study.png"), full_page=False)
