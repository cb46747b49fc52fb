"""The database is down or hangs: answer 503 with ``Retry-After``, never 500.

PostgreSQL refusing connections, a connection lost mid-request, a connect or
statement timeout (settings ``DB_CONNECT_TIMEOUT``, ``DB_STATEMENT_TIMEOUT_MS``)
all surface as the driver's ``OperationalError``/``InterfaceError`` (Django's
wrappers of them). Nothing was recorded by a request that failed that way
(its transaction is rolled back), and trying again later is the right thing to
do, so the answer is 503 with ``Retry-After``: the bank-credit providers
retry on it, and a client or load balancer knows to wait.

Used by the three webhook lanes (the Django view through the API's exception
handler, ``payments.bank_credits.wsgi`` and ``payments.bank_credits.intake`` at their
outermost layer), by the API's exception handler (``common.api``) and, for
every other page, by ``DatabaseUnavailableMiddleware``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger("django.request")

# How long a client should wait before trying again (seconds): long enough
# for a PostgreSQL restart or fail-over, short against a provider's retry budget.
RETRY_AFTER_SECONDS = 30

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def database_unavailable(exc: object) -> bool:
    """Whether ``exc`` (an exception, or anything else) says the database is unreachable or timed out."""
    return isinstance(exc, _UNAVAILABLE)


def unavailable_body() -> dict[str, Any]:
    from common.api import error_body  # common.api imports this module

    return error_body("database_unavailable", _("The database is unavailable; try again shortly."))


def unavailable_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def log_unavailable(path: str, exc: BaseException) -> None:
    logger.error("Database unavailable: %s (%s: %s)", path, exc.__class__.__name__, exc, extra={"status_code": 503})


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("database_answer_deadline", default=None)


@contextlib.contextmanager
def answer_deadline(seconds: float | None) -> Iterator[None]:
    """Inside, on this thread, PostgreSQL must answer every statement (and a new
    connection must be made) within ``seconds`` from now, or the statement fails
    with ``OperationalError`` and its connection is closed (``common.postgresql``;
    server-side timeouts cannot end a wait on a server that hangs). ``None`` or 0:
    no deadline."""
    token = _deadline.set(time.monotonic() + seconds if seconds else None)
    try:
        yield
    finally:
        _deadline.reset(token)


def answer_time_left() -> float | None:
    """Seconds left before this thread's ``answer_deadline`` (None: no deadline)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


class DatabaseUnavailableMiddleware:
    """Any page whose view fails for want of the database answers 503 +
    ``Retry-After`` (JSON under ``/api/``, plain text elsewhere)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        log_unavailable(request.path, exception)
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(unavailable_body(), status=503)
        else:
            response = HttpResponse(
                unavailable_body()["error"]["message"], status=503, content_type="text/plain; charset=utf-8"
            )
        for name, value in unavailable_headers().items():
            response[name] = value
        return response
