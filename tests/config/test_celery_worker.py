"""A real Celery worker over the real Redis broker.

Most tests run tasks in-process; these send them through Redis to a worker
thread, the way production does. They need REDIS_URL (CI sets it and
REQUIRE_REDIS=1, which turns a missing broker into a failure, not a skip).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from config.celery_app import app as celery_app
from payments.cards import api as vietqr_api
from payments.models import CardBatch, PaymentRequest
from payments.sale_qr.tasks import expire_payment_requests
from tests.broker_support import broker_at
from tests.conftest import client_for
from tests.factories import VendorFactory


@pytest.fixture
def real_worker(settings: Any) -> Iterator[None]:
    redis_url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    if not redis_url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REDIS_URL must be set when REQUIRE_REDIS=1")
        pytest.skip("needs Redis (set REDIS_URL)")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with (
        broker_at(redis_url, eager=False),
        start_worker(celery_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10),
    ):
        yield


def _wait_for(predicate: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_it_expires_overdue_sale_qrs_through_the_broker(cast: Any, real_worker: None) -> None:
    overdue = PaymentRequest.objects.create(
        vendor=cast.vendor,
        market=cast.market,
        reference="ACEFGH3467",
        amount=25_000,
        payload="00020101021238",
        expires_at=timezone.now() - dt.timedelta(minutes=1),
    )
    fresh = PaymentRequest.objects.create(
        vendor=cast.vendor,
        market=cast.market,
        reference="ACEFGH3469",
        amount=30_000,
        payload="00020101021238",
        expires_at=timezone.now() + dt.timedelta(minutes=10),
    )

    expire_payment_requests.delay()

    assert _wait_for(lambda: PaymentRequest.objects.get(pk=overdue.pk).status == PaymentRequest.Status.EXPIRED)
    assert PaymentRequest.objects.get(pk=fresh.pk).status == PaymentRequest.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_it_renders_a_large_markets_cards_in_the_worker(
    cast: Any, real_worker: None, tmp_path: Any, settings: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    VendorFactory.create_batch(vietqr_api.INLINE_CARDS_LIMIT + 1 - cast.market.vendors.count(), market=cast.market)
    client = client_for(cast.board)

    first = client.get(f"/api/v1/markets/{cast.market.pk}/cards.pdf")

    assert first.status_code == 202, first.content
    job = first.json()
    assert _wait_for(lambda: CardBatch.objects.get(pk=job["id"]).status == CardBatch.Status.DONE, timeout=90)
    progress = client.get(job["status_url"]).json()
    assert progress["done"] == progress["total"] == vietqr_api.INLINE_CARDS_LIMIT + 1
    pdf = client.get(progress["download_url"])
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]).startswith(b"%PDF")
