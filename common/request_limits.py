"""Request bodies too large for the server: refused with 413 before they are read.

Django refuses a form or JSON body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` only
when a view reads it, and then as a 400 HTML page (``RequestDataTooBig`` is a
``SuspiciousOperation``); a view that never reads the body answers as if it
were small, and the client has to send all of it first. This middleware,
right after the HTTPS redirect, looks at ``Content-Length`` alone and answers
``413 {"error": {"code": "request_too_large", …}}`` on every path and method:

- any body over ``REQUEST_MAX_BODY_BYTES`` (11 MiB: a 10 MiB spreadsheet
  upload of onboarding/imports and its multipart framing);
- a body that is not a multipart upload over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
  (2.5 MB, Django's default): JSON and form posts are never that large.

A request without ``Content-Length`` (chunked) is read by Django up to the
declared length, i.e. not at all, under WSGI. Under ASGI Django reads the whole
body before any middleware runs, so ``config.asgi``'s outermost application
(payments/bank_credits/intake.py) applies the same rule before handing a
request to Django. The webhook lanes keep their
own, smaller cap (``WEBHOOK_MAX_BODY_BYTES``, payments/bank_credits/webhook_limits.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)


def declared_size(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def too_large_body(size: int, content_type: str) -> bool:
    """Whether a body of ``size`` bytes (as declared) and this Content-Type is refused."""
    if size > settings.REQUEST_MAX_BODY_BYTES:
        return True
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is not None and size > limit and not content_type.lower().startswith("multipart/")


def too_large(request: HttpRequest) -> bool:
    return too_large_body(declared_size(request), request.META.get("CONTENT_TYPE", ""))


def too_large_error() -> dict[str, dict[str, str]]:
    return {"error": {"code": "request_too_large", "message": _("The request body is larger than the server accepts.")}}


class RequestSizeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if too_large(request):
            log.warning("%s %s refused unread: %s bytes", request.method, request.path, declared_size(request))
            return JsonResponse(too_large_error(), status=413)
        return self.get_response(request)
