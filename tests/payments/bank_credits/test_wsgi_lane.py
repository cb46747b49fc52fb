"""The lean webhook lane (``payments.bank_credits.wsgi``, mounted by ``config.wsgi``):
called as a WSGI server calls it, it answers exactly as the Django views do,
records the same rows, and runs Django's request life cycle around the work."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.core import signals
from django.db import close_old_connections, connection
from django.test import Client

from payments.bank_credits.wsgi import WebhookLane
from payments.models import Payment, WebhookDelivery
from tests.conftest import needs_postgres
from tests.payments.bank_credits.webhooks_support import (
    SEPAY_URL,
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

Delivery = WebhookDelivery.Status


class _Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], content: bytes) -> None:
        self.status_code = int(status.split(" ", 1)[0])
        self.headers = dict(headers)
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


class _Fallback:
    """Stands for Django's WSGIHandler: records what the lane handed over."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}")
        start_response("418 I'm a teapot", [("Content-Type", "text/plain")])
        return [b"django"]


class LaneClient:
    """Posts through ``WebhookLane`` with a WSGI environ, as gunicorn would;
    quacks like ``django.test.Client.post`` so the providers' helpers work."""

    def __init__(self, *, host: str = "testserver", keep_connection: bool = True) -> None:
        self.fallback = _Fallback()
        self.lane = WebhookLane(self.fallback)
        self.host = host
        # Like django.test.Client: in a test transaction the request's
        # close_old_connections must not close the test's connection.
        self.keep_connection = keep_connection

    def post(
        self, path: str, data: bytes, content_type: str = "application/json", headers: dict[str, str] | None = None
    ) -> _Answer:
        return self.request("POST", path, data, content_type, headers or {})

    def request(self, method: str, path: str, data: bytes, content_type: str, headers: dict[str, str]) -> _Answer:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": self.host,
            "REMOTE_ADDR": "203.0.113.9",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
        }
        started: list[tuple[str, list[tuple[str, str]]]] = []
        if self.keep_connection:
            signals.request_started.disconnect(close_old_connections)
            signals.request_finished.disconnect(close_old_connections)
        try:
            body = self.lane(environ, lambda status, headers: started.append((status, headers)))
            try:
                content = b"".join(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
        finally:
            if self.keep_connection:
                signals.request_started.connect(close_old_connections)
                signals.request_finished.connect(close_old_connections)
        (status, response_headers) = started[0]
        return _Answer(status, response_headers, content)


@pytest.fixture
def lane() -> LaneClient:
    return LaneClient()


def _scenarios(cast: Any) -> Iterator[tuple[str, Any]]:
    """(name, send(client, txn_id) → answer) for every kind of answer."""
    code = f"CHO40 {cast.vendor.merchant_code}"
    yield "sepay apikey", lambda c, i: sepay_post(c, sepay_body(content=code, txn_id=i))
    yield "sepay hmac", lambda c, i: sepay_post(c, sepay_body(content=code, txn_id=i), auth="hmac")
    yield "sepay outgoing", lambda c, i: sepay_post(c, sepay_body(content=code, txn_id=i, transfer_type="out"))
    yield "sepay wrong key", lambda c, i: sepay_post(c, sepay_body(content=code, txn_id=i), key="nope")
    yield "sepay unsigned", lambda c, i: sepay_post(c, sepay_body(content=code, txn_id=i), auth="none")
    yield "sepay stale", lambda c, i: sepay_post(c, sepay_body(content=code, txn_id=i), auth="hmac", timestamp=1)
    yield "sepay not json", lambda c, i: sepay_post(c, None, raw=b"{not json")
    yield "sepay no amount", lambda c, i: sepay_post(c, {**sepay_body(content=code, txn_id=i), "transferAmount": None})
    yield "casso", lambda c, i: casso_post(c, casso_body(description=code, txn_id=i))
    yield "casso forged", lambda c, i: casso_post(c, casso_body(description=code, txn_id=i), key="nope")
    yield "payos", lambda c, i: payos_post(c, payos_body(description=code, order_code=i, reference=f"FT{i}"))


def test_it_answers_every_kind_of_delivery_like_the_django_view(cast, lane: LaneClient) -> None:
    for n, (name, send) in enumerate(_scenarios(cast)):
        django_answer = send(Client(), 700_000 + n)
        lane_answer = send(lane, 800_000 + n)
        assert (lane_answer.status_code, lane_answer.json()) == (django_answer.status_code, django_answer.json()), name
        assert lane_answer.headers["Content-Type"] == django_answer.headers["Content-Type"], name
        assert lane_answer.headers["X-Content-Type-Options"] == "nosniff", name
    statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses[1::2] == statuses[0::2]  # each delivery kept with the same outcome by both
    assert Payment.objects.count() == 2 * 4  # SePay twice, Casso, payOS
    assert lane.fallback.calls == []


def test_it_records_a_payment_once_through_the_lane(cast, lane: LaneClient) -> None:
    body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=42_000, txn_id=515151))

    answers = [sepay_post(lane, None, raw=body) for _ in range(3)]  # type: ignore[arg-type]  (retries)

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"success": True})] * 3
    payment = Payment.objects.get()
    assert (payment.vendor, payment.amount, payment.provider_txn_id) == (cast.vendor, 42_000, "515151")
    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [d.status for d in deliveries] == [Delivery.PROCESSED, Delivery.DUPLICATE, Delivery.DUPLICATE]
    assert {d.payment_id for d in deliveries} == {payment.pk}
    assert deliveries[0].remote_addr == "203.0.113.9"
    assert deliveries[0].headers["Authorization"] == "Apikey [redacted]"


def test_it_hands_everything_else_to_django(cast, lane: LaneClient) -> None:
    lane.request("GET", SEPAY_URL, b"", "application/json", {})
    lane.post("/api/v1/webhooks/sepay", b"{}")  # no trailing slash: Django's business
    lane.post("/api/v1/webhooks/stripe/", b"{}")
    lane.post("/api/v1/payments/", b"{}")
    foreign = LaneClient(host="evil.example")
    answer = sepay_post(foreign, sepay_body(content="CHO40 12345674"))  # type: ignore[arg-type]

    assert lane.fallback.calls == [
        f"GET {SEPAY_URL}",
        "POST /api/v1/webhooks/sepay",
        "POST /api/v1/webhooks/stripe/",
        "POST /api/v1/payments/",
    ]
    assert (answer.status_code, foreign.fallback.calls) == (418, [f"POST {SEPAY_URL}"])  # Django refuses the host
    assert not WebhookDelivery.objects.exists()


def test_it_runs_djangos_request_life_cycle(cast) -> None:
    events: list[str] = []

    def started(sender: Any, **kwargs: Any) -> None:
        events.append("started")

    def finished(sender: Any, **kwargs: Any) -> None:
        events.append("finished")

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        lane = LaneClient()
        answer = sepay_post(lane, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"))  # type: ignore[arg-type]
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)

    assert answer.status_code == 200
    assert events == ["started", "finished"]  # finished once the server closed the answer


def test_it_answers_500_in_json_and_keeps_the_delivery_when_recording_fails(cast, lane, monkeypatch) -> None:
    from payments.bank_credits import ingest

    def explode(**kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest, "payment_record_credit", explode)

    answer = sepay_post(lane, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"))  # type: ignore[arg-type]

    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "server_error"
    assert not Payment.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Delivery.FAILED
    assert "disk on fire" in delivery.error


# --- outside a test transaction, as in production (PostgreSQL) ---------------------------


@pytest.mark.django_db(transaction=True)
def test_while_the_database_hangs_it_answers_503_in_time_then_at_once_and_records_the_retry_once(
    cast, settings
) -> None:
    """PostgreSQL hangs (a lock the delivery's first INSERT waits for, as it would
    wait on a frozen server): the first delivery is answered 503 + Retry-After
    after WEBHOOK_ANSWER_WITHIN, not when the database answers; the next ones,
    for ``hung_pause`` seconds, at once without queueing behind the hang (a sync
    worker serves one request at a time); once the database answers again, the
    retry is recorded, once."""
    needs_postgres()
    settings.WEBHOOK_ANSWER_WITHIN = 1
    lane = LaneClient(keep_connection=False)  # a real request life cycle: the broken connection is dropped
    lane.lane.hung_pause = 0.5
    body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=9_300_001))
    db = connection.settings_dict
    locker = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or None, dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"]
    )
    locker.execute("LOCK TABLE payments_webhookdelivery IN ACCESS EXCLUSIVE MODE")  # held until the rollback
    try:
        timings = []
        for _ in range(2):
            started = time.monotonic()
            answer = sepay_post(lane, None, raw=body)  # type: ignore[arg-type]
            timings.append(time.monotonic() - started)
            assert answer.status_code == 503
            assert answer.json()["error"]["code"] == "database_unavailable"
            assert int(answer.headers["Retry-After"]) > 0
    finally:
        locker.close()
    time.sleep(0.5)  # the pause is over

    retried = sepay_post(lane, None, raw=body)  # type: ignore[arg-type]

    assert 1 <= timings[0] < 2.5 and timings[1] < 0.2
    assert retried.status_code == 200
    assert Payment.objects.filter(provider_txn_id="9300001").count() == 1
