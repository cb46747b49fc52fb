"""The database down or hanging: 503 + Retry-After on every webhook lane, the
API and pages, never a 500; /healthz says so within 2 s; and once the
database is back, the providers' retries record each payment exactly once."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from payments.models import Payment
from tests.conftest import client_for, free_port, needs_postgres
from tests.payments.bank_credits.intake_support import IntakeClient
from tests.payments.bank_credits.test_wsgi_lane import LaneClient
from tests.payments.bank_credits.webhooks_support import (
    casso_body,
    casso_post,
    encode,
    payos_body,
    payos_post,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)

pytestmark = pytest.mark.usefixtures("provider_keys")


@contextlib.contextmanager
def database_at(port: int | None) -> Iterator[None]:
    """Every new database connection, on this thread and any other, goes to
    127.0.0.1:``port`` (or, on SQLite, to a file that cannot be opened);
    this thread's own connection, holding the test's transaction, is set
    aside meanwhile and put back after, as are the settings."""
    shared = connections.settings["default"]
    saved = {key: shared.get(key) for key in ("NAME", "HOST", "PORT")}
    if connection.vendor == "postgresql":
        shared.update(HOST="127.0.0.1", PORT=str(port))
    else:
        shared.update(NAME="/nonexistent/cho40/db.sqlite3")
    kept = connections["default"]
    gone = connections.create_connection("default")
    connections["default"] = gone
    try:
        yield
    finally:
        gone.close()
        connections["default"] = kept
        shared.update(saved)


@contextlib.contextmanager
def database_down() -> Iterator[None]:
    with database_at(free_port()):  # nothing listens there: connections are refused at once
        yield


@contextlib.contextmanager
def database_hanging() -> Iterator[None]:
    """A server that accepts connections and never says a word (a stalled
    PostgreSQL, a black-holed network): the kernel completes each handshake
    from the listen backlog, then the client waits."""
    needs_postgres()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        with database_at(server.getsockname()[1]):
            yield


def retry_after(answer: Any) -> int:
    headers = {name.lower(): value for name, value in dict(answer.headers).items()}
    return int(headers["retry-after"])


def assert_unavailable(answer: Any) -> None:
    assert answer.status_code == 503, answer.content
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert answer.json()["error"]["message"]
    assert retry_after(answer) > 0


def _deliveries(cast: Any) -> list[tuple[str, Any]]:
    code = f"CHO40 {cast.vendor.merchant_code}"
    return [
        ("sepay", lambda c: sepay_post(c, sepay_body(content=code, amount=41_000, txn_id=9_100_001))),
        ("casso", lambda c: casso_post(c, casso_body(description=code, amount=42_000, txn_id=9_100_002))),
        ("payos", lambda c: payos_post(c, payos_body(description=code, amount=43_000, order_code=9_100_003))),
    ]


# --- the webhook lanes --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("lane", ["django view", "wsgi lane"])
def test_a_webhook_answers_503_while_the_database_is_down_and_its_retry_records_it_once(cast, lane) -> None:
    client = Client() if lane == "django view" else LaneClient()
    for name, deliver in _deliveries(cast):
        with database_down():
            answer = deliver(client)
        assert_unavailable(answer)

        retried, again = deliver(client), deliver(client)

        assert (retried.status_code, again.status_code) == (200, 200), name
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [41_000, 42_000, 43_000]


@pytest.mark.django_db(transaction=True)
def test_the_batching_intake_answers_503_while_the_database_is_down_and_its_retry_records_it_once(cast) -> None:
    needs_postgres()
    for name, deliver in _deliveries(cast):
        intake = IntakeClient()  # fresh writer threads: their connections open while the database is down
        try:
            with database_down():
                answer = deliver(intake)
            assert_unavailable(answer)

            retried, again = deliver(intake), deliver(intake)
        finally:
            intake.close()

        assert (retried.status_code, again.status_code) == (200, 200), name
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [41_000, 42_000, 43_000]


@pytest.mark.django_db
def test_a_webhook_answers_503_within_the_connect_timeout_while_the_database_hangs(cast, settings) -> None:
    body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=9_100_009))
    with database_hanging():
        started = time.monotonic()
        answer = LaneClient().post(
            "/api/v1/webhooks/sepay/", body, headers={"Authorization": "Apikey test-sepay-api-key"}
        )
        elapsed = time.monotonic() - started

    assert_unavailable(answer)
    assert elapsed < settings.DB_CONNECT_TIMEOUT + 2


# --- the API and pages ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_answers_503_in_json_while_the_database_is_down(cast) -> None:
    with database_down():
        read = client_for(cast.board).get("/api/v1/vendors/")
        write = client_for(cast.volunteer).post("/api/v1/vendors/", {"market": cast.market.pk}, format="json")
        token = Client().post("/api/v1/auth/token/", {"username": "board", "password": "password"})

    assert_unavailable(read)
    assert_unavailable(write)
    assert token.status_code == 503


@pytest.mark.django_db
def test_a_page_answers_503_while_the_database_is_down(cast) -> None:
    client = Client()
    client.force_login(cast.admin)

    with database_down():
        r = client.get("/admin/")

    assert r.status_code == 503
    assert retry_after(r) > 0


# --- /healthz -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_reports_the_database_down_at_once(api) -> None:
    with database_down():
        r = api.get("/healthz")

    assert r.status_code == 503
    assert r.json()["status"] == "down"
    assert r.json()["database"]["ok"] is False


@pytest.mark.django_db
def test_healthz_answers_within_2_seconds_while_the_database_hangs(api) -> None:
    with database_hanging():
        started = time.monotonic()
        r = api.get("/healthz")
        elapsed = time.monotonic() - started

    assert elapsed < 2
    assert r.status_code == 503
    assert r.json()["database"] == {"ok": False, "error": "Timeout"}


@pytest.mark.django_db
def test_postgresql_sessions_carry_the_connect_and_statement_timeouts(settings) -> None:
    needs_postgres()
    assert connection.settings_dict["OPTIONS"]["connect_timeout"] == settings.DB_CONNECT_TIMEOUT
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        (timeout,) = cursor.fetchone()

    assert timeout == f"{settings.DB_STATEMENT_TIMEOUT_MS // 1000}s"
