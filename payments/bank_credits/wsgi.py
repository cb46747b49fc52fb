"""The webhook lane: ``POST /api/v1/webhooks/<provider>/`` straight to the
ingest service, around Django's middleware, URL resolver and DRF.

Providers POST one delivery per bank credit, so at a market's rush hour these
are most of the requests; on this project's 2-core servers the generic stack
(nine middlewares, URL resolution, DRF's negotiation) costs about as much CPU
as storing, verifying and recording the payment. ``config.wsgi`` sends those
POSTs here and everything else to Django.

What stays exactly as in the Django view (``payments.bank_credits.api``), which
is kept (the test client and the OpenAPI schema use it):

- the work: the same ``payments.bank_credits.ingest.webhook_ingest`` call with the
  same headers (Django's ``request.headers``), raw body and client address;
- the answer: the provider's ``SUCCESS_REPLY`` with 200, or a ``WebhookError``
  as the project's error body with its status (``tests/payments/
  test_webhooks_wsgi.py`` checks both lanes answer alike);
- the request's life cycle: ``request_started`` before (it closes database
  connections past ``CONN_MAX_AGE`` or broken, and arms the health check) and
  ``request_finished`` when the server closes the response (``HttpResponse.
  close``), just as ``django.core.handlers.wsgi.WSGIHandler`` sends them;
- ALLOWED_HOSTS (a request for another host goes to Django, which refuses it),
  oversized bodies and unexpected exceptions (answered by Django's own
  ``response_for_exception``: 400, or the JSON 500 of ``common.api.handler500``,
  logged, ``got_request_exception`` sent); 4xx/5xx answers are logged on
  ``django.request`` like Django's; the security headers the middleware would
  add to such a response are added.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.urls import set_script_prefix, set_urlconf
from django.utils.log import log_response
from django.utils.translation import gettext as _

from common.api import error_body
from common.client_address import client_address
from common.database import (
    answer_deadline,
    database_unavailable,
    log_unavailable,
    unavailable_body,
    unavailable_headers,
)
from payments.bank_credits import ingest, webhook_limits
from payments.bank_credits.providers import PROVIDERS
from payments.bank_credits.providers.base import WebhookError

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The paths of payments/bank_credits/api.py's urlpatterns under config/urls.py's "api/v1/".
PREFIX = "/api/v1/webhooks/"
ROUTES: dict[str, ModuleType] = {f"{PREFIX}{source}/": module for source, module in PROVIDERS.items()}


def webhook_outcome(
    *, provider: ModuleType, headers: Mapping[str, str], body: bytes, remote_addr: str | None
) -> ingest.IngestResult | WebhookError:
    """Ingest one delivery: its result, or the refusal to answer."""
    try:
        return ingest.webhook_ingest(provider=provider, headers=headers, body=body, remote_addr=remote_addr)
    except WebhookError as exc:
        return exc


def answer_headers(outcome: object) -> list[tuple[str, str]]:
    """Headers a refusal adds to its answer (both lanes): Retry-After for a 429."""
    wait = webhook_limits.retry_after(outcome) if isinstance(outcome, Exception) else None
    return [("Retry-After", str(wait))] if wait else []


def answer_for(provider: ModuleType, outcome: ingest.Outcome) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body a provider gets for ``outcome`` (both
    lanes): its success reply, a refusal in the project's error format, or
    for anything else the JSON 500 of ``common.api.handler500``."""
    if isinstance(outcome, ingest.IngestResult):
        return 200, provider.SUCCESS_REPLY
    if isinstance(outcome, WebhookError):
        return outcome.status, error_body(outcome.code, outcome.message)
    return 500, error_body("server_error", _("Internal error; it has been logged."))


def _json_response(status: int, data: dict[str, Any]) -> HttpResponse:
    if status == 200:
        return JsonResponse(data)
    # As DRF's JSONRenderer writes the view's refusals: compact, UTF-8.
    return HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


def security_headers() -> list[tuple[str, str]]:
    """What SecurityMiddleware and XFrameOptionsMiddleware add to the view's
    answer (both webhook lanes answer around them)."""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        headers.append(("Referrer-Policy", str(settings.SECURE_REFERRER_POLICY)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", str(settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)))
    headers.append(("X-Frame-Options", str(settings.X_FRAME_OPTIONS)))
    return headers


class WebhookLane:
    """WSGI application: the webhook POSTs here, every other request to ``fallback``.

    A hung PostgreSQL: each delivery waits for it at most ``WEBHOOK_ANSWER_WITHIN``
    seconds (``common.database.answer_deadline``), then is answered 503 +
    Retry-After. A sync worker serves one request at a time, so while the
    database hangs the providers' requests would queue behind each other's
    waits, past their timeout: once a delivery waited that long in vain, the
    worker answers the deliveries of the next ``hung_pause`` seconds 503 at once,
    without touching the database, then tries it again with the next one. A
    database that refuses (down, restarting) fails fast and is tried every time.
    """

    hung_pause = 2.0  # seconds
    slow_failure = 1.0  # seconds: a database failure that took this long is a hang

    def __init__(self, fallback: WSGIApp) -> None:
        self.fallback = fallback
        self._hung_until = 0.0  # monotonic; per worker process (and thread-safe enough: one float)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        provider = ROUTES.get(environ.get("PATH_INFO", "")) if environ.get("REQUEST_METHOD") == "POST" else None
        if provider is None:
            return self.fallback(environ, start_response)
        request = WSGIRequest(environ)
        try:
            request.get_host()  # CommonMiddleware's ALLOWED_HOSTS check
        except DisallowedHost:
            return self.fallback(environ, start_response)  # Django answers (400) and logs it

        set_script_prefix(get_script_name(environ))
        set_urlconf(settings.ROOT_URLCONF)  # for handler500, should it be needed
        if time.monotonic() < self._hung_until:  # PostgreSQL hung a moment ago: do not queue behind it
            response = _unavailable(request.path, OperationalError("PostgreSQL hung a moment ago; not tried again yet"))
        else:
            started = time.monotonic()
            with answer_deadline(settings.WEBHOOK_ANSWER_WITHIN):  # a hung database: 503 before the provider gives up
                response, unavailable = self._answer(request, provider, environ)
            if unavailable and time.monotonic() - started >= self.slow_failure:
                self._hung_until = time.monotonic() + self.hung_pause
            response._handler_class = WSGIHandler  # type: ignore[attr-defined]  # close() sends request_finished
        if response.status_code >= 400:  # (not twice: Django marks what it logged)
            log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        for name, value in security_headers():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Length", str(len(response.content)))

        # The rest is WSGIHandler.__call__: the server's close() of the
        # response sends request_finished (close_old_connections again).
        response._resource_closers.append(request.close)  # type: ignore[attr-defined]
        headers = [*response.items(), *(("Set-Cookie", c.output(header="")) for c in response.cookies.values())]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return response

    def _answer(self, request: WSGIRequest, provider: ModuleType, environ: dict[str, Any]) -> tuple[HttpResponse, bool]:
        """The answer, and whether it is 503 for want of the database."""
        # As WSGIHandler: receivers (close_old_connections, reset_queries) see the same sender.
        signals.request_started.send(sender=WSGIHandler, environ=environ)
        try:
            remote_addr = client_address(request.META)
            size = webhook_limits.declared_size(request.META)
            outcome: ingest.IngestResult | WebhookError
            if size > webhook_limits.max_body_bytes():  # refused before the body is read
                outcome = ingest.webhook_refuse_oversized(provider=provider, size=size, remote_addr=remote_addr)
            else:
                outcome = webhook_outcome(
                    provider=provider, headers=request.headers, body=request.body, remote_addr=remote_addr
                )
            response = _json_response(*answer_for(provider, outcome))
            for name, value in answer_headers(outcome):
                response.headers[name] = value
        except Exception as exc:
            if database_unavailable(exc):  # nothing recorded; the provider retries on 503
                return _unavailable(request.path, exc), True
            response = response_for_exception(request, exc)  # Django's own answer: logged, 400 or JSON 500
        return response, False


def _unavailable(path: str, exc: Exception) -> HttpResponse:
    log_unavailable(path, exc)
    response = _json_response(503, unavailable_body())
    for name, value in unavailable_headers().items():
        response.headers[name] = value
    return response
