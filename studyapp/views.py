import re
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from studyapp import flashcards, plots, quiz, selectors, services
from studyapp.forms import (
    CheckAnswerForm,
    KindForm,
    PresetStartForm,
    QuestionFilterForm,
    QuizBuilderForm,
    RateForm,
    SaveAnswerForm,
    SelfGradeForm,
    SignUpForm,
    StudyProfileForm,
    VariantForm,
    submitted_answers,
)
from studyapp.models import Attempt, Question, QuizItem, Response
from studyapp.page_cache import anonymous_page_cache


def form_errors(form) -> str:
    """A form's errors as one line, for a 400 response: ``field: reason; field: reason``."""
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


def _bank_stamp(request) -> str:
    """The bank stamp, read once per request."""
    if not hasattr(request, "bank_stamp"):
        request.bank_stamp = selectors.bank_stamp()
    return request.bank_stamp


@require_GET
def language(request):
    """Switch the interface language (a GET form: no CSRF token on pages, so they can be cached)."""
    code = request.GET.get("language", "")
    if code not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(f"unknown language {code!r}")
    target = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = "/"
    response = redirect(target)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=365 * 24 * 3600,
                        samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


@anonymous_page_cache
@require_GET
def home(request):
    progress = None
    if request.user.is_authenticated:
        progress = {"queue": flashcards.queue_next(user=request.user),
                    "stats": flashcards.stats(user=request.user, days=1),
                    "last_attempt": next(iter(selectors.attempt_history(user=request.user, limit=1)), None)}
    return render(request, "studyapp/home.html", {"areas": selectors.areas_for_home(),
                                                  "progress": progress})


@anonymous_page_cache
@require_GET
def question_list(request):
    form = QuestionFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    return render(request, "studyapp/question_list.html", {
        "bank_stamp": _bank_stamp(request),
        "form": form,
        "questions": selectors.question_list(filters=filters),
        "terms": selectors.search_terms(filters.get("q", "")),
        "query": request.GET.urlencode(),
    })


@anonymous_page_cache
@require_GET
def question_detail(request, slug: str):
    form = VariantForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(form.errors["variant"]))
    try:
        question = selectors.question_card(slug=slug)
    except Question.DoesNotExist:
        raise Http404("No such question") from None
    seed = form.cleaned_data["variant"] or 0
    version = question.current

    # Lazy: computed only when the template's cached fragment misses.
    neighbours = SimpleLazyObject(lambda: selectors.question_neighbours(
        slug=slug, filters=QuestionFilterForm(request.GET).filters() if request.GET else {}))
    return render(request, "studyapp/question_detail.html", {
        "question": question, "version": version, "seed": seed,
        "worked": SimpleLazyObject(lambda: [services.item_worked(item=item, seed=seed)
                                            for item in version.items.all() if item.type == "numeric"]),
        "choice_items": SimpleLazyObject(lambda: [i for i in version.items.all() if i.type != "numeric"]),
        "claims": SimpleLazyObject(lambda: list(version.claims.all())),
        "previous": SimpleLazyObject(lambda: neighbours[0] or ""),
        "next": SimpleLazyObject(lambda: neighbours[1] or ""),
        "query": request.GET.urlencode(), "bank_stamp": _bank_stamp(request),
    })


@require_GET
def engine_index(request):
    return render(request, "studyapp/engine_index.html", {"kinds": services.engine_kinds()})


@require_GET
def engine_calculator(request, kind: str):
    try:
        schema = services.engine_schema(kind=kind)
    except ValueError:
        raise Http404("No such engine kind") from None
    form = KindForm(schema, request.GET or None)
    if form.is_bound:
        params = form.raw_params() if form.is_valid() else None
    else:
        params = services.engine_example(kind=kind)
        form.initial_from(params)
    solution, chart = None, ""
    if params is not None and not form.errors:
        try:
            solution = services.engine_calculate(kind=kind, params=params)
            chart = services.calculator_plot(kind=kind, params=params,
                                             english=request.LANGUAGE_CODE == "en")
        except ValueError as exc:
            form.add_error(engine_error_field(str(exc), form), str(exc))
    return render(request, "studyapp/engine_calculator.html", {
        "schema": schema, "form": form, "solution": solution, "chart": chart,
    }, status=400 if form.errors else 200)


def engine_error_field(message: str, form) -> str | None:
    """The form field an engine message is about ("parameter 'lr': ..."), if it has one."""
    match = re.match(r"parameter '(\w+)'", message)
    return match.group(1) if match and match.group(1) in form.fields else None


@never_cache
@require_GET
def ping(request):
    """Liveness without touching the database or the engine (load balancers; the web benchmark's
    bare view)."""
    return HttpResponse("pong", content_type="text/plain")


@never_cache
@require_GET
def healthz(request):
    healthy, report = selectors.health_report()
    return JsonResponse(report, status=200 if healthy else 503)


# -- accounts ---------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(request.GET.get("next") if url_has_allowed_host_and_scheme(
            request.GET.get("next"), allowed_hosts={request.get_host()}) else "studyapp:quiz_index")
    return render(request, "registration/signup.html", {"form": form},
                  status=400 if form.errors else 200)


# -- quizzes --------------------------------------------------------------------------------

def _quiz_index(request, builder=None, status=200):
    return render(request, "studyapp/quiz_index.html", {
        "quizzes": selectors.quiz_list(),
        "builder": builder or QuizBuilderForm(),
        "attempts": selectors.attempt_history(user=request.user),
    }, status=status)


@require_GET
def quiz_index(request):
    return _quiz_index(request)


@login_required
@require_POST
def quiz_start(request):
    if "quiz" in request.POST:
        form = PresetStartForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(" ".join(form.errors.get("quiz", ["bad request"])))
        kwargs = {"quiz": form.cleaned_data["quiz"], "layout": form.cleaned_data["layout"] or "all"}
    else:
        form = QuizBuilderForm(request.POST)
        if not form.is_valid():
            return _quiz_index(request, builder=form, status=400)
        data = form.cleaned_data
        kwargs = {"areas": list(data["areas"]), "count": data["count"], "mix": data["mix"],
                  "time_limit": data["minutes"] * 60, "layout": data["layout"]}
    try:
        attempt = quiz.attempt_start(user=request.user, **kwargs)
    except ValueError as exc:
        if isinstance(form, QuizBuilderForm):
            form.add_error(None, str(exc))
            return _quiz_index(request, builder=form, status=400)
        return HttpResponseBadRequest(str(exc))
    return redirect(attempt)


def _attempt_or_404(request, attempt_id):
    """The user's own attempt, closed first when its time ran out; 404 for anyone else's."""
    try:
        attempt = selectors.attempt_for_user(user=request.user, attempt_id=attempt_id)
    except Attempt.DoesNotExist:
        raise Http404("No such attempt") from None
    if attempt.is_open and quiz.attempt_close_if_overdue(attempt_id=attempt.pk):
        attempt = selectors.attempt_for_user(user=request.user, attempt_id=attempt_id)
    return attempt


@never_cache
@login_required
@require_GET
def attempt_take(request, attempt_id):
    attempt = _attempt_or_404(request, attempt_id)
    if not attempt.is_open:
        return redirect("studyapp:attempt_review", attempt_id=attempt.pk)
    layout = request.GET.get("layout") or attempt.spec.get("layout", "all")
    current = None
    if layout == "one":
        try:
            current = min(max(int(request.GET.get("q", 0)), 0), attempt.max_score - 1)
        except ValueError:
            return HttpResponseBadRequest("q must be a question number")
    return _take_page(request, attempt, layout=layout, current=current)


def _take_page(request, attempt, *, layout="all", current=None, problems=None, status=200):
    responses = selectors.attempt_questions(attempt=attempt, problems=problems or {})
    return render(request, "studyapp/attempt_take.html", {
        "attempt": attempt, "responses": responses, "layout": layout, "current": current,
        "remaining": quiz.remaining_seconds(attempt), "problems": problems or {},
    }, status=status)


@never_cache
@login_required
@require_POST
def attempt_save(request, attempt_id):
    """Autosave of one answer: JSON for the page's script, a redirect for a plain form."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    data = request.POST.copy()
    if "text" not in data and data.get("position", "").isdigit():  # the page's Previous/Next buttons
        position = int(data["position"])
        data["text"] = submitted_answers(request.POST, [position]).get(position, "")
    form = SaveAnswerForm(data)
    if not form.is_valid():
        reason = form_errors(form)
        return JsonResponse({"saved": False, "error": reason}, status=400)
    data = form.cleaned_data
    try:
        result = quiz.response_save(attempt_id=attempt_id, user=request.user,
                                    position=data["position"], text=data["text"], seq=data["seq"] or 0)
    except Attempt.DoesNotExist:
        raise Http404("No such attempt") from None
    except Response.DoesNotExist:
        return JsonResponse({"saved": False, "error": "this quiz has no such question"}, status=400)
    except quiz.AttemptClosed as exc:
        if not wants_json:
            messages.error(request, str(exc))
            return redirect("studyapp:attempt", attempt_id=attempt_id)
        return JsonResponse({"saved": False, "closed": True, "error": str(exc)}, status=409)
    if not wants_json:
        target = request.POST.get("go")
        url = reverse("studyapp:attempt", args=[attempt_id])
        return redirect(f"{url}?layout=one&q={int(target)}" if target and target.isdigit() else url)
    return JsonResponse({"saved": result.saved, "remaining": result.remaining,
                         "problem": result.problem})


@never_cache
@login_required
@require_POST
def attempt_submit(request, attempt_id):
    attempt = _attempt_or_404(request, attempt_id)
    positions = list(attempt.responses.values_list("position", flat=True))
    answers = submitted_answers(request.POST, positions)
    outcome = quiz.attempt_submit(attempt_id=attempt.pk, user=request.user, answers=answers,
                                  confirm=request.POST.get("confirm") == "1")
    if outcome.problems:
        attempt = selectors.attempt_for_user(user=request.user, attempt_id=attempt.pk)
        return _take_page(request, attempt, problems=outcome.problems, status=400)
    if outcome.late:
        messages.warning(request, _("Time ran out before these answers arrived; the answers saved "
                                    "before the deadline were graded."))
    return redirect("studyapp:attempt_review", attempt_id=attempt.pk)


@login_required
@require_GET
def attempt_review(request, attempt_id):
    attempt = _attempt_or_404(request, attempt_id)
    if attempt.is_open:
        return redirect(attempt)
    return render(request, "studyapp/attempt_review.html", {
        "attempt": attempt, "reviews": selectors.attempt_review(attempt=attempt),
    })


@login_required
@require_POST
def attempt_self_grade(request, attempt_id):
    attempt = _attempt_or_404(request, attempt_id)
    form = SelfGradeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form))
    try:
        quiz.response_self_grade(attempt_id=attempt.pk, user=request.user, **form.cleaned_data)
    except (quiz.AttemptClosed, ValueError, Response.DoesNotExist) as exc:
        return HttpResponseBadRequest(str(exc) or "no such question")
    url = reverse("studyapp:attempt_review", args=[attempt.pk])
    return redirect(f"{url}#q{form.cleaned_data['position'] + 1}")


@login_required
@require_POST
def attempt_retake(request, attempt_id):
    attempt = _attempt_or_404(request, attempt_id)
    try:
        new = quiz.attempt_retake(attempt=attempt)
    except ValueError as exc:
        return HttpResponseBadRequest(str(exc))
    return redirect(new)


# -- flashcards ----------------------------------------------------------------------------------

CARD_SALT = "studyapp.flashcard"
CARD_MAX_AGE = 24 * 3600


def _card_token(request, **data) -> str:
    return signing.dumps({"u": request.user.pk, **data}, salt=CARD_SALT)


def _read_card_token(request, token: str) -> dict:
    """The card a token names; ValueError when it is forged, stale or someone else's."""
    try:
        data = signing.loads(token, salt=CARD_SALT, max_age=CARD_MAX_AGE)
    except signing.BadSignature:
        raise ValueError(_("This card has expired; here is the next one.")) from None
    if data.get("u") != request.user.pk:
        raise ValueError(_("This card belongs to another session."))
    return data


@login_required
@require_http_methods(["GET", "POST"])
def study_index(request):
    profile = flashcards.profile_for(request.user)
    form = StudyProfileForm(request.POST or None, instance=profile)
    if request.method == "POST":
        if form.is_valid():
            flashcards.profile_update(profile=profile, data=form.cleaned_data)
            messages.success(request, _("Settings saved."))
            return redirect("studyapp:study_index")
    queue = flashcards.queue_next(user=request.user)
    stats = flashcards.stats(user=request.user)
    english = request.LANGUAGE_CODE == "en"
    return render(request, "studyapp/study_index.html", {
        "form": form, "queue": queue, "stats": stats, "profile": profile,
        "retention_today": flashcards.effective_retention(
            profile, flashcards.local_today(profile, timezone.now())),
        "charts": plots.study_charts(stats=stats, forecast=flashcards.forecast(user=request.user),
                                     english=english),
    }, status=400 if form.errors else 200)


@never_cache
@login_required
@require_GET
def study_review(request):
    queue = flashcards.queue_next(user=request.user)
    if queue.question is None:
        return render(request, "studyapp/study_done.html", {"queue": queue})
    question = queue.question
    item = flashcards.numeric_item(question, request.user)
    context = {"queue": queue, "question": question, "version": question.current, "item": item}
    if item is not None:
        seed = flashcards.fresh_seed(user=request.user, item=item)
        try:
            variant = services.variant_get_or_create(item=item, seed=seed)
        except RuntimeError:
            seed, variant = 0, services.variant_get_or_create(item=item, seed=0)
        context.update(variant=variant, seed=seed)
    context["token"] = _card_token(request, q=question.pk, i=item.pk if item else None,
                                   s=context.get("seed"), t=time.time())
    return render(request, "studyapp/study_card.html", context)


@login_required
@require_POST
def study_check(request):
    """Grade a numeric card's typed answer and propose a rating from correctness and time."""
    form = CheckAnswerForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form))
    try:
        data = _read_card_token(request, form.cleaned_data["token"])
        question = Question.objects.select_related("current").get(pk=data["q"])
        item = QuizItem.objects.get(pk=data["i"])
    except (ValueError, Question.DoesNotExist, QuizItem.DoesNotExist, KeyError) as exc:
        messages.warning(request, str(exc) or _("This card is no longer in the bank."))
        return redirect("studyapp:study_review")
    text = form.cleaned_data["text"]
    seconds = time.time() - data["t"]
    grade = quiz.grade_item(item, text, seed=data["s"] or 0)
    worked = services.item_worked(item=item, seed=data["s"] or 0)
    context = {"question": question, "version": question.current, "item": item,
               "variant": worked.variant, "seed": data["s"], "text": text, "checked": True,
               "queue": flashcards.queue_next(user=request.user)}
    if grade.status in ("unreadable", "unanswered"):
        context.update(checked=False, problem=grade.message or _("Type an answer, or reveal it."),
                       token=form.cleaned_data["token"])
        return render(request, "studyapp/study_card.html", context, status=400)
    correct = grade.status == "correct"
    proposed = flashcards.propose_rating(correct, seconds)
    context.update(grade=grade, worked=worked, proposed=proposed, seconds=seconds,
                   token=_card_token(request, q=question.pk, i=item.pk, s=data["s"], t=data["t"],
                                     c=correct, p=proposed, d=round(seconds * 1000)))
    return render(request, "studyapp/study_card.html", context)


@login_required
@require_POST
def study_rate(request):
    form = RateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form_errors(form))
    try:
        data = _read_card_token(request, form.cleaned_data["token"])
        question = Question.objects.get(pk=data["q"])
    except (ValueError, Question.DoesNotExist) as exc:
        messages.warning(request, str(exc) or _("This card is no longer in the bank."))
        return redirect("studyapp:study_review")
    item = QuizItem.objects.filter(pk=data.get("i")).first() if data.get("i") else None
    flashcards.review_rate(
        user=request.user, question=question, rating=form.cleaned_data["rating"],
        duration_ms=data.get("d") or round((time.time() - data["t"]) * 1000),
        item=item, seed=data.get("s"), answer_text=form.cleaned_data["text"],
        correct=data.get("c"), proposed=data.get("p"))
    return redirect("studyapp:study_review")


@login_required
@require_POST
def study_undo(request):
    undone = flashcards.review_undo(user=request.user)
    if undone is None:
        messages.info(request, _("Nothing to undo."))
    else:
        messages.success(request, _("Last rating undone: %(q)s is back in the queue.")
                         % {"q": undone.card.question.code})
    return redirect("studyapp:study_review")


@login_required
@require_GET
def study_export(request):
    """The chosen decks as an Anki package, in the page's language."""
    from studyapp.anki import anki_package

    profile = flashcards.profile_for(request.user)
    language = "en" if request.LANGUAGE_CODE == "en" else "zh-hans"
    questions = flashcards.deck(profile).select_related("current", "area").prefetch_related("tags")
    data = anki_package(questions, deck_name=_("Deep-learning interview"), language=language)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = 'attachment; filename="dl-interview.apkg"'
    return response
