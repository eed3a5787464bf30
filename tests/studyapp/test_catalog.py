"""The real bank covers the whole seed catalog: every question ID, both languages, gradable."""

import pytest

from studyapp.models import Question
from studyapp.services import bank_load

# Rows per area in the seed catalog (180 in all); questions beyond these are new topics.
CATALOG = {"fnd": 16, "prop": 3, "act": 15, "loss": 7, "math": 9, "reg": 24, "opt": 14, "lr": 9,
           "norm": 15, "init": 6, "cnn": 22, "rnn": 8, "gen": 9, "grad": 4, "prac": 15, "misc": 4}
AUTO_GRADED = {"numeric", "single_choice", "multiple_choice"}


def test_catalog_has_180_rows():
    assert sum(CATALOG.values()) == 180


@pytest.mark.django_db
def test_the_bank_holds_every_catalog_question_complete_and_gradable():
    bank_load()  # the real fixtures/bank, loaded once
    slugs = set(Question.objects.values_list("slug", flat=True))
    expected = {f"{area}-{n:02d}" for area, count in CATALOG.items() for n in range(1, count + 1)}
    assert not sorted(expected - slugs), f"missing {sorted(expected - slugs)}"
    for q in Question.objects.select_related("current").prefetch_related("current__items"):
        v = q.current
        for field in ("title", "prompt", "answer"):
            assert getattr(v, f"{field}_zh").strip() and getattr(v, f"{field}_en").strip(), q.slug
        assert {i.type for i in v.items.all()} & AUTO_GRADED, f"{q.slug} has no graded item"


@pytest.mark.django_db
def test_catalog_rows_that_can_be_computed_have_numeric_items():
    # The rows the catalog marks computable that needed new engine kinds (center loss,
    # linear-cosine decay, Gaussian, KKT, MLE/MAP, LRN, bootstrap) stay numeric.
    bank_load()
    for slug in ("loss-06", "lr-09", "math-03", "math-05", "math-07", "norm-04", "reg-19"):
        version = Question.objects.get(slug=slug).current
        assert version.items.filter(type="numeric").exists(), slug
