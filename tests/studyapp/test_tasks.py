"""Background tasks: what they do when run, that the services enqueue them, and that the
database worker runs them."""

import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from studyapp import quiz, tasks
from studyapp.models import Attempt, QuizItem, Variant

pytestmark = pytest.mark.django_db


def test_fill_variant_pool_stores_variants_until_the_size(bank):
    item = QuizItem.objects.filter(type="numeric", vary=True).first()
    assert tasks.fill_variant_pool.call(item.pk, size=6) == 6
    assert Variant.objects.filter(item=item, seed__gte=1).count() == 6
    assert tasks.fill_variant_pool.call(item.pk, size=6) == 0, "already full"


def test_close_overdue_attempts_task(bank, ada, settings):
    settings.QUIZ_GRACE_SECONDS = 0
    attempt = quiz.attempt_start(user=ada, count=1, mix="numeric", time_limit=60, rng=random.Random(0))
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=5))
    assert tasks.close_overdue_attempts.call() == 1
    assert Attempt.objects.get(pk=attempt.pk).status == "expired"


def test_optimise_task_needs_enough_reviews(ada):
    assert tasks.optimise_fsrs.call(ada.pk) is False
    assert tasks.optimise_fsrs.call(10**9) is False


def test_a_quiz_start_enqueues_pool_fills(bank, ada, django_capture_on_commit_callbacks):
    from django_tasks import default_task_backend

    with django_capture_on_commit_callbacks(execute=True):
        quiz.attempt_start(user=ada, count=2, mix="numeric", time_limit=60, rng=random.Random(0))
    names = [r.task.name for r in default_task_backend.results]
    assert names.count("fill_variant_pool") == 2


def test_the_database_worker_runs_enqueued_tasks(bank, settings, transactional_db):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    item = QuizItem.objects.filter(type="numeric", vary=True).first()
    result = tasks.fill_variant_pool.enqueue(item.pk, size=3)
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == 3
