"""The bank's data model: versions, claims, variants, export/import round trip, bad files."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from studyapp.bankfile import BankFileError
from studyapp.models import ClaimStatus, Question, QuestionVersion, SourceClaim, Variant
from studyapp.services import bank_load, variant_get_or_create

pytestmark = pytest.mark.django_db


def edit_question(bank_dir: Path, area: str, slug: str, change) -> None:
    path = bank_dir / f"{area}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for q in data["questions"]:
        if q["slug"] == slug:
            change(q)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_reloading_unchanged_content_makes_no_new_version(bank_dir):
    bank_load(bank_dir=bank_dir)
    versions = QuestionVersion.objects.count()
    report = bank_load(bank_dir=bank_dir)
    assert not report.changed
    assert QuestionVersion.objects.count() == versions


def test_changed_content_makes_a_new_version_and_keeps_the_old(bank_dir):
    bank_load(bank_dir=bank_dir)
    old = Question.objects.get(slug="prop-03").current
    edit_question(bank_dir, "prop", "prop-03",
                  lambda q: q["title"].update(en="Back-propagation, step by step"))
    report = bank_load(bank_dir=bank_dir)
    assert report.created == {"version": 1}
    question = Question.objects.get(slug="prop-03")
    assert question.current.number == 2
    assert question.current.title_en == "Back-propagation, step by step"
    old.refresh_from_db()
    assert old.title_en == "Back-propagation by hand on a 2-2-2 network"
    assert old.items.count() == question.current.items.count()


def test_source_claims_are_checked_by_the_engine(bank_dir):
    bank_load(bank_dir=bank_dir)
    claims = SourceClaim.objects.filter(version__question__slug="prop-03")
    erratum = claims.get(stated__contains="0.75136079")
    assert erratum.status == ClaimStatus.ERRATUM
    assert erratum.computed_value == pytest.approx(0.75136507, abs=5e-9)
    assert "0.75136507" in erratum.explanation_en
    verified = claims.get(stated__startswith="E_total")
    assert verified.status == ClaimStatus.VERIFIED
    assert verified.computed_value == pytest.approx(0.298371109, abs=5e-10)
    figure = SourceClaim.objects.get(version__question__slug="prop-02")
    assert figure.status == ClaimStatus.UNDERSPECIFIED and figure.computed_value is None


def test_variant_zero_is_the_worked_example_and_variants_are_stored(bank_dir):
    bank_load(bank_dir=bank_dir)
    item = Question.objects.get(slug="prop-03").current.items.get(position=0)
    canonical = variant_get_or_create(item=item, seed=0)
    assert canonical.answer["grad_w2"][0][0] == pytest.approx(0.082167041, abs=5e-10)
    first = variant_get_or_create(item=item, seed=7)
    again = variant_get_or_create(item=item, seed=7)
    assert first.pk == again.pk and Variant.objects.filter(item=item).count() == 2
    assert first.params != canonical.params
    assert first.params["activation"] == "sigmoid"  # kept fixed by the item
    # the prompt's "2-2-2 network" still describes the new numbers
    assert len(first.params["x"]) == 2 and [len(r) for r in first.params["w2"]] == [2, 2]
    assert {"engine", "torch", "kind"} <= set(first.engine_versions)


def test_stored_variant_never_recomputes(monkeypatch, bank_dir):
    bank_load(bank_dir=bank_dir)
    item = Question.objects.get(slug="prop-03").current.items.get(position=0)
    stored = variant_get_or_create(item=item, seed=3)
    import engine

    monkeypatch.setattr(engine, "sample", lambda *a, **k: pytest.fail("recomputed"))
    assert variant_get_or_create(item=item, seed=3).answer == stored.answer


def test_export_round_trips_through_load_bank(tmp_path, bank_dir):
    bank_load(bank_dir=bank_dir)
    out = StringIO()
    call_command("export_bank", "--format", "json", stdout=out)
    exported = json.loads(out.getvalue())
    q = next(q for q in exported["questions"] if q["slug"] == "prop-03")
    assert {"slug", "area", "importance", "title", "prompt", "answer", "items", "claims",
            "sources"} <= set(q)
    assert {"source", "stated", "computed", "status"} <= set(q["claims"][2])
    path = tmp_path / "bank.json"
    path.write_text(out.getvalue(), encoding="utf-8")
    report = bank_load(file=path)
    assert not report.changed, "the export loads back without any change"
    again = StringIO()
    call_command("export_bank", "--format", "json", stdout=again)
    assert json.loads(again.getvalue()) == exported


def test_yaml_export_loads_back(tmp_path, bank_dir):
    bank_load(bank_dir=bank_dir)
    out = StringIO()
    call_command("export_bank", "--format", "yaml", stdout=out)
    path = tmp_path / "bank.yaml"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert not bank_load(file=path).changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda q: q["items"][0].update(kind="conv3d"), "items[0].kind: unknown kind 'conv3d'"),
        (lambda q: q["items"][0]["params"].update(lr=-1),
         "items[0].params: parameter 'lr': -1 is out of range"),
        (lambda q: q["items"][0].update(answer_key="grad_w9"), "items[0].answer_key: answer has no key"),
        (lambda q: q["items"][0].update(fixed=["colour"]), "items[0].fixed: must list parameter names"),
        (lambda q: q["title"].update(en=""), "title.en: is empty"),
        (lambda q: q.update(importance=5), "importance: must be 0 to 3 stars"),
        (lambda q: q.update(items=[{"type": "self_graded"}]),
         "items: needs at least one automatically graded item"),
        (lambda q: q["claims"][0].update(value="zero point five"), "claims[0].value: 'zero point five'"),
        (lambda q: q.update(colour="red"), "unknown fields ['colour']"),
    ],
)
def test_bad_question_is_named_and_nothing_is_written(bank_dir, change, message):
    bank_load(bank_dir=bank_dir)
    before = (Question.objects.count(), QuestionVersion.objects.count(), SourceClaim.objects.count())
    edit_question(bank_dir, "prop", "prop-03", change)
    with pytest.raises(BankFileError, match=re.escape(message)) as excinfo:
        bank_load(bank_dir=bank_dir)
    assert str(excinfo.value).startswith("prop.yaml: question 'prop-03': ")
    after = (Question.objects.count(), QuestionVersion.objects.count(), SourceClaim.objects.count())
    assert after == before


def test_duplicate_slug_across_files_is_refused(bank_dir):
    data = yaml.safe_load((bank_dir / "prop.yaml").read_text(encoding="utf-8"))
    data["questions"] = data["questions"][:1]
    (bank_dir / "zz-copy.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(BankFileError, match="slug already used in prop.yaml"):
        bank_load(bank_dir=bank_dir)
    assert Question.objects.count() == 0


def test_verify_bank_json_reports_errata_without_failing(bank_dir):
    bank_load(bank_dir=bank_dir)
    out = StringIO()
    call_command("verify_bank", "--json", "--variants", "3", stdout=out)
    report = json.loads(out.getvalue())
    assert report["disagreements"] == 0 and report["items"] >= 1
    statuses = {c["status"] for c in report["claims"]}
    assert {"verified", "erratum", "underspecified"} <= statuses
    assert set(report["claims"][0]) >= {"question", "source", "stated", "computed", "status"}


def test_verify_bank_fails_on_a_broken_binding(bank_dir):
    bank_load(bank_dir=bank_dir)
    item = Question.objects.get(slug="prop-03").current.items.get(position=0)
    item.answer_key = "nope"
    item.save()
    with pytest.raises(CommandError, match="1 disagreement"):
        call_command("verify_bank", stdout=StringIO())
