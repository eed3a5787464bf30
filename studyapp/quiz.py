"""Timed quizzes: the state changes of an attempt (start, save, submit, close, regrade).

The server's clock is the only clock. ``deadline = started_at + time_limit`` is
stored when an attempt starts; every save and submit locks the attempt row
(``select_for_update``) and checks the clock, so a save can never slip in
after the attempt is closed and concurrent saves never lose an answer (each
answer is its own row; the lock orders them). Answers arriving after the
deadline plus ``QUIZ_GRACE_SECONDS`` are refused; an attempt nobody submits is
closed by ``attempts_close_overdue`` (the ``close_attempts`` command, run on a
schedule, and lazily whenever the attempt is opened) with
``finished_at = deadline``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from studyapp import grading
from studyapp.models import (
    Area,
    Attempt,
    AttemptStatus,
    ItemType,
    QuestionStatus,
    Quiz,
    QuizItem,
    QuizMix,
    Response,
    Variant,
)
from studyapp.services import answer_is_exact, item_worked, load_engine, variant_get_or_create

VARIANT_POOL = 100_000  # quiz variants are drawn from seeds 1..VARIANT_POOL (0 is the card's example)
POOL_SIZE = 64  # stored variants per item before quizzes reuse unseen ones instead of computing
MAX_QUESTIONS = 50
MAX_TIME_LIMIT = 4 * 3600


class AttemptClosed(Exception):
    """The attempt no longer takes answers; the message says why, for the user."""


def grace() -> timedelta:
    return timedelta(seconds=settings.QUIZ_GRACE_SECONDS)


def remaining_seconds(attempt: Attempt, now: datetime | None = None) -> float:
    """Seconds left before the deadline (0 once it has passed)."""
    now = now or timezone.now()
    return max(0.0, (attempt.deadline - now).total_seconds()) if attempt.is_open else 0.0


# -- starting ---------------------------------------------------------------------------------

def _draw(*, user, areas: list[Area], count: int, mix: str, rng: random.Random,
          seen: list[tuple[int, int | None, int]]) -> list[QuizItem]:
    """One item per question for ``count`` questions: questions this user has not met in a quiz
    come first, and within a question, items they have not answered."""
    items = QuizItem.objects.filter(
        version__question__status=QuestionStatus.PUBLISHED,
        version__question__current=F("version"),
    )
    if areas:
        items = items.filter(version__question__area__in=areas)
    if mix == QuizMix.NUMERIC:
        items = items.filter(type=ItemType.NUMERIC)
    by_question: dict[int, list[int]] = defaultdict(list)
    for pk, question in items.values_list("pk", "version__question_id"):
        by_question[question].append(pk)
    seen_items = {item for item, _seed, _question in seen}
    seen_questions = {question for _item, _seed, question in seen}
    questions = list(by_question)
    rng.shuffle(questions)
    questions.sort(key=lambda q: q in seen_questions)  # stable: unseen first, random within
    drawn = []
    for q in questions[:count]:
        choices = by_question[q]
        fresh = [i for i in choices if i not in seen_items]
        drawn.append(rng.choice(fresh or choices))
    by_pk = QuizItem.objects.select_related("version__question").in_bulk(drawn)
    return [by_pk[pk] for pk in drawn]


def _fresh_seed(*, item: QuizItem, pool: dict[int, Variant], seen: set[int], rng: random.Random) -> int:
    """A seed of ``item`` this user has not had: new numbers at every attempt.

    Once ``POOL_SIZE`` variants of the item are stored, an unseen stored one is reused
    (no engine work when an exam starts for a whole class); until then a new seed
    is drawn, which computes and stores one more variant.
    """
    if not item.vary:
        return 0
    unseen = [s for s in pool if s not in seen]
    if len(pool) >= POOL_SIZE and unseen:
        return rng.choice(unseen)
    while True:
        seed = rng.randint(1, VARIANT_POOL)
        if seed not in seen:
            return seed


def attempt_start(*, user, areas: list[Area] = (), count: int = 10, mix: str = QuizMix.MIXED,
                  time_limit: int = 15 * 60, layout: str = "all", quiz: Quiz | None = None,
                  rng: random.Random | None = None, now: datetime | None = None) -> Attempt:
    """Draw the questions and numbers and store them on a new attempt; the clock starts now.

    A staff quiz supplies areas, count, mix and time limit. Raises ValueError
    naming the problem when nothing can be drawn or a setting is out of range.
    """
    if quiz is not None:
        areas, count, mix, time_limit = list(quiz.areas.all()), quiz.question_count, quiz.mix, quiz.time_limit
    if not 1 <= count <= MAX_QUESTIONS:
        raise ValueError(_("The number of questions must be between 1 and %(n)d.") % {"n": MAX_QUESTIONS})
    if not 1 <= time_limit <= MAX_TIME_LIMIT:
        raise ValueError(_("The time limit must be between 1 second and %(n)d hours.")
                         % {"n": MAX_TIME_LIMIT // 3600})
    if mix not in QuizMix.values:
        raise ValueError(_("Unknown question mix %(mix)r.") % {"mix": mix})
    rng = rng or random.Random()
    seen = list(Response.objects.filter(attempt__user=user)
                .values_list("item_id", "seed", "item__version__question_id"))
    drawn = _draw(user=user, areas=areas, count=count, mix=mix, rng=rng, seen=seen)
    if not drawn:
        raise ValueError(_("No published questions match these areas and item types."))
    engine = load_engine()
    numeric = [i for i in drawn if i.type == ItemType.NUMERIC]
    pools: dict[int, dict[int, Variant]] = defaultdict(dict)  # stored variants, one query
    for v in Variant.objects.filter(item__in=numeric, seed__gte=1):
        pools[v.item_id][v.seed] = v
    prepared = []
    for item in drawn:  # the variants exist before the clock starts
        seed = variant = params = expected = None
        if item.type == ItemType.NUMERIC:
            seen_seeds = {sd for it, sd, _q in seen if it == item.pk}
            for _attempt in range(10):  # a seed the generator cannot fill is skipped, not an error
                seed = _fresh_seed(item=item, pool=pools[item.pk], seen=seen_seeds, rng=rng)
                try:
                    variant = pools[item.pk].get(seed) or variant_get_or_create(item=item, seed=seed)
                    break
                except RuntimeError:
                    continue
            else:
                raise ValueError(_("Question %(q)s cannot make new numbers right now.")
                                 % {"q": item.version.question.code})
            params, expected = variant.params, engine.answer_at(variant.answer, item.answer_key)
        prepared.append((item, seed, variant, params, expected))
    spec = {"areas": [a.slug for a in areas], "count": count, "mix": mix, "time_limit": time_limit,
            "layout": layout if layout in ("all", "one") else "all"}
    now = now or timezone.now()
    title = quiz.title_en if quiz else _custom_title(areas, len(drawn), time_limit)
    small = [i.pk for i in numeric if i.vary and len(pools[i.pk]) < POOL_SIZE]
    with transaction.atomic():
        if small:  # let the worker grow these pools so later starts reuse stored variants
            transaction.on_commit(lambda: _enqueue_pool_fills(small))
        attempt = Attempt.objects.create(
            user=user, quiz=quiz, title=title, spec=spec, time_limit=time_limit, started_at=now,
            deadline=now + timedelta(seconds=time_limit), max_score=len(drawn))
        Response.objects.bulk_create([
            Response(attempt=attempt, position=n, item=item, seed=seed, variant=variant,
                     params=params, expected=expected)
            for n, (item, seed, variant, params, expected) in enumerate(prepared)
        ])
    return attempt


def _enqueue_pool_fills(item_ids: list[int]) -> None:
    from studyapp.tasks import fill_variant_pool

    for pk in item_ids:
        fill_variant_pool.enqueue(pk)


def _custom_title(areas: list[Area], count: int, time_limit: int) -> str:
    names = ", ".join(a.code for a in areas) or "All areas"
    return f"{names}: {count} questions, {round(time_limit / 60)} min"


def attempt_retake(*, attempt: Attempt, rng: random.Random | None = None) -> Attempt:
    """A new attempt asking for the same thing, with questions and numbers drawn afresh."""
    spec = attempt.spec
    if attempt.quiz is not None:
        return attempt_start(user=attempt.user, quiz=attempt.quiz, layout=spec.get("layout", "all"),
                             rng=rng)
    return attempt_start(user=attempt.user, areas=list(Area.objects.filter(slug__in=spec["areas"])),
                         count=spec["count"], mix=spec["mix"], time_limit=spec["time_limit"],
                         layout=spec.get("layout", "all"), rng=rng)


# -- answering ----------------------------------------------------------------------------------

@dataclass
class SaveResult:
    saved: bool
    remaining: float
    problem: str = ""  # why the text cannot be graded yet (it is saved all the same)


def _locked(attempt_id, user, fields: tuple[str, ...] = ()) -> Attempt:
    """The attempt, row-locked until the transaction ends; DoesNotExist for anyone else's."""
    attempts = Attempt.objects.select_for_update().for_user(user)
    return (attempts.only(*fields) if fields else attempts).get(pk=attempt_id)


def _refuse_if_closed(attempt: Attempt, now: datetime) -> None:
    if not attempt.is_open:
        raise AttemptClosed(_("This quiz has already been submitted; answers can no longer change."))
    if now > attempt.deadline + grace():
        raise AttemptClosed(_("Time ran out at %(time)s; answers sent after that are not accepted.")
                            % {"time": timezone.localtime(attempt.deadline).strftime("%H:%M:%S")})


def readability(response: Response, text: str) -> str:
    """Why ``text`` cannot be graded for this response ('' when it can, or when blank)."""
    if not text.strip():
        return ""
    item = response.item
    try:
        if item.type == ItemType.NUMERIC:
            grading.read_answer(text, response.expected)
        elif item.type in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
            grading.read_choices(text, options=len(item.options),
                                 single=item.type == ItemType.SINGLE_CHOICE)
    except grading.AnswerFormatError as exc:
        return str(exc)
    return ""


def response_save(*, attempt_id, user, position: int, text: str, seq: int = 0,
                  now: datetime | None = None) -> SaveResult:
    """Store one answer as typed (autosave). Raises Attempt.DoesNotExist for another user's
    attempt, Response.DoesNotExist for a position the attempt does not have, and
    AttemptClosed after the deadline and grace.

    ``seq`` numbers the browser's saves of this answer; a save older than the
    stored one (a retry arriving late) is ignored, so the newest text wins.
    """
    with transaction.atomic():
        attempt = _locked(attempt_id, user, fields=("user", "status", "deadline"))
        now = now or timezone.now()
        _refuse_if_closed(attempt, now)
        stored = Response.objects.filter(attempt_id=attempt.pk, position=position)
        newer = stored.filter(client_seq__lte=seq) if seq else stored  # seq 0: a plain form post
        updated = newer.update(text=text, client_seq=seq, saved_at=now)
        if not updated:
            stored.get()  # Response.DoesNotExist when there is no such question
            return SaveResult(saved=False, remaining=remaining_seconds(attempt, now))
    response = stored.select_related("item").only(
        "expected", "item__type", "item__options").get() if text.strip() else None
    return SaveResult(saved=True, remaining=remaining_seconds(attempt, now),
                      problem=readability(response, text) if response else "")


@dataclass
class SubmitOutcome:
    attempt: Attempt
    problems: dict[int, str] = field(default_factory=dict)  # position -> why unreadable (not submitted)
    late: bool = False  # the submitted answers arrived after the grace and were not taken


def attempt_submit(*, attempt_id, user, answers: dict[int, str] | None = None, confirm: bool = False,
                   now: datetime | None = None) -> SubmitOutcome:
    """Save the final answers, grade, and close the attempt. Idempotent.

    When time remains and some answer cannot be read, the answers are saved but
    the attempt stays open and ``problems`` says why, unless ``confirm`` (the
    user submits anyway, or the page submits itself at the deadline). After the
    deadline and grace, ``answers`` are refused and the attempt is closed with
    what was saved in time.
    """
    with transaction.atomic():
        attempt = _locked(attempt_id, user)
        if not attempt.is_open:
            return SubmitOutcome(attempt)
        now = now or timezone.now()
        late = now > attempt.deadline + grace()
        responses = list(attempt.responses.select_related("item__version__question", "variant"))
        if answers and not late:
            for r in responses:
                if r.position in answers and answers[r.position] != r.text:
                    r.text, r.saved_at = answers[r.position], now
                    r.save(update_fields=["text", "saved_at"])
        if not late and not confirm and now <= attempt.deadline:
            problems = {r.position: p for r in responses if (p := readability(r, r.text))}
            if problems:
                return SubmitOutcome(attempt, problems=problems)
        finished = min(now, attempt.deadline)
        status = AttemptStatus.EXPIRED if late else AttemptStatus.SUBMITTED
        _grade_and_close(attempt, responses, finished_at=finished, status=status)
    return SubmitOutcome(attempt, late=late and bool(answers))


def attempts_close_overdue(*, now: datetime | None = None) -> int:
    """Close every open attempt past its deadline and grace, graded on what was saved in time,
    with ``finished_at = deadline``. Returns how many were closed."""
    now = now or timezone.now()
    closed = 0
    for pk in Attempt.objects.overdue(now, grace()).values_list("pk", flat=True):
        if attempt_close_if_overdue(attempt_id=pk, now=now):
            closed += 1
    return closed


def attempt_close_if_overdue(*, attempt_id, now: datetime | None = None) -> bool:
    """Close one attempt if it is still open past its deadline and grace."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
        if not attempt.is_open or now <= attempt.deadline + grace():
            return False
        responses = list(attempt.responses.select_related("item__version__question", "variant"))
        _grade_and_close(attempt, responses, finished_at=attempt.deadline, status=AttemptStatus.EXPIRED)
    return True


def response_self_grade(*, attempt_id, user, position: int, correct: bool) -> Attempt:
    """The user marks a self-graded answer after seeing the model answer (finished attempts only)."""
    with transaction.atomic():
        attempt = _locked(attempt_id, user)
        if attempt.is_open:
            raise AttemptClosed(_("Submit the quiz before marking your own answers."))
        response = attempt.responses.select_related("item").get(position=position)
        if response.item.type != ItemType.SELF_GRADED:
            raise ValueError(_("Only self-graded answers can be marked by hand."))
        response.self_grade = correct
        _apply(response, grading.grade_self(response.text, correct))
        response.save(update_fields=["self_grade", "status", "score", "feedback"])
        _total(attempt)
        attempt.save(update_fields=["score"])
    return attempt


# -- grading ------------------------------------------------------------------------------------

def grade_response(response: Response, item: QuizItem | None = None,
                   expected: Any = None) -> grading.Grade:
    """Grade what was typed against ``item`` (default: the pinned one) and ``expected``."""
    return grade_item(item or response.item, response.text, seed=response.seed or 0,
                      expected=response.expected if expected is None else expected,
                      self_grade=response.self_grade)


def grade_item(item: QuizItem, text: str, *, seed: int = 0, expected: Any = None,
               self_grade: bool | None = None) -> grading.Grade:
    """Grade ``text`` for ``item``: numeric answers against ``expected`` (the variant ``seed``'s
    asked value) naming the misconception a wrong number matches, choices against the
    correct options, self-graded answers by the user's own mark."""
    if item.type == ItemType.NUMERIC:
        engine = load_engine()
        worked = item_worked(item=item, seed=seed)
        if expected is None:
            expected = worked.asked
        miscs = []
        for m in worked.solution.get("misconceptions", []):
            try:
                miscs.append({**m, "value": engine.answer_at(m["answer"], item.answer_key)})
            except ValueError:
                continue  # this mistake does not produce the asked key
        return grading.grade_numeric(text, expected, rtol=item.rtol, atol=item.atol,
                                     exact_match=answer_is_exact(item=item), misconceptions=miscs)
    if item.type in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
        correct = [i for i, o in enumerate(item.options) if o.get("correct")]
        return grading.grade_choice(text, correct, options=len(item.options),
                                    single=item.type == ItemType.SINGLE_CHOICE)
    return grading.grade_self(text, self_grade)


def _apply(response: Response, grade: grading.Grade) -> None:
    response.status, response.score = grade.status, grade.score
    response.feedback = {"message": grade.message, "misconception": grade.misconception,
                         "given": grade.given}


def _total(attempt: Attempt) -> None:
    attempt.score = sum(r.score or 0.0 for r in attempt.responses.all())


def _grade_and_close(attempt: Attempt, responses: list[Response], *, finished_at: datetime,
                     status: str) -> None:
    for r in responses:
        _apply(r, grade_response(r))
    Response.objects.bulk_update(responses, ["status", "score", "feedback"])
    attempt.status, attempt.finished_at = status, finished_at
    attempt.score = sum(r.score or 0.0 for r in responses)
    attempt.save(update_fields=["status", "finished_at", "score"])


# -- regrading ------------------------------------------------------------------------------------

@dataclass
class RegradeChange:
    """What regrading one response against the current version changes (or would change)."""

    attempt: Attempt
    position: int
    question: str
    old_status: str
    new_status: str
    old_expected: Any = None
    new_expected: Any = None
    note: str = ""


def attempts_regrade(*, attempts: QuerySet[Attempt], dry_run: bool = True,
                     now: datetime | None = None) -> list[RegradeChange]:
    """Grade finished attempts again against each question's current version.

    A response moves to the item at the same position of the current version,
    with the same seed (so the same variant when the numbers did not change).
    With ``dry_run`` nothing is written: the list says what would change.
    """
    engine = load_engine()
    now = now or timezone.now()
    changes: list[RegradeChange] = []
    for attempt_id in attempts.exclude(status=AttemptStatus.IN_PROGRESS).values_list("pk", flat=True):
        with transaction.atomic():
            attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
            responses = list(attempt.responses.select_related("item__version__question__current"))
            changed = []
            for r in responses:
                question = r.item.version.question
                item = r.item
                if question.current_id != item.version_id and question.current is not None:
                    item = question.current.items.filter(position=r.item.position).first()
                    if item is None or item.type != r.item.type:
                        changes.append(RegradeChange(attempt, r.position, question.slug, r.status,
                                                     r.status, note="item removed or retyped; kept"))
                        continue
                variant, expected = None, None
                if item.type == ItemType.NUMERIC:
                    variant = variant_get_or_create(item=item, seed=r.seed or 0)
                    expected = engine.answer_at(variant.answer, item.answer_key)
                grade = grade_response(r, item, expected)
                if grade.status != r.status or item.pk != r.item_id or expected != r.expected:
                    changes.append(RegradeChange(attempt, r.position, question.slug, r.status,
                                                 grade.status, r.expected, expected))
                    changed.append((r, item, variant, expected, grade))
            if not dry_run and changed:
                for r, item, variant, expected, grade in changed:
                    r.item, r.variant, r.expected = item, variant, expected
                    r.params = variant.params if variant else None
                    _apply(r, grade)
                    r.save(update_fields=["item", "variant", "expected", "params", "status",
                                          "score", "feedback"])
                _total(attempt)
                attempt.regraded_at = now
                attempt.save(update_fields=["score", "regraded_at"])
    return changes
