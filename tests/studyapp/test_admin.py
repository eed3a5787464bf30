"""Staff edit the bank in the admin: validation with the parser's and engine's messages, a
preview, the 100-variant test that blocks publishing, drafts vs published versions with a
history, bulk import that is all or nothing, and who may get in."""

import io
import random

import pytest
import yaml
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.urls import reverse

from studyapp import quiz, services
from studyapp.models import Question, QuestionVersion
from studyapp.selectors import bank_export

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(db):
    user = User.objects.create_user("edith", password="pw-edith-12345", is_staff=True)
    user.groups.add(Group.objects.get(name="editors"))
    return user


@pytest.fixture
def admin_client(client, editor):
    client.force_login(editor)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def change_url(q):
    return reverse("admin:studyapp_question_change", args=[q.pk])


def form_data(client, q, **changes):
    """The change form's current values as a POST, with ``changes`` applied."""
    page = client.get(change_url(q))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data["area"] = q.area_id
    data["tags"] = [t.pk for t in q.tags.all()]
    data.update({"versions-TOTAL_FORMS": 0, "versions-INITIAL_FORMS": 0,
                 "versions-MIN_NUM_FORMS": 0, "versions-MAX_NUM_FORMS": 1000})
    for inline in page.context["inline_admin_formsets"]:
        mgmt = inline.formset.management_form
        data.update({f"{mgmt.prefix}-{k}": v for k, v in mgmt.initial.items()})
        for i, f in enumerate(inline.formset.forms):
            data[f"{inline.formset.prefix}-{i}-id"] = f.instance.pk
            data[f"{inline.formset.prefix}-{i}-question"] = q.pk
    data.update(changes)
    return data


def test_the_editor_sees_the_published_content_as_bank_yaml(admin_client, bank):
    q = Question.objects.get(slug="prop-03")
    page = admin_client.get(change_url(q))
    html = page.content.decode()
    assert "backprop.two_layer" in html and "Publish a new version" in html and "Preview" in html
    changelist = admin_client.get(reverse("admin:studyapp_question_changelist") + "?claims=erratum")
    assert changelist.status_code == 200


def test_save_keeps_a_draft_and_publish_makes_a_version(admin_client, bank, editor):
    q = Question.objects.get(slug="prop-01")
    v1 = q.current
    data = form_data(admin_client, q, answer_en=v1.answer_en + "\n\nOne more sentence.")
    r = admin_client.post(change_url(q), {**data, "_continue": "1"})
    assert r.status_code == 302
    q.refresh_from_db()
    assert q.current == v1 and q.draft["answer"]["en"].endswith("One more sentence.")
    assert "One more sentence." in admin_client.get(change_url(q)).content.decode(), "the draft reopens"

    r = admin_client.post(change_url(q), {**form_data(admin_client, q), "_publish": "1"})
    assert r.status_code == 302
    q.refresh_from_db()
    assert q.current.number == v1.number + 1 and q.draft is None
    assert q.current.answer_en.endswith("One more sentence.") and q.current.created_by == editor
    assert QuestionVersion.objects.get(pk=v1.pk).answer_en == v1.answer_en, "versions are immutable"
    assert LogEntry.objects.filter(user=editor, object_id=str(q.pk)).exists(), "who and when"
    history = admin_client.get(reverse("admin:studyapp_question_versions", args=[q.pk])).content.decode()
    assert "+  en: " in history or "One more sentence." in history


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"items": "- type: numeric\n  kind: no_such_kind\n  params: {}\n  answer_key: x\n"}, "items",
     "unknown kind"),
    ({"items": "- type: numeric\n  kind: softmax\n  params: {logits: []}\n  answer_key: probs\n"}, "items",
     "logits"),
    ({"items": "- type: numeric\n  kind: softmax\n  params: {logits: [1, 2]}\n  answer_key: nope\n"},
     "items", "nope"),
    ({"items": "- type: [unclosed\n"}, "items", "Not valid YAML (line"),
    ({"items": "- type: self_graded\n"}, "items", "automatically graded"),
    ({"sources": "- {section: x}\n"}, "sources", "seed"),
    ({"title_en": ""}, "title_en", "required"),
])
def test_invalid_edits_are_form_errors_naming_the_field(admin_client, bank, change, field, message):
    q = Question.objects.get(slug="prop-01")
    before = q.current
    r = admin_client.post(change_url(q), {**form_data(admin_client, q, **change), "_publish": "1"})
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field]), errors
    q.refresh_from_db()
    assert q.current == before and q.draft is None


def test_a_failing_generated_variant_blocks_publishing(admin_client, bank, monkeypatch):
    q = Question.objects.get(slug="prop-03")
    before = q.current
    real = services.variant_failures

    def one_bad_seed(**kw):
        return [*real(**{**kw, "variants": 2}), (37, "engine and check disagree by 0.1")]

    monkeypatch.setattr(services, "variant_failures", one_bad_seed)
    r = admin_client.post(change_url(q), {**form_data(admin_client, q), "_publish": "1"})
    assert r.status_code == 200
    assert "seed 37: engine and check disagree" in " ".join(r.context["adminform"].form.errors["items"])
    q.refresh_from_db()
    assert q.current == before


def test_preview_renders_both_languages_and_the_engine_results(admin_client, bank):
    q = Question.objects.get(slug="prop-03")
    data = form_data(admin_client, q, answer_zh="新的**答案** $x^2$", answer_en="A new **answer** $x^2$")
    r = admin_client.post(reverse("admin:studyapp_question_preview", args=[q.pk]), data)
    html = r.content.decode()
    assert r.status_code == 200 and "<strong>answer</strong>" in html and "<strong>答案</strong>" in html
    assert "Verified" in html and "100-variant test" in html and "0.0821670" in html
    q.refresh_from_db()
    assert q.draft is None and "A new" not in q.current.answer_en, "a preview saves nothing"


def test_import_is_all_or_nothing(admin_client, bank):
    url = reverse("admin:studyapp_question_import")
    exported = bank_export()
    exported["questions"][0]["answer"]["en"] += "\n\nImported change."
    exported["questions"][1]["items"][0]["kind"] = "no_such_kind"
    bad = io.BytesIO(yaml.safe_dump(exported, allow_unicode=True).encode())
    bad.name = "bank.yaml"
    r = admin_client.post(url, {"file": bad})
    assert r.status_code == 400 and "Nothing was imported" in r.content.decode()
    assert not Question.objects.filter(current__answer_en__endswith="Imported change.").exists()
    exported["questions"][1] = bank_export()["questions"][1]
    good = io.BytesIO(yaml.safe_dump(exported, allow_unicode=True).encode())
    good.name = "bank.yaml"
    r = admin_client.post(url, {"file": good})
    assert r.status_code == 302
    assert Question.objects.filter(current__answer_en__endswith="Imported change.").count() == 1
    txt = io.BytesIO(b"hello")
    txt.name = "bank.txt"
    assert admin_client.post(url, {"file": txt}).status_code == 400


def test_attempts_stay_pinned_to_the_version_they_asked(admin_client, bank, editor):
    taker = User.objects.create_user("ada", password="pw-ada-12345")
    attempt = quiz.attempt_start(user=taker, count=3, mix="numeric", time_limit=600, rng=random.Random(1))
    quiz.attempt_submit(attempt_id=attempt.pk, user=taker, confirm=True)
    r0 = attempt.responses.select_related("item__version__question").first()
    q = r0.item.version.question
    admin_client.post(change_url(q), {**form_data(admin_client, q, title_en="A renamed question"),
                                      "_publish": "1"})
    q.refresh_from_db()
    assert q.current.title_en == "A renamed question"
    r0.refresh_from_db()
    assert r0.item.version.title_en != "A renamed question", "the attempt keeps its version"


def test_only_editors_reach_the_bank_admin(client, bank):
    q = Question.objects.first()
    User.objects.create_user("plain", password="pw-plain-12345")
    client.login(username="plain", password="pw-plain-12345")
    r = client.get(change_url(q))
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
    User.objects.create_user("staff", password="pw-staff-12345", is_staff=True)
    client.login(username="staff", password="pw-staff-12345")
    assert client.get(change_url(q)).status_code == 403, "staff without the editors group"
