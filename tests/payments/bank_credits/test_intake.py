"""The batching webhook intake (``payments.bank_credits.intake``, mounted by
``config.asgi``): called as an ASGI server calls it, it answers exactly as the
Django views do, records each payment once while writing concurrent
deliveries in batches, and serves through gunicorn's uvicorn worker.

This module: the intake in-process (the gunicorn deployment: test_intake_gunicorn.py;
how batches form: test_batcher.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client

from payments.bank_credits import batching, ingest
from payments.bank_credits.intake import WebhookIntake
from payments.models import Payment, WebhookDelivery
from tests.conftest import needs_postgres
from tests.payments.bank_credits.intake_support import Answer, Fallback, IntakeClient
from tests.payments.bank_credits.test_wsgi_lane import _scenarios
from tests.payments.bank_credits.webhooks_support import SEPAY_API_KEY, SEPAY_URL, encode, sepay_body, sepay_post

pytestmark = pytest.mark.usefixtures("provider_keys")

Delivery = WebhookDelivery.Status
intake_db = pytest.mark.django_db(transaction=True)


# --- no database needed -------------------------------------------------------------------


def test_it_hands_everything_else_to_django(intake: IntakeClient) -> None:
    answers = [
        asyncio.run(intake.arequest("GET", SEPAY_URL, b"")),
        asyncio.run(intake.arequest("POST", "/api/v1/payments/", b"{}")),
        asyncio.run(intake.arequest("POST", "/api/v1/webhooks/unknown/", b"{}")),
        IntakeClient(host="evil.example").post(SEPAY_URL, b"{}"),  # Django refuses a foreign host
    ]

    assert [a.status_code for a in answers] == [418] * 4
    assert intake.fallback.calls == [
        "GET /api/v1/webhooks/sepay/",
        "POST /api/v1/payments/",
        "POST /api/v1/webhooks/unknown/",
    ]


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/v1/vendors/"), ("PATCH", "/api/v1/markets/1/")])
def test_it_refuses_a_body_too_large_for_django_before_reading_it(
    intake: IntakeClient, settings: Any, method: str, path: str
) -> None:
    # Found by the abuse drill: Django's ASGI handler read 20 MB (to a temporary file) before its
    # middleware could refuse them; the intake, outermost, now refuses on Content-Length alone.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    answer = asyncio.run(intake.arequest(method, path, b"x" * 101))
    multipart = asyncio.run(intake.arequest(method, path, b"x" * 101, content_type="multipart/form-data; boundary=b"))

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "request_too_large"
    assert multipart.status_code == 418  # a spreadsheet upload goes on to Django (REQUEST_MAX_BODY_BYTES)
    assert intake.fallback.calls == [f"{method} {path}"]


def test_it_refuses_a_body_over_the_upload_limit_before_storing_anything(intake: IntakeClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    answer = intake.post(SEPAY_URL, b"x" * 101)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "request_too_large"
    assert intake.intake.batcher.deliveries == 0


def test_it_speaks_the_lifespan_protocol() -> None:
    intake = WebhookIntake(Fallback(), writers=1, max_batch=10)
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(intake({"type": "lifespan"}, receive, send))

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# --- outside a test transaction, as in production (PostgreSQL) -----------------------------


@intake_db
def test_it_answers_like_the_django_view_and_batches_concurrent_deliveries(cast, intake: IntakeClient) -> None:
    needs_postgres()

    # Every kind of answer, one delivery at a time: the same status, body and
    # recorded payment as the view.
    def recorded_since(known: set[int]) -> list[tuple[Any, ...]]:
        rows = Payment.objects.exclude(id__in=known)
        return list(rows.values_list("source", "vendor", "market", "amount", "channel", "attribution", "status"))

    for n, (name, send) in enumerate(_scenarios(cast)):
        known = set(Payment.objects.values_list("id", flat=True))
        expected = send(Client(), 500_000 + n)
        by_view = recorded_since(known)
        known |= set(Payment.objects.values_list("id", flat=True))
        got = send(intake, 600_000 + n)
        assert (got.status_code, got.json()) == (expected.status_code, expected.json()), name
        assert recorded_since(known) == by_view, name
        assert got.headers["content-type"] == "application/json"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["x-frame-options"] == "DENY"

    # Sixty deliveries at once, ten of them the same transaction: written in
    # batches, each transaction recorded once, every provider answered success.
    before = Payment.objects.count()
    code = cast.vendor.merchant_code
    bodies = [
        encode(sepay_body(content=f"CHO40 {code}", amount=1_000 * (i + 1), txn_id=700_000 + i)) for i in range(50)
    ]
    bodies += [encode(sepay_body(content=f"CHO40 {code}", amount=99_000, txn_id=777_777))] * 10
    headers = {"Authorization": f"Apikey {SEPAY_API_KEY}"}

    async def burst() -> list[Answer]:
        return await asyncio.gather(*(intake.arequest("POST", SEPAY_URL, b, headers=headers) for b in bodies))

    answers = asyncio.run(burst())

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"success": True})] * 60
    assert Payment.objects.count() == before + 51
    assert Payment.objects.filter(provider_txn_id="777777").get().amount == 99_000
    burst_rows = WebhookDelivery.objects.filter(body__in=[b.decode() for b in bodies])
    assert burst_rows.count() == 60
    assert burst_rows.filter(status=Delivery.DUPLICATE).count() == 9
    assert not burst_rows.filter(payment=None).exists()
    batcher = intake.intake.batcher
    assert batcher.largest > 1  # deliveries that arrived together were written together
    assert batcher.batches < batcher.deliveries


@intake_db
def test_it_answers_500_in_json_and_keeps_the_delivery_when_recording_fails(cast, intake, monkeypatch) -> None:
    needs_postgres()

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(batching, "_store_and_record", explode)
    monkeypatch.setattr(ingest, "payment_record_credit", explode)

    answer = sepay_post(intake, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"))  # type: ignore[arg-type]

    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "server_error"
    assert not Payment.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Delivery.FAILED
    assert "disk on fire" in delivery.error


@intake_db
def test_it_answers_503_in_time_while_the_database_hangs_and_the_retry_finds_the_payment_once(cast, settings) -> None:
    """PostgreSQL hangs (here: a lock that the delivery's first INSERT waits for,
    as a frozen server or a stuck transaction would make it wait): the provider
    is answered 503 + Retry-After within WEBHOOK_ANSWER_WITHIN, not when the
    database answers; the writer gives up its connection too, and the
    provider's retry is answered 200 and records the payment, once."""
    needs_postgres()
    settings.WEBHOOK_ANSWER_WITHIN = 1
    intake = IntakeClient()
    body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=9_200_001))
    headers = {"Authorization": f"Apikey {SEPAY_API_KEY}"}
    db = connection.settings_dict
    locker = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or None, dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"]
    )
    locker.execute("LOCK TABLE payments_webhookdelivery IN ACCESS EXCLUSIVE MODE")  # held until the rollback

    async def scenario() -> tuple[Answer, float, Answer]:
        started = time.monotonic()
        try:
            first = await intake.arequest("POST", SEPAY_URL, body, headers=headers)
        finally:
            waited = time.monotonic() - started
            locker.rollback()  # the database answers again
            locker.close()
        while intake.intake.batcher.deliveries < 1:  # the stuck write goes on and ends
            await asyncio.sleep(0.05)
        return first, waited, await intake.arequest("POST", SEPAY_URL, body, headers=headers)

    try:
        first, waited, retried = asyncio.run(scenario())
    finally:
        intake.close()

    assert first.status_code == 503
    assert first.json()["error"]["code"] == "database_unavailable"
    assert int(first.headers["retry-after"]) > 0
    assert 1 <= waited < 2.5
    assert retried.status_code == 200
    assert Payment.objects.filter(provider_txn_id="9200001").count() == 1
    # The batch's statement was sent before the writer gave up: PostgreSQL may still
    # run it when the lock goes (the first delivery is then processed, and the retry
    # is its duplicate), or not at all (the retry records it). Once either way.
    statuses = sorted(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses in ([Delivery.PROCESSED], [Delivery.DUPLICATE, Delivery.PROCESSED])


@intake_db
def test_a_batch_is_answered_before_its_receipts_are_published(cast, intake, settings, monkeypatch) -> None:
    """The stall pages' receipts go out after the provider has its answer: a slow Redis never
    holds up the answer that the payment is recorded."""
    needs_postgres()
    from payments.receipts import publish

    settings.REDIS_URL = "redis://unused:6379/11"  # never connected to: _send is replaced
    sent: list[tuple[float, str]] = []

    def slow_send(messages: list[str]) -> None:
        time.sleep(0.8)
        sent.extend((time.monotonic(), m) for m in messages)

    monkeypatch.setattr(publish, "_send", slow_send)
    started = time.monotonic()
    answer = sepay_post(intake, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=42_000))  # type: ignore[arg-type]
    answered = time.monotonic()

    assert answer.status_code == 200
    assert answered - started < 0.6  # not after the 0.8 s publish
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [json.loads(m)["amount"] for _t, m in sent] == [42_000]  # published all the same, after
    assert sent[0][0] > answered


@pytest.mark.parametrize(
    "raw",
    [
        [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"content-length", b"12")],
        [(b"x-sepay-signature", b"sha256=ab"), (b"X-SePay-Timestamp", b"1700000000"), (b"authorization", b"Apikey k")],
        [(b"x-forwarded-for", b"10.0.0.1"), (b"x-forwarded-for", b"10.0.0.2"), (b"accept", b"*/*")],
        [(b"cookie", b"a=1; "), (b"cookie", b"b=2"), (b"user-agent", b"Vi\xe1t")],
        [],
    ],
)
def test_its_request_headers_are_those_django_gives_the_view(raw: list[tuple[bytes, bytes]]) -> None:
    """The intake reads each delivery's headers straight from the ASGI scope; the provider's
    checks and the stored row see exactly what ``request.headers`` gives the Django view."""
    import io

    from django.core.handlers.asgi import ASGIRequest

    from payments.bank_credits.intake import RequestHeaders

    scope = {"type": "http", "method": "POST", "path": SEPAY_URL, "headers": raw, "query_string": b""}
    django_headers = ASGIRequest(scope, io.BytesIO(b"")).headers
    ours = RequestHeaders(raw)

    assert dict(ours.items()) == dict(django_headers.items())
    assert list(ours) == list(django_headers)
    for name in [*django_headers, "X_SEPAY_SIGNATURE", "x-sepay-signature", "Missing"]:
        assert ours.get(name) == django_headers.get(name), name
        assert (name in ours) == (name in django_headers), name
