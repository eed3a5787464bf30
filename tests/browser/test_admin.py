"""An editor edits a question in the admin, previews it, publishes, and sees the new version on
the card page, while an attempt taken before still shows the version it asked."""

import random

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from studyapp import quiz
from studyapp.models import Question

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_edit_preview_publish_and_pinned_attempt(page):
    editor = User.objects.create_user("edith", password="pw-edith-12345", is_staff=True)
    editor.groups.add(Group.objects.get_or_create(name="editors")[0])
    if not editor.groups.get().permissions.exists():  # transaction tests flush the data migration's group
        from django.contrib.auth.models import Permission

        editor.groups.get().permissions.set(Permission.objects.filter(content_type__app_label="studyapp"))
    attempt = quiz.attempt_start(user=editor, count=1, mix="numeric", time_limit=600, rng=random.Random(3))
    quiz.attempt_submit(attempt_id=attempt.pk, user=editor, confirm=True)
    question = attempt.responses.get().item.version.question
    old_title = question.current.title_en

    page.goto(f"{page.base}/admin/login/?next=/admin/studyapp/question/{question.pk}/change/")
    page.fill("#id_username", "edith")
    page.fill("#id_password", "pw-edith-12345")
    page.click("input[type=submit]")
    page.wait_for_selector("#id_title_en")
    page.fill("#id_title_en", "Back-propagation, reworded")
    page.fill("#id_answer_en", page.input_value("#id_answer_en") + "\n\nA **new** closing line.")

    with page.context.expect_page() as preview_info:
        page.click("input[name=_preview]")
    preview = preview_info.value
    preview.wait_for_load_state()
    expect(preview.locator("body")).to_contain_text("Back-propagation, reworded")
    expect(preview.locator("body")).to_contain_text("100-variant test")
    assert preview.locator("strong", has_text="new").count() >= 1
    preview.close()

    page.click("input[name=_publish]")
    expect(page.locator(".messagelist")).to_contain_text("Published")
    question.refresh_from_db()
    assert question.current.title_en == "Back-propagation, reworded"

    page.goto(f"{page.base}/questions/{question.slug}/")
    expect(page.locator("h1")).to_contain_text("Back-propagation, reworded")
    page.goto(f"{page.base}/quizzes/attempts/{attempt.pk}/review/")
    expect(page.locator(".review-q h2")).to_contain_text(old_title)
    assert Question.objects.get(pk=question.pk).versions.count() == 2
