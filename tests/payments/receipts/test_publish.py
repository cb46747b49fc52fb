"""Every path where a payment becomes a receipt of a vendor tells the stall
pages, after its transaction commits and never when it rolls back.

With REDIS_URL set (CI) the messages are read back from the real Redis
channel; without it the one function that talks to Redis
(``payments.receipts.publish._send``) is replaced by a list, which still
proves that the publication waits for the commit (it is registered with
``transaction.on_commit``) and what it carries.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from payments.code_entry.rails import RailResult
from payments.code_entry.ussd_payments import code_entry_payment_settle
from payments.ledger.services import payment_assign, payment_dispute, payment_reassign, payment_resolve_dispute
from payments.models import Payment, PaymentRequest
from payments.receipts import publish
from payments.receipts.selectors import receipt_dict, receipt_published
from tests.factories import PaymentFactory, VendorFactory
from tests.payments.bank_credits.webhooks_support import provider_keys, sepay_body, sepay_post

__all__ = ["provider_keys"]
pytestmark = pytest.mark.django_db


class Published:
    """The receipt messages published during a test, as dicts."""

    def __init__(self, read: Callable[[], list[dict[str, Any]]]) -> None:
        self._read = read

    def __call__(self) -> list[dict[str, Any]]:
        return self._read()


@pytest.fixture
def published(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Published]:
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        settings.REDIS_URL = url
        pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(publish.channel_name(url))
        pubsub.get_message(timeout=1)
        seen: list[dict[str, Any]] = []

        def read() -> list[dict[str, Any]]:
            deadline = time.monotonic() + 0.3
            while time.monotonic() < deadline:
                message = pubsub.get_message(timeout=0.05)
                if message and message["type"] == "message":
                    seen.extend(publish.receipts_in(message["data"]))
            return list(seen)

        yield Published(read)
        pubsub.close()
    else:
        settings.REDIS_URL = "redis://unused:6379/11"  # never connected to: _send is replaced
        sent: list[str] = []
        monkeypatch.setattr(publish, "_send", lambda messages: sent.extend(messages))
        yield Published(lambda: [json.loads(m) for m in sent])


def ids(messages: list[dict[str, Any]]) -> list[int]:
    return [m["id"] for m in messages]


def test_nothing_is_published_before_the_commit_nor_after_a_rollback(
    cast, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    payment = PaymentFactory(vendor=cast.vendor)
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                publish.publish_receipts_on_commit([payment.pk])
                raise RuntimeError("the request failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert published() == []

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish.publish_receipts_on_commit([payment.pk])
    assert published() == []  # registered, not run: the transaction has not committed
    callbacks[0]()
    [message] = published()
    assert (message["id"], message["vendor_id"], message["amount"]) == (payment.pk, cast.vendor.pk, payment.amount)
    assert message["local_date"] == payment.local_date.isoformat() and message["late"] is False


def test_without_redis_nothing_is_registered(cast, settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.REDIS_URL = ""
    with django_capture_on_commit_callbacks() as callbacks:
        publish.publish_receipts_on_commit([PaymentFactory(vendor=cast.vendor).pk])
    assert callbacks == []


def test_a_redis_error_is_logged_and_swallowed(cast, settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/11"  # nothing listens on port 1
    payment = PaymentFactory(vendor=cast.vendor)

    for _ in range(20):  # an outage under load: one line, not one per payment
        publish._publish_ids([payment.pk], False)

    assert caplog.text.count("1 receipt(s) not published") == 1


def test_only_succeeded_payments_of_a_vendor_are_published(
    cast, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    kept = PaymentFactory(vendor=cast.vendor)
    pending = PaymentFactory(vendor=cast.vendor, status="pending")
    unmatched = PaymentFactory(vendor=None, market=cast.market)
    with django_capture_on_commit_callbacks(execute=True):
        publish.publish_receipts_on_commit([kept.pk, pending.pk, unmatched.pk])
        publish.publish_payments_on_commit([pending, unmatched])
    assert ids(published()) == [kept.pk]


def test_a_bank_credit_is_published(
    cast, client: Any, published: Published, provider_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=64_000))
        sepay_post(client, sepay_body(content="no code at all", amount=1_000))  # unmatched: nobody's receipt

    assert response.status_code == 200
    payment = Payment.objects.get(amount=64_000)
    [message] = published()
    assert (message["id"], message["vendor_id"], message["amount"]) == (payment.pk, cast.vendor.pk, 64_000)
    assert (message["local_date"], message["late"]) == (payment.local_date.isoformat(), False)
    # The facts published make, in the stream, the receipt the ledger would give.
    assert receipt_published(message) == receipt_dict(payment)
    assert receipt_published(message)["amount_text"] == "64.000 ₫"


def test_a_sale_qr_paid_is_published(
    cast, client: Any, published: Published, provider_keys: None, django_capture_on_commit_callbacks: Any
) -> None:
    request = PaymentRequest.objects.create(
        vendor=cast.vendor,
        market=cast.market,
        reference="K7RX3MWP4A",
        amount=85_000,
        payload="000201…",
        expires_at=timezone.now() + dt.timedelta(minutes=15),
    )
    with django_capture_on_commit_callbacks(execute=True):
        sepay_post(client, sepay_body(content="CHO40 K7RX3MWP4A", amount=85_000))

    [message] = published()
    assert message["sale"] == request.pk and message["channel"] == "dynamic_qr"


def test_a_ussd_payment_is_published_when_the_rail_approves_it(
    cast, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    pending = PaymentFactory(vendor=cast.vendor, status="pending", source="ussd", channel="code_entry")
    declined = PaymentFactory(vendor=cast.vendor, status="pending", source="ussd", channel="code_entry")

    with django_capture_on_commit_callbacks(execute=True):
        code_entry_payment_settle(payment_id=pending.pk, result=RailResult("approved", "RAIL-1"))
        code_entry_payment_settle(payment_id=declined.pk, result=RailResult("declined", "RAIL-2", "timeout"))

    [message] = published()
    assert (message["id"], message["late"]) == (pending.pk, True)


def test_the_ledgers_assignment_reassignment_and_resolved_dispute_are_published(
    cast, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    neighbour = VendorFactory(market=cast.market)
    queued = PaymentFactory(vendor=None, market=cast.market, attribution="unmatched")
    disputed = PaymentFactory(vendor=cast.vendor)

    with django_capture_on_commit_callbacks(execute=True):
        payment_assign(actor=cast.board, payment=queued, vendor=cast.vendor)
    with django_capture_on_commit_callbacks(execute=True):
        payment_reassign(actor=cast.board, payment=queued, vendor=neighbour)
    with django_capture_on_commit_callbacks(execute=True):
        payment_dispute(actor=cast.board, payment=disputed)  # no longer a receipt: nothing said
    with django_capture_on_commit_callbacks(execute=True):
        payment_resolve_dispute(actor=cast.board, payment=disputed)

    messages = published()
    assert [(m["id"], m["vendor_id"], m["late"]) for m in messages] == [
        (queued.pk, cast.vendor.pk, True),
        (queued.pk, neighbour.pk, True),
        (disputed.pk, cast.vendor.pk, True),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_intakes_batches_publish_what_they_insert(cast, published: Published, provider_keys: None) -> None:
    """The batch statement (PostgreSQL, outside a transaction) commits on its
    own: its receipts are published at once."""
    from tests.conftest import needs_postgres

    needs_postgres()
    from payments.bank_credits.batching import Delivery, webhook_ingest_batch
    from payments.bank_credits.providers import sepay
    from tests.payments.bank_credits.webhooks_support import SEPAY_API_KEY, encode

    headers = {"Authorization": f"Apikey {SEPAY_API_KEY}", "Content-Type": "application/json"}
    bodies = [encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=a)) for a in (11_000, 12_000)]
    bodies.append(encode(sepay_body(content="nobody", amount=13_000)))
    outcomes = webhook_ingest_batch([Delivery(provider=sepay, headers=headers, body=b) for b in bodies])

    assert all(not isinstance(o, Exception) for o in outcomes)
    assert sorted(m["amount"] for m in published()) == [11_000, 12_000]


def test_a_batch_of_receipts_is_one_message_on_the_channel(cast, settings: Any) -> None:
    """However many receipts a commit made, Redis and every subscribed process
    get one message (a JSON array), which ``receipts_in`` reads back."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis (REDIS_URL)")
    import redis

    settings.REDIS_URL = url
    pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(publish.channel_name(url))
    pubsub.get_message(timeout=1)
    try:
        payments = [PaymentFactory(vendor=cast.vendor, amount=a) for a in (1_000, 2_000, 3_000)]
        publish._publish_rows(payments, late=False)
        messages = []
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.05)
            if message and message["type"] == "message":
                messages.append(message["data"])
    finally:
        pubsub.close()

    assert len(messages) == 1
    assert [r["amount"] for r in publish.receipts_in(messages[0])] == [1_000, 2_000, 3_000]
    assert {r["vendor_id"] for r in publish.receipts_in(messages[0])} == {cast.vendor.pk}
    # A single receipt as published before batching (and by the stall probe) still reads.
    assert publish.receipts_in(json.dumps({"id": 1, "vendor_id": 2})) == [{"id": 1, "vendor_id": 2}]


@pytest.mark.django_db(transaction=True)
def test_the_single_delivery_fast_path_publishes_once_its_statement_commits(
    cast, published: Published, provider_keys: None
) -> None:
    """On PostgreSQL outside a transaction a plain credit is one
    self-committing statement (ingest.payment_record_credit's fast path)."""
    from tests.conftest import needs_postgres

    needs_postgres()
    from payments.bank_credits.ingest import webhook_ingest
    from payments.bank_credits.providers import sepay
    from tests.payments.bank_credits.webhooks_support import SEPAY_API_KEY, encode

    headers = {"Authorization": f"Apikey {SEPAY_API_KEY}", "Content-Type": "application/json"}
    body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=21_000))
    result = webhook_ingest(provider=sepay, headers=headers, body=body)
    webhook_ingest(provider=sepay, headers=headers, body=body)  # the provider's retry: a duplicate, not a receipt again

    assert result.payment is not None
    assert [(m["id"], m["amount"]) for m in published()] == [(result.payment.pk, 21_000)]


def test_a_ussd_payment_approved_at_the_later_status_check_is_published(
    cast, published: Published, django_capture_on_commit_callbacks: Any
) -> None:
    """The rail answered "pending" at first; the periodic status check finds it approved."""
    from payments.code_entry.rails import SANDBOX_TIMEOUT_THEN_APPROVE
    from payments.code_entry.ussd_payments import code_entry_payment_poll

    pending = PaymentFactory(
        vendor=cast.vendor, status="pending", source="ussd", channel="code_entry", amount=SANDBOX_TIMEOUT_THEN_APPROVE
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert code_entry_payment_poll(payment_id=pending.pk) == "succeeded"

    assert [(m["id"], m["late"]) for m in published()] == [(pending.pk, True)]
