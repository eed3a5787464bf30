import re

from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studyapp import selectors, services
from studyapp.forms import KindForm, QuestionFilterForm, VariantForm
from studyapp.models import Question


@require_GET
def home(request):
    return render(request, "studyapp/home.html", {"areas": selectors.areas_for_home()})


@require_GET
def question_list(request):
    form = QuestionFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    return render(request, "studyapp/question_list.html", {
        "form": form,
        "questions": selectors.question_list(filters=filters),
        "terms": selectors.search_terms(filters.get("q", "")),
        "query": request.GET.urlencode(),
    })


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
    worked = [services.item_worked(item=item, seed=seed)
              for item in version.items.all() if item.type == "numeric"]
    filters = QuestionFilterForm(request.GET)
    previous, following = selectors.question_neighbours(
        slug=slug, filters=filters.filters() if request.GET else {})
    return render(request, "studyapp/question_detail.html", {
        "question": question, "version": version, "worked": worked, "seed": seed,
        "choice_items": [i for i in version.items.all() if i.type != "numeric"],
        "claims": list(version.claims.all()), "previous": previous, "next": following,
        "query": request.GET.urlencode(),
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
def healthz(request):
    healthy, report = selectors.health_report()
    return JsonResponse(report, status=200 if healthy else 503)
