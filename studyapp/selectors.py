"""Reads that span models or leave the database (health checks)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, Count, Exists, Max, OuterRef, Prefetch, Q, Value, When

from studyapp import __version__
from studyapp.models import Area, Attempt, ItemType, Question, Quiz, QuizItem, Response

BANK_STAMP_KEY = "bank-stamp"
BANK_STAMP_SECONDS = 5


def bank_stamp() -> str:
    """Changes whenever published content does (keys of cached pages and fragments).

    Read from the cache, where it lives for BANK_STAMP_SECONDS; saving or deleting a question
    drops it at once (``forget_bank_stamp``, connected in apps.py). The short lifetime bounds
    the one race left, a reader storing a stamp it read just before a publish committed.
    """
    stamp = cache.get(BANK_STAMP_KEY)
    if stamp is None:
        row = Question.objects.aggregate(updated=Max("updated_at"), n=Count("pk"))
        stamp = f"{row['n']}-{row['updated'].timestamp() if row['updated'] else 0}"
        cache.set(BANK_STAMP_KEY, stamp, BANK_STAMP_SECONDS)
    return stamp


def forget_bank_stamp(**kwargs: Any) -> None:
    """Drop the cached stamp now and again when the transaction commits (signal receiver)."""
    cache.delete(BANK_STAMP_KEY)
    transaction.on_commit(lambda: cache.delete(BANK_STAMP_KEY))


def areas_for_home():
    return Area.objects.all()


def health_report() -> tuple[bool, dict[str, Any]]:
    """Check the database and the engine; return (healthy, report)."""
    report: dict[str, Any] = {"version": __version__}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        report["database"] = {"ok": True, "vendor": connection.vendor}
    except DatabaseError as exc:
        healthy = False
        report["database"] = {"ok": False, "error": str(exc).splitlines()[0][:200]}
    try:
        engine = importlib.import_module("engine")
        report["engine"] = {"ok": True, **engine.runtime_info()}
    except Exception as exc:  # noqa: BLE001 - any import failure makes the engine unhealthy
        healthy = False
        report["engine"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
    report["status"] = "ok" if healthy else "error"
    return healthy, report


def _pair(obj, field: str) -> dict[str, str]:
    return {"zh-hans": getattr(obj, f"{field}_zh"), "en": getattr(obj, f"{field}_en")}


def _item_export(item) -> dict[str, Any]:
    out: dict[str, Any] = {"type": item.type}
    if item.prompt_zh or item.prompt_en:
        out["prompt"] = _pair(item, "prompt")
    if item.type == "numeric":
        out.update({"kind": item.kind, "params": item.params, "answer_key": item.answer_key,
                    "vary": item.vary, "fixed": item.fixed})
        out.update({k: getattr(item, k) for k in ("rtol", "atol") if getattr(item, k) is not None})
    if item.options:
        out["options"] = item.options
    if item.explanation_zh or item.explanation_en:
        out["explanation"] = _pair(item, "explanation")
    return out


def _claim_export(claim) -> dict[str, Any]:
    out: dict[str, Any] = {"source": {"seed": claim.seed, "section": claim.section},
                           "stated": claim.stated}
    if claim.status == "underspecified":
        out["underspecified"] = True
    else:
        out.update({"value": claim.stated_value, "kind": claim.kind, "params": claim.params,
                    "answer_key": claim.answer_key, "computed": claim.computed_value})
    out["status"] = claim.status
    if claim.explanation_zh or claim.explanation_en:
        out["explanation"] = _pair(claim, "explanation")
    return out


def bank_export() -> dict[str, Any]:
    """The whole published bank in the bank-file format (``load_bank --file`` reads it back)."""
    areas = [
        {"slug": a.slug, "code": a.code, "name": _pair(a, "name"),
         "description": _pair(a, "description")}
        for a in Area.objects.all()
    ]
    qs = (Question.objects.published()
          .select_related("area", "current")
          .prefetch_related("tags", "current__items", "current__claims"))
    return {"areas": areas, "questions": [question_export(q, q.current) for q in qs]}


def question_export(question: Question, version) -> dict[str, Any]:
    """One question with ``version``'s content, in the bank-file format."""
    return {
        "slug": question.slug, "area": question.area.slug, "importance": question.importance,
        "difficulty": question.difficulty, "tags": [t.slug for t in question.tags.all()],
        "title": _pair(version, "title"), "prompt": _pair(version, "prompt"),
        "answer": _pair(version, "answer"), "sources": version.sources,
        "items": [_item_export(i) for i in version.items.all()],
        "claims": [_claim_export(c) for c in version.claims.all()],
    }


def question_editable(question: Question) -> dict[str, Any] | None:
    """What the admin edits: the saved draft, else the published version (None for a new one)."""
    if question.draft:
        return question.draft
    return question_export(question, question.current) if question.current_id else None


def _search_q(term: str) -> Q:
    q = Q()
    for field in ("title", "prompt", "answer"):
        for lang in ("zh", "en"):
            q |= Q(**{f"current__{field}_{lang}__icontains": term})
    return q


def question_list(*, filters: dict[str, Any] | None = None):
    """Published questions for the list page, filtered and, with a search, ranked.

    Search matches every whitespace-separated term as a substring of the title,
    prompt or answer in either language (so two-character Chinese words such as
    卷积 match); a match in the title ranks above one in the prompt, then the answer.
    """
    filters = filters or {}
    qs = (Question.objects.published()
          .select_related("area", "current")
          .prefetch_related("tags")
          .annotate(is_numeric=Exists(QuizItem.objects.filter(version=OuterRef("current"),
                                                              type="numeric"))))
    if filters.get("area"):
        qs = qs.filter(area=filters["area"])
    if filters.get("importance"):
        qs = qs.filter(importance=filters["importance"])
    if filters.get("difficulty"):
        qs = qs.filter(difficulty=filters["difficulty"])
    if filters.get("tag"):
        qs = qs.filter(tags=filters["tag"])
    if filters.get("kind") in ("numeric", "conceptual"):
        qs = qs.filter(is_numeric=filters["kind"] == "numeric")
    terms = search_terms(filters.get("q", ""))
    if terms:
        for term in terms:
            qs = qs.filter(_search_q(term))
        rank = Value(0)
        for weight, field in ((4, "title"), (2, "prompt"), (1, "answer")):
            for lang in ("zh", "en"):
                rank = rank + Case(
                    When(**{f"current__{field}_{lang}__icontains": terms[0]}, then=Value(weight)),
                    default=Value(0),
                )
        qs = qs.annotate(rank=rank).order_by("-rank", "area__position", "position")
    return qs


def search_terms(q: str) -> list[str]:
    return [t for t in q.split() if t][:5]


def question_card(*, slug: str) -> Question:
    """One published question with its current version (items, claims and tags are read only
    when the card's cached fragment has to be rendered again)."""
    return Question.objects.published().select_related("area", "current").get(slug=slug)


def question_neighbours(*, slug: str, filters: dict[str, Any]) -> tuple[str | None, str | None]:
    """Slugs before and after ``slug`` in the filtered list (one query)."""
    slugs = list(question_list(filters=filters).values_list("slug", flat=True))
    if slug not in slugs:
        return None, None
    i = slugs.index(slug)
    return (slugs[i - 1] if i > 0 else None), (slugs[i + 1] if i + 1 < len(slugs) else None)


# -- quizzes ---------------------------------------------------------------------------------

def quiz_list():
    """The staff quizzes on offer, with their areas."""
    return Quiz.objects.filter(is_active=True).prefetch_related("areas")


def attempt_history(*, user, limit: int = 50):
    """The user's latest attempts, newest first (none for anonymous visitors)."""
    return Attempt.objects.for_user(user).select_related("quiz")[:limit]


def attempt_for_user(*, user, attempt_id) -> Attempt:
    """``user``'s attempt with its responses and their pinned items; DoesNotExist for anyone else."""
    responses = Response.objects.select_related("item__version__question", "variant")
    return (Attempt.objects.for_user(user).select_related("quiz")
            .prefetch_related(Prefetch("responses", queryset=responses)).get(pk=attempt_id))


@dataclass
class ResponseReview:
    """One question of a finished attempt as the review shows it."""

    response: Response
    band: list[list[float]] | None = None  # accepted interval per expected number
    worked: Any = None  # the variant's worked solution (numeric items)
    correct_options: list[int] | None = None
    picked: list[int] | None = None


def attempt_review(*, attempt: Attempt) -> list[ResponseReview]:
    """Per question: the answer given, the correct one with its tolerance band, and the worked
    solution of the very variant that was asked."""
    from studyapp import grading, services

    reviews = []
    for r in attempt.responses.all():
        item = r.item
        review = ResponseReview(response=r)
        if item.type == ItemType.NUMERIC:
            exact = services.answer_is_exact(item=item)
            review.band = grading.tolerance_band(
                r.expected, rtol=grading.DEFAULT_RTOL if item.rtol is None else item.rtol,
                atol=grading.DEFAULT_ATOL if item.atol is None else item.atol, exact_match=exact)
            review.worked = services.item_worked(item=item, seed=r.seed or 0)
        elif item.type in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
            review.correct_options = [i for i, o in enumerate(item.options) if o.get("correct")]
            given = (r.feedback or {}).get("given")
            review.picked = given if isinstance(given, list) else []
        reviews.append(review)
    return reviews


def attempt_questions(*, attempt: Attempt, problems: dict[int, str]) -> list[Response]:
    """The responses of an open attempt, ready for the page: the shape of answer a numeric item
    wants, the options already picked, and why a saved text cannot be read."""
    from studyapp import grading, quiz

    rows = list(attempt.responses.all())
    for r in rows:
        r.hint, r.picked = "", []
        if r.item.type == ItemType.NUMERIC:
            r.hint = grading.describe_shape(grading.shape_of(r.expected))
        elif r.item.type in (ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE):
            r.picked = [int(p) for p in r.text.split(",") if p.strip().isdigit()]
        r.problem = problems.get(r.position) or quiz.readability(r, r.text)
    return rows
