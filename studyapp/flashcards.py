"""Flashcards: spaced repetition scheduled by FSRS (the ``fsrs`` package), fresh numbers at
every review of a numeric card, and an interview-date mode.

Scheduling is py-fsrs's, never hand-written: a card's state is ``fsrs.Card.to_dict()``,
every rating goes through ``Scheduler.review_card``. A user's day starts at midnight in
their own time zone (daily new-card limit, streaks, per-day counts).

Interview-date mode: with an interview ``D`` days away, the desired retention rises
linearly from the user's own setting ``R₀`` to ``R_I = 0.97`` over the last
``RAMP_DAYS`` days::

    R(D) = R₀ + (R_I - R₀) · max(0, 1 - D / RAMP_DAYS)      (R₀ again after the interview)

so intervals shorten as the date approaches and the material is fresh on the day.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import fsrs
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from studyapp.models import (
    ItemType,
    Question,
    QuestionStatus,
    QuizItem,
    Review,
    StudyCard,
    StudyProfile,
)

INTERVIEW_RETENTION = 0.97
RAMP_DAYS = 30
RETENTION_RANGE = (0.70, 0.99)
FAST_SECONDS = 20  # a right answer this quick proposes Easy
SLOW_SECONDS = 90  # a right answer this slow proposes Hard
VARIANT_POOL = 100_000
RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}
OPTIMISE_MIN_REVIEWS = 512  # py-fsrs's own threshold for a meaningful fit
OPTIMISE_EVERY = 256  # refit after every further 256 reviews


def profile_for(user) -> StudyProfile:
    profile, _ = StudyProfile.objects.get_or_create(user=user)
    return profile


# -- days and retention ----------------------------------------------------------------

def local_today(profile: StudyProfile, now: datetime) -> date:
    return now.astimezone(ZoneInfo(profile.timezone)).date()


def day_start(profile: StudyProfile, day: date) -> datetime:
    """The instant (in UTC, as FSRS wants it) at which ``day`` begins in the user's time zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(profile.timezone)).astimezone(UTC)


def effective_retention(profile: StudyProfile, today: date) -> float:
    """The desired retention for ``today``, raised toward the interview date (see module doc)."""
    base = profile.desired_retention
    if profile.interview_date is None or profile.interview_date < today:
        return base
    days_left = (profile.interview_date - today).days
    target = max(base, INTERVIEW_RETENTION)
    return round(base + (target - base) * max(0.0, 1 - days_left / RAMP_DAYS), 4)


def scheduler_for(profile: StudyProfile, today: date, *, fuzz: bool = True) -> fsrs.Scheduler:
    kwargs: dict[str, Any] = {"desired_retention": effective_retention(profile, today),
                              "enable_fuzzing": fuzz}
    if profile.fsrs_parameters:
        kwargs["parameters"] = profile.fsrs_parameters
    return fsrs.Scheduler(**kwargs)


# -- the deck and the queue ------------------------------------------------------------

def deck(profile: StudyProfile):
    """The published questions the user chose to study."""
    questions = Question.objects.filter(status=QuestionStatus.PUBLISHED, current__isnull=False)
    area_ids = list(profile.areas.values_list("pk", flat=True))
    tag_ids = list(profile.tags.values_list("pk", flat=True))
    if area_ids:
        questions = questions.filter(area__in=area_ids)
    if tag_ids:
        questions = questions.filter(tags__in=tag_ids).distinct()
    if profile.min_importance:
        questions = questions.filter(importance__gte=profile.min_importance)
    return questions


@dataclass
class Queue:
    """What to study now: a due card, else a new question while the day's limit allows."""

    question: Question | None
    card: StudyCard | None
    due_count: int
    new_left: int
    next_due: datetime | None = None

    @property
    def is_new(self) -> bool:
        return self.card is None


def queue_next(*, user, now: datetime | None = None) -> Queue:
    now = now or timezone.now()
    profile = profile_for(user)
    questions = deck(profile)
    cards = StudyCard.objects.filter(user=user, question__in=questions.values("pk"))
    due = cards.filter(due__lte=now).order_by("due")
    due_count = due.count()
    new_today = StudyCard.objects.filter(
        user=user, created_at__gte=day_start(profile, local_today(profile, now))).count()
    new_left = max(0, profile.new_per_day - new_today)
    card = due.select_related("question__current", "question__area").first()
    if card is not None:
        return Queue(card.question, card, due_count, new_left)
    if new_left:
        fresh = (questions.exclude(study_cards__user=user).select_related("current", "area")
                 .order_by("area__position", "position", "slug").first())
        if fresh is not None:
            return Queue(fresh, None, 0, new_left)
    upcoming = cards.order_by("due").values_list("due", flat=True).first()
    return Queue(None, None, 0, new_left, next_due=upcoming)


# -- numeric cards: new numbers at every review -------------------------------------------------

def numeric_item(question: Question, user) -> QuizItem | None:
    """The numeric item of the current version this user has reviewed least (None: conceptual)."""
    items = list(question.current.items.filter(type=ItemType.NUMERIC))
    if not items:
        return None
    counts = Counter(Review.objects.filter(user=user, item__in=items).values_list("item_id", flat=True))
    return min(items, key=lambda i: (counts[i.pk], i.position))


def fresh_seed(*, user, item: QuizItem, rng: random.Random | None = None) -> int:
    """A variant of ``item`` this user has not reviewed (0, the worked example, if it never varies)."""
    if not item.vary:
        return 0
    rng = rng or random.Random()
    seen = set(Review.objects.filter(user=user, item=item).values_list("seed", flat=True))
    while True:
        seed = rng.randint(1, VARIANT_POOL)
        if seed not in seen:
            return seed


def propose_rating(correct: bool, seconds: float | None) -> int:
    """Wrong → Again; right → Good, Easy when fast, Hard when slow (the user may override)."""
    if not correct:
        return 1
    if seconds is not None and seconds <= FAST_SECONDS:
        return 4
    if seconds is not None and seconds >= SLOW_SECONDS:
        return 2
    return 3


# -- rating and undo ---------------------------------------------------------------------------

def review_rate(*, user, question: Question, rating: int, now: datetime | None = None,
                duration_ms: int | None = None, item: QuizItem | None = None, seed: int | None = None,
                answer_text: str = "", correct: bool | None = None,
                proposed: int | None = None) -> StudyCard:
    """Rate a card (1 Again, 2 Hard, 3 Good, 4 Easy): FSRS computes the next due date and the
    review is logged with the state before, for undo."""
    if rating not in RATING_NAMES:
        raise ValueError(f"rating must be 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy), got {rating!r}")
    now = (now or timezone.now()).astimezone(UTC)
    profile = profile_for(user)
    with transaction.atomic():
        card = StudyCard.objects.select_for_update().filter(user=user, question=question).first()
        # card_id names the card in FSRS's review logs; the question is unique per user
        state = fsrs.Card.from_dict(card.fsrs) if card else fsrs.Card(card_id=question.pk)
        before, before_due = (card.fsrs, card.due) if card else (None, None)
        scheduler = scheduler_for(profile, local_today(profile, now))
        state, _log = scheduler.review_card(state, fsrs.Rating(rating), review_datetime=now,
                                            review_duration=duration_ms)
        if card is None:
            card = StudyCard(user=user, question=question)
        card.fsrs, card.due = state.to_dict(), state.due
        card.save()
        Review.objects.create(user=user, card=card, rating=rating, proposed=proposed, reviewed_at=now,
                              duration_ms=duration_ms, item=item, seed=seed, answer_text=answer_text,
                              correct=correct, before=before, before_due=before_due)
        count = Review.objects.filter(user=user).count()
        if count >= OPTIMISE_MIN_REVIEWS and count % OPTIMISE_EVERY == 0:  # refit now and then
            transaction.on_commit(lambda: _enqueue_optimise(user.pk))
    return card


def _enqueue_optimise(user_id: int) -> None:
    from studyapp.tasks import optimise_fsrs

    optimise_fsrs.enqueue(user_id)


def review_undo(*, user) -> Review | None:
    """Take back the user's last rating: the card returns to its state before (a card rated for
    the first time leaves the schedule again). None when there is nothing to undo."""
    with transaction.atomic():
        last = Review.objects.select_for_update().filter(user=user).select_related("card").first()
        if last is None:
            return None
        card = last.card
        if last.before is None:
            card.delete()  # cascades to this review
        else:
            card.fsrs, card.due = last.before, last.before_due
            card.save(update_fields=["fsrs", "due"])
            last.delete()
    return last


# -- forecast and statistics ---------------------------------------------------------------------

def forecast(*, user, now: datetime | None = None, days: int = 30) -> list[tuple[date, int]]:
    """Reviews per day for the next ``days`` days (to the interview date if later, at most 120):
    every card is reviewed when due and rated Good, with the retention of that day, and the
    daily new cards are added while unseen questions remain."""
    now = now or timezone.now()
    profile = profile_for(user)
    today = local_today(profile, now)
    if profile.interview_date and profile.interview_date > today:
        days = min(max(days, (profile.interview_date - today).days + 1), 120)
    end = today + timedelta(days=days)
    load: Counter[date] = Counter()
    schedulers: dict[date, fsrs.Scheduler] = {}
    states = [fsrs.Card.from_dict(c) for c in StudyCard.objects.filter(
        user=user, question__in=deck(profile).values("pk")).values_list("fsrs", flat=True)]
    unseen = deck(profile).exclude(study_cards__user=user).count()
    for day in (today + timedelta(days=n) for n in range(days)):
        new = min(profile.new_per_day, unseen)
        unseen -= new
        states += [fsrs.Card(card_id=-1, due=day_start(profile, day)) for _ in range(new)]
    for state in states:
        for _ in range(200):
            day = max(local_today(profile, state.due), today)
            if day >= end:
                break
            load[day] += 1
            if day not in schedulers:
                schedulers[day] = scheduler_for(profile, day, fuzz=False)
            when = max(state.due, day_start(profile, day))
            state, _ = schedulers[day].review_card(state, fsrs.Rating.Good, review_datetime=when)
    return [(today + timedelta(days=n), load[today + timedelta(days=n)]) for n in range(days)]


@dataclass
class Stats:
    reviews_per_day: list[tuple[date, int]]
    true_retention: float | None  # share of reviews of mature cards not rated Again
    mature_reviews: int
    streak: int
    areas: list[dict[str, Any]] = field(default_factory=list)
    total_reviews: int = 0
    cards: int = 0


def stats(*, user, now: datetime | None = None, days: int = 30) -> Stats:
    now = now or timezone.now()
    profile = profile_for(user)
    today = local_today(profile, now)
    zone = ZoneInfo(profile.timezone)
    per_day: Counter[date] = Counter()
    mature = kept = 0
    for when, rating, before in Review.objects.filter(user=user).values_list(
            "reviewed_at", "rating", "before"):
        per_day[when.astimezone(zone).date()] += 1
        if before and before.get("state") == fsrs.State.Review.value:
            mature += 1
            kept += rating != 1
    streak, day = 0, today if per_day[today] else today - timedelta(days=1)
    while per_day[day]:
        streak, day = streak + 1, day - timedelta(days=1)
    scheduler = scheduler_for(profile, today, fuzz=False)
    by_area: dict[str, list[float]] = defaultdict(list)
    names: dict[str, str] = {}
    cards = StudyCard.objects.filter(user=user).select_related("question__area")
    for card in cards:
        area = card.question.area
        names[area.code] = area.name
        by_area[area.code].append(scheduler.get_card_retrievability(fsrs.Card.from_dict(card.fsrs), now))
    deck_sizes = dict(deck(profile).values_list("area__code").annotate(n=Count("pk")))
    areas = [{"code": code, "name": names[code], "cards": len(rs), "deck": deck_sizes.get(code, len(rs)),
              "recall": sum(rs) / len(rs)} for code, rs in sorted(by_area.items())]
    return Stats(
        reviews_per_day=[(today - timedelta(days=n), per_day[today - timedelta(days=n)])
                         for n in reversed(range(days))],
        true_retention=kept / mature if mature else None, mature_reviews=mature, streak=streak,
        areas=areas, total_reviews=sum(per_day.values()), cards=len(cards),
    )


def profile_update(*, profile: StudyProfile, data: dict[str, Any]) -> StudyProfile:
    """Save validated settings (from StudyProfileForm)."""
    for name in ("min_importance", "new_per_day", "desired_retention", "timezone", "interview_date"):
        setattr(profile, name, data[name])
    profile.save()
    profile.areas.set(data["areas"])
    profile.tags.set(data["tags"])
    return profile



# -- per-user parameters ---------------------------------------------------------------------------



def profile_optimise(*, user, min_reviews: int = OPTIMISE_MIN_REVIEWS,
                     now: datetime | None = None) -> list[float] | None:
    """Fit the 21 FSRS-6 parameters to this user's review history (py-fsrs's Optimizer, on our
    pinned torch) and use them from now on. None, changing nothing, below ``min_reviews``."""
    reviews = Review.objects.filter(user=user).select_related("card").order_by("reviewed_at")
    if reviews.count() < min_reviews:
        return None
    from fsrs import Optimizer  # imports torch, pandas

    logs = [fsrs.ReviewLog(card_id=r.card.question_id, rating=fsrs.Rating(r.rating),
                           review_datetime=r.reviewed_at.astimezone(UTC), review_duration=r.duration_ms)
            for r in reviews]
    parameters = [float(p) for p in Optimizer(logs).compute_optimal_parameters()]
    fsrs.Scheduler(parameters=parameters)  # raises ValueError if the fit is out of FSRS's bounds
    profile = profile_for(user)
    profile.fsrs_parameters, profile.optimised_at = parameters, now or timezone.now()
    profile.save(update_fields=["fsrs_parameters", "optimised_at"])
    return parameters
