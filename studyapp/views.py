from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studyapp import selectors, services
from studyapp.forms import QuestionFilterForm, VariantForm
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


@never_cache
@require_GET
def healthz(request):
    healthy, report = selectors.health_report()
    return JsonResponse(report, status=200 if healthy else 503)
