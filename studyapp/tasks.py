"""Background work, run by the django-tasks database worker (``manage.py db_worker``).

Enqueued by the services when they notice work to do: a quiz started on an item whose variant
pool is still small fills it, a user whose review count crosses a step gets their FSRS
parameters refitted, and ``close_attempts`` (the periodic job) can hand its work here too.
"""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model
from django_tasks import task

from studyapp import flashcards, quiz
from studyapp.models import QuizItem, Variant
from studyapp.services import variant_get_or_create


@task()
def close_overdue_attempts() -> int:
    """Close every quiz whose time and grace are over (finished_at = deadline)."""
    return quiz.attempts_close_overdue()


@task()
def fill_variant_pool(item_id: int, size: int = quiz.POOL_SIZE) -> int:
    """Compute and store variants of a numeric item until ``size`` exist, so quiz starts reuse
    them instead of running the engine. Returns how many were added."""
    item = QuizItem.objects.filter(pk=item_id, type="numeric").first()
    if item is None or not item.vary:
        return 0
    have = set(Variant.objects.filter(item=item, seed__gte=1).values_list("seed", flat=True))
    rng, added, tries = random.Random(item_id), 0, 0
    while len(have) < size and tries < size * 4:
        tries += 1
        seed = rng.randint(1, quiz.VARIANT_POOL)
        if seed in have:
            continue
        try:
            variant_get_or_create(item=item, seed=seed)
        except RuntimeError:  # the generator cannot fill this seed
            continue
        have.add(seed)
        added += 1
    return added


@task()
def optimise_fsrs(user_id: int) -> bool:
    """Refit one user's FSRS parameters to their reviews."""
    user = get_user_model().objects.filter(pk=user_id).first()
    return user is not None and flashcards.profile_optimise(user=user) is not None
