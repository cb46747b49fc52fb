"""/stall/ live receipts: the event stream, its polling fallback and the
acknowledgement of each announcement (docs/stall.md, "Live receipts:
transport"). Only a signed-in vendor, for their own stall: the vendor is the
signed-in user's, never one named in the URL.

The stream is served by whichever server the request came through: under
ASGI (the ``webhooks`` service, where the proxy sends ``/stall/events/``)
an async generator fed by Redis; under WSGI (``make run``, the browser
tests' live server) a sync one — a WSGI server would buffer an async
iterator and never send a byte.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.handlers.wsgi import WSGIRequest
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from common.api import error_body
from common.errors import DomainError
from payments.receipts.cursor import Cursor
from payments.receipts.selectors import ledger_read
from payments.receipts.services import receipt_announce
from payments.receipts.stream import receipt_events, receipt_events_sync
from vendors.models import Vendor
from vendors.selectors import vendor_for_user


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False})


def _vendor_or_refusal(request: HttpRequest, *, anonymous_status: int = 401) -> Vendor | JsonResponse:
    """The signed-in user's vendor, or the JSON refusal: ``anonymous_status``
    when nobody is signed in, 403 for a signed-in user who is no vendor."""
    if not request.user.is_authenticated:
        return _error(anonymous_status, "not_authenticated", _("Sign in as the stall's trader."))
    vendor = vendor_for_user(user=request.user)
    if vendor is None:
        return _error(403, "not_a_vendor", _("Only a trader signed in with their stall's account can see this."))
    return vendor


def _cursor(request: HttpRequest) -> Cursor:
    """Last-Event-ID (EventSource's reconnect) wins over ``?cursor=`` (the
    page's first connect); neither, or garbage: from the start of the day."""
    return Cursor.parse(request.headers.get("Last-Event-ID") or request.GET.get("cursor"))


@never_cache
@require_GET
def events(request: HttpRequest) -> HttpResponseBase:
    vendor = _vendor_or_refusal(request, anonymous_status=403)
    if isinstance(vendor, HttpResponse):
        return vendor
    cursor = _cursor(request)
    if isinstance(request, WSGIRequest):
        stream: Any = receipt_events_sync(vendor.pk, cursor)
    else:
        stream = receipt_events(vendor.pk, cursor)
        # Under ASGI this thread (one per request) lives as long as the stream,
        # up to 30 min, and Django would keep its database connection open till
        # then: 500 phones, 500 idle connections. The stream reads on a pool of
        # its own, so this one is released now.
        for db in connections.all(initialized_only=True):
            if not db.in_atomic_block:
                db.close()
    response = StreamingHttpResponse(stream, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


@never_cache
@require_GET
def receipts(request: HttpRequest) -> HttpResponse:
    """The polling fallback: ``{"receipts": [oldest first], "cursor", "today"}``."""
    vendor = _vendor_or_refusal(request)
    if isinstance(vendor, HttpResponse):
        return vendor
    read = ledger_read(vendor, _cursor(request))
    body = {"receipts": read.receipts, "cursor": read.cursor.encode(), "today": read.today}
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def _csrf_refused(request: HttpRequest) -> bool:
    """Django's own CSRF check (the ``X-CSRFToken`` header against the
    cookie, the Origin), run here so that a refusal is answered in JSON
    rather than with the HTML failure page."""
    check = CsrfViewMiddleware(_nothing)
    return check.process_view(request, _nothing, (), {}) is not None  # as for a view that is not exempt


def _nothing(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


@csrf_exempt  # checked below, with a JSON answer
@require_POST
def ack(request: HttpRequest, payment_id: int) -> HttpResponse:
    """``{"device_id", "method"}`` → ``{"ok": true, "delay_ms"}``."""
    vendor = _vendor_or_refusal(request)
    if isinstance(vendor, HttpResponse):
        return vendor
    if _csrf_refused(request):
        return _error(403, "csrf_failed", _("The page is out of date: reload it and try again."))
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _error(400, "invalid_json", _("The request body must be a JSON object."))
    try:
        done = receipt_announce(
            vendor=vendor,
            payment_id=payment_id,
            device_id=str(data.get("device_id") or ""),
            method=str(data.get("method") or ""),
        )
    except DomainError as exc:
        return JsonResponse(
            error_body(exc.code, exc.message, **({"field": exc.field} if exc.field else {})), status=exc.status
        )
    return JsonResponse({"ok": True, "delay_ms": done.delay_ms})


urlpatterns = [
    path("events/", events, name="events"),
    path("receipts.json", receipts, name="receipts"),
    path("receipts/<int:payment_id>/ack/", ack, name="ack"),
]
