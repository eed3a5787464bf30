"""Flashcards: the queue and daily limits in the user's own day, ratings through py-fsrs
(checked against the library itself), the proposed rating, undo, the interview-date ramp,
the forecast, and the pages (a user only ever sees their own cards)."""

from datetime import UTC, date, datetime, timedelta

import fsrs
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from studyapp import flashcards
from studyapp.models import Question, Review, StudyCard

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def rate_next(user, rating, now):
    q = flashcards.queue_next(user=user, now=now)
    return flashcards.review_rate(user=user, question=q.question, rating=rating, now=now)


def test_new_cards_are_limited_per_day_and_due_cards_come_first(bank, ada):
    profile = flashcards.profile_for(ada)
    profile.new_per_day = 2
    profile.save()
    total = Question.objects.count()
    first = rate_next(ada, 3, T0)
    rate_next(ada, 3, T0)
    q = flashcards.queue_next(user=ada, now=T0)
    assert q.question is None and q.new_left == 0, "two new cards a day"
    later = T0 + timedelta(minutes=30)  # learning steps of 1 and 10 minutes are due again
    q = flashcards.queue_next(user=ada, now=later)
    assert q.card is not None and q.card.question == first.question and q.due_count == 2
    assert total >= 3


def test_the_day_starts_at_midnight_in_the_users_time_zone(bank, ada):
    profile = flashcards.profile_for(ada)
    profile.new_per_day, profile.timezone = 1, "Asia/Shanghai"  # UTC+8
    profile.save()
    before_midnight = datetime(2026, 11, 23, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai
    card = rate_next(ada, 4, before_midnight)
    StudyCard.objects.filter(pk=card.pk).update(created_at=before_midnight, due=T0 + timedelta(days=30))
    assert flashcards.queue_next(user=ada, now=before_midnight + timedelta(seconds=30)).new_left == 0
    after_midnight = datetime(2026, 11, 23, 16, 1, tzinfo=UTC)  # 00:01 the next day there
    assert flashcards.queue_next(user=ada, now=after_midnight).new_left == 1
    assert flashcards.local_today(profile, after_midnight) == date(2026, 11, 24)


def test_ratings_follow_the_fsrs_library(bank, ada):
    reference = fsrs.Scheduler(enable_fuzzing=False)
    question = Question.objects.first()
    expected = fsrs.Card(card_id=question.pk)
    now = T0
    for rating in (3, 3, 1, 3, 4):
        card = flashcards.review_rate(user=ada, question=question, rating=rating, now=now)
        expected, _ = reference.review_card(expected, fsrs.Rating(rating), review_datetime=now)
        got = fsrs.Card.from_dict(card.fsrs)
        assert got.state == expected.state and got.step == expected.step
        assert got.stability == pytest.approx(expected.stability, rel=1e-12)
        assert got.difficulty == pytest.approx(expected.difficulty, rel=1e-12)
        if got.state != fsrs.State.Review:  # fuzzing only spreads review intervals
            assert card.due == expected.due
        else:
            interval = (expected.due - now).days
            assert abs((card.due - now).days - interval) <= max(2, interval * 0.1)
        now = max(card.due, expected.due) + timedelta(minutes=1)
    assert Review.objects.filter(user=ada).count() == 5


def test_bad_ratings_are_refused(bank, ada):
    with pytest.raises(ValueError, match="rating must be 1"):
        flashcards.review_rate(user=ada, question=Question.objects.first(), rating=5, now=T0)


@pytest.mark.parametrize(("correct", "seconds", "rating"), [
    (False, 5, 1), (False, 300, 1), (True, 5, 4), (True, 20, 4), (True, 45, 3), (True, 90, 2),
    (True, 400, 2), (True, None, 3),
])
def test_proposed_rating_from_correctness_and_time(correct, seconds, rating):
    assert flashcards.propose_rating(correct, seconds) == rating


def test_undo_restores_the_card_and_a_first_rating_leaves_the_schedule(bank, ada):
    question = Question.objects.first()
    card = flashcards.review_rate(user=ada, question=question, rating=3, now=T0)
    state, due = card.fsrs, card.due
    flashcards.review_rate(user=ada, question=question, rating=1, now=T0 + timedelta(minutes=20))
    undone = flashcards.review_undo(user=ada)
    assert undone.rating == 1
    card.refresh_from_db()
    assert (card.fsrs, card.due) == (state, due)
    flashcards.review_undo(user=ada)
    assert not StudyCard.objects.filter(user=ada).exists()
    assert flashcards.review_undo(user=ada) is None


def test_interview_date_raises_retention_toward_it():
    profile = flashcards.StudyProfile(desired_retention=0.85, interview_date=date(2026, 12, 31))
    today = date(2026, 11, 1)  # 60 days before: no change yet
    assert flashcards.effective_retention(profile, today) == 0.85
    assert flashcards.effective_retention(profile, date(2026, 12, 16)) == pytest.approx(0.91, abs=1e-4)
    assert flashcards.effective_retention(profile, date(2026, 12, 31)) == pytest.approx(0.97)
    assert flashcards.effective_retention(profile, date(2027, 1, 1)) == 0.85, "back to normal after"
    high = flashcards.StudyProfile(desired_retention=0.98, interview_date=date(2026, 12, 31))
    assert flashcards.effective_retention(high, date(2026, 12, 30)) == 0.98, "never lowered"


def test_forecast_covers_the_days_until_the_interview(bank, ada):
    profile = flashcards.profile_for(ada)
    profile.new_per_day = 3
    profile.save()
    rate_next(ada, 3, T0)
    days = flashcards.forecast(user=ada, now=T0, days=30)
    assert len(days) == 30 and days[0][0] == date(2026, 11, 23) and sum(n for _, n in days) > 0
    profile.interview_date = date(2027, 1, 31)
    profile.save()
    assert len(flashcards.forecast(user=ada, now=T0, days=30)) == 70


def test_stats_count_reviews_streak_and_retention(bank, ada):
    question = Question.objects.first()
    now = T0
    for rating in (3, 3, 3, 1):
        card = flashcards.review_rate(user=ada, question=question, rating=rating, now=now)
        now = card.due + timedelta(minutes=1)
    s = flashcards.stats(user=ada, now=now)
    assert s.total_reviews == 4 and s.cards == 1 and s.streak >= 1
    assert s.mature_reviews >= 1 and s.true_retention is not None and s.areas[0]["cards"] == 1


# -- pages ------------------------------------------------------------------------------------------

@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_study_page_shows_progress_charts_and_settings(signed_in, bank):
    page = signed_in.get(reverse("studyapp:study_index"))
    html = page.content.decode()
    assert page.status_code == 200 and "Study now" in html and html.count("<svg") >= 3
    r = signed_in.post(reverse("studyapp:study_index"), {
        "new_per_day": 5, "desired_retention": 0.5, "timezone": "Asia/Shanghai", "min_importance": 0})
    assert r.status_code == 400 and "desired_retention" in r.context["form"].errors
    r = signed_in.post(reverse("studyapp:study_index"), {
        "new_per_day": 5, "desired_retention": 0.92, "timezone": "Nowhere/City", "min_importance": 0})
    assert r.status_code == 400 and "timezone" in r.context["form"].errors
    r = signed_in.post(reverse("studyapp:study_index"), {
        "new_per_day": 5, "desired_retention": 0.92, "timezone": "Europe/Paris", "min_importance": 0,
        "areas": ["prop"], "interview_date": "2027-01-15"})
    assert r.status_code == 302
    profile = flashcards.profile_for(User.objects.get(username="ada"))
    assert profile.desired_retention == 0.92 and profile.interview_date == date(2027, 1, 15)


def test_a_numeric_card_is_graded_and_a_rating_proposed(signed_in, bank):
    profile = flashcards.profile_for(User.objects.get(username="ada"))
    prop03 = Question.objects.get(slug="prop-03")
    profile.areas.set([prop03.area])
    Question.objects.exclude(slug="prop-03").update(status="draft")
    page = signed_in.get(reverse("studyapp:study_review"))
    html = page.content.decode()
    assert page.status_code == 200 and 'name="token"' in html and "Your numbers" in html
    token = page.context["token"]
    variant = page.context["variant"]
    item = page.context["item"]
    from studyapp.services import load_engine

    asked = load_engine().answer_at(variant.answer, item.answer_key)
    bad = signed_in.post(reverse("studyapp:study_check"), {"token": token, "text": "twelve"})
    assert bad.status_code == 400 and "not a number" in bad.content.decode()
    r = signed_in.post(reverse("studyapp:study_check"), {"token": token, "text": repr(asked)})
    assert r.status_code == 200 and r.context["grade"].status == "correct"
    assert r.context["proposed"] == 4, "right and fast proposes Easy"
    r = signed_in.post(reverse("studyapp:study_rate"), {"token": r.context["token"], "rating": 3,
                                                         "text": repr(asked)})
    assert r.status_code == 302
    review = Review.objects.get()
    assert review.rating == 3 and review.proposed == 4 and review.correct and review.seed == variant.seed


def test_tokens_are_per_user_and_tamper_proof(signed_in, bank, client):
    page = signed_in.get(reverse("studyapp:study_review"))
    token = page.context["token"]
    r = signed_in.post(reverse("studyapp:study_rate"), {"token": token[:-3] + "abc", "rating": 3})
    assert r.status_code == 302 and not Review.objects.exists()
    eve = User.objects.create_user("eve", password="pw-eve-12345")
    client.force_login(eve)
    r = client.post(reverse("studyapp:study_rate"), {"token": token, "rating": 3})
    assert r.status_code == 302 and not Review.objects.exists(), "someone else's card is refused"
    assert signed_in.post(reverse("studyapp:study_rate"), {"token": token, "rating": 9}).status_code == 400


def test_undo_page_and_anonymous_visitors(signed_in, bank, client):
    r = signed_in.post(reverse("studyapp:study_undo"))
    assert r.status_code == 302
    client.logout()
    assert client.get(reverse("studyapp:study_index")).status_code == 302


def simulated_history(user, cards=45, reviews_each=12, seed=0):
    """A plausible review history: recall drawn from FSRS's own retrievability."""
    import random

    rng = random.Random(seed)
    questions = list(Question.objects.all()[:cards])
    for n in range(cards):
        question = questions[n % len(questions)]
        now = T0
        for _ in range(reviews_each):
            card = StudyCard.objects.filter(user=user, question=question).first()
            if card is not None:
                now = max(now, card.due)
            state = fsrs.Card.from_dict(card.fsrs) if card else None
            recall = fsrs.Scheduler().get_card_retrievability(state, now) if state and state.stability else 0.9
            rating = 1 if rng.random() > recall * 0.95 else rng.choice([3, 3, 3, 4, 2])
            flashcards.review_rate(user=user, question=question, rating=rating, now=now, duration_ms=4000)
            now += timedelta(minutes=1)


def test_parameters_are_fitted_to_a_users_own_reviews(bank, ada):
    assert flashcards.profile_optimise(user=ada, min_reviews=512) is None, "too few reviews"
    distinct = Question.objects.count()
    simulated_history(ada, cards=distinct, reviews_each=60 // max(1, distinct // 10))
    n = Review.objects.filter(user=ada).count()
    params = flashcards.profile_optimise(user=ada, min_reviews=min(n, 100))
    assert params is not None and len(params) == 21
    profile = flashcards.profile_for(ada)
    assert profile.fsrs_parameters == params and profile.optimised_at is not None
    card = flashcards.review_rate(user=ada, question=Question.objects.first(), rating=3,
                                  now=T0 + timedelta(days=400))
    assert card.due > T0 + timedelta(days=400), "the fitted scheduler schedules"


def test_export_downloads_the_chosen_decks_as_apkg(signed_in, bank):
    r = signed_in.get(reverse("studyapp:study_export"))
    assert r.status_code == 200 and r["Content-Disposition"].endswith('.apkg"')
    assert r.content[:2] == b"PK", "an .apkg is a zip file"


def test_home_shows_a_signed_in_users_progress(signed_in, bank, client):
    html = signed_in.get(reverse("studyapp:home")).content.decode()
    assert "Where you are" in html and "cards due" in html
    client.logout()
    assert "Where you are" not in client.get(reverse("studyapp:home")).content.decode()
