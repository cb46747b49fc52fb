"""Web forms refuse the text the API refuses (common/parsers.py): a form
posted to a page (not the API, which has its own parser) with NUL or a
bidirectional control (U+202A–U+202E, U+2066–U+2069) in any field, name or
value, is answered 400 with a plain message, before any view sees it.

Django's form fields already refuse NUL, and decoding a form turns a lone
surrogate into U+FFFD; but a right-to-left override typed into a trader's
name, a stall label or a rejection reason was stored and reordered what the
board and the trader read afterwards (found by the abuse drill). Files of a
multipart upload are not form text and are not looked at. A password with
such a character cannot be set or used either, which no real password needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from common.parsers import unstorable

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def form_has_bad_text(request: HttpRequest) -> bool:
    if request.method not in ("POST", "PUT", "PATCH") or request.path_info.startswith("/api/"):
        return False
    if not request.META.get("CONTENT_TYPE", "").lower().startswith(FORM_TYPES):
        return False
    return any(unstorable(key) or unstorable(request.POST.getlist(key)) for key in request.POST)


class FormTextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, *args: Any) -> HttpResponse | None:
        # A view hook, so that the CSRF check (earlier in MIDDLEWARE) answers a forged post first.
        if form_has_bad_text(request):
            return HttpResponseBadRequest(
                _("The form holds a character no text may contain (NUL, a lone surrogate or a bidi control)."),
                content_type="text/plain; charset=utf-8",
            )
        return None
