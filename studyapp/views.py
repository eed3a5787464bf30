from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studyapp import selectors


@require_GET
def home(request):
    return render(request, "studyapp/home.html", {"areas": selectors.areas_for_home()})


@never_cache
@require_GET
def healthz(request):
    healthy, report = selectors.health_report()
    return JsonResponse(report, status=200 if healthy else 503)
