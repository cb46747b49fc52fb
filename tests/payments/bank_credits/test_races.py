"""Races of bank credits on PostgreSQL: concurrent identical deliveries, two
payments for one sale, batches waiting on each other; exactly one payment each."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from payments.bank_credits.batching import webhook_ingest_batch
from payments.bank_credits.ingest import IngestResult
from payments.models import Payment, PaymentEvent, PaymentRequest, WebhookDelivery
from tests.conftest import needs_postgres
from tests.payments.bank_credits.test_ingest_batch import batch_db, sepay_delivery
from tests.payments.bank_credits.test_wsgi_lane import LaneClient
from tests.payments.bank_credits.webhooks_support import (
    encode,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)

pytestmark = pytest.mark.usefixtures("provider_keys")

Status = WebhookDelivery.Status


def _in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; each thread has
    its own database connection, closed when it ends."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@batch_db
def test_concurrent_batches_with_the_same_transactions_in_opposite_orders_record_each_once(cast) -> None:
    needs_postgres()
    code = cast.vendor.merchant_code
    bodies = [sepay_body(content=f"CHO40 {code}", txn_id=40_000 + i) for i in range(40)]
    orders = [bodies, bodies[::-1], bodies[10:] + bodies[:10], bodies[::2] + bodies[1::2]]

    results = _in_threads(len(orders), lambda k: webhook_ingest_batch([sepay_delivery(b) for b in orders[k]]))

    for outcomes in results:
        assert not isinstance(outcomes, Exception), outcomes  # no deadlock, no error
        assert all(isinstance(o, IngestResult) for o in outcomes)
    assert Payment.objects.count() == 40
    assert WebhookDelivery.objects.count() == 160
    assert WebhookDelivery.objects.filter(status=Status.PROCESSED).count() == 40
    assert WebhookDelivery.objects.filter(status=Status.DUPLICATE).count() == 120
    assert not WebhookDelivery.objects.filter(payment=None).exists()


@pytest.mark.django_db(transaction=True)
def test_it_records_one_payment_for_concurrent_identical_deliveries_through_the_lane(cast) -> None:
    needs_postgres()
    body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=70_000, txn_id=626262))

    def deliver(_: int) -> tuple[int, Any]:
        answer = sepay_post(LaneClient(keep_connection=False), None, raw=body)  # type: ignore[arg-type]
        return answer.status_code, answer.json()

    results = _in_threads(12, deliver)

    assert results == [(200, {"success": True})] * 12
    payment = Payment.objects.get()
    assert (payment.vendor, payment.amount) == (cast.vendor, 70_000)
    deliveries = list(WebhookDelivery.objects.all())
    assert sorted(d.status for d in deliveries) == sorted([Status.PROCESSED] + [Status.DUPLICATE] * 11)
    assert {d.payment_id for d in deliveries} == {payment.pk}
    assert not connection.in_atomic_block


@pytest.mark.django_db(transaction=True)
def test_it_records_one_payment_for_twenty_concurrent_identical_deliveries(cast) -> None:
    needs_postgres()
    body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=60_000, txn_id=424242))

    def deliver(_: int) -> tuple[int, Any]:
        response = sepay_post(Client(), None, raw=body)
        return response.status_code, response.json()

    results = _in_threads(20, deliver)

    assert results == [(200, {"success": True})] * 20
    assert Payment.objects.count() == 1
    assert WebhookDelivery.objects.count() == 20
    statuses = sorted(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses == sorted([Status.PROCESSED] + [Status.DUPLICATE] * 19)


@pytest.mark.django_db(transaction=True)
def test_it_settles_a_sale_once_when_two_different_payments_race_for_it(cast) -> None:
    needs_postgres()
    request = PaymentRequest.objects.create(
        vendor=cast.vendor,
        market=cast.market,
        reference="RACEH47796",
        amount=50_000,
        payload="-",
        expires_at=timezone.now() + dt.timedelta(minutes=15),
    )
    bodies = [encode(sepay_body(content="CHO40 RACEH47796", amount=50_000, txn_id=880_000 + i)) for i in range(2)]

    results = _in_threads(2, lambda i: sepay_post(Client(), None, raw=bodies[i]).status_code)

    assert results == [200, 200]
    assert Payment.objects.filter(payment_request=request).count() == 2  # neither is lost
    request.refresh_from_db()
    assert request.status == PaymentRequest.Status.PAID
    assert list(PaymentEvent.objects.values_list("kind", flat=True)) == ["request_already_paid"]
