"""A database that is restarting answers 503 with Retry-After, not a 500 and a stack trace:
clients (the quiz page's autosave, API users) retry, and nothing was written."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.warning("database unavailable: %s", exception)
        message = _("The database is briefly unavailable; nothing was saved. Please try again.")
        wants_json = (request.path.startswith("/api/")
                      or "application/json" in request.headers.get("Accept", ""))
        response = (JsonResponse({"detail": message}, status=503) if wants_json
                    else HttpResponse(message, status=503, content_type="text/plain; charset=utf-8"))
        response["Retry-After"] = "2"
        return response
