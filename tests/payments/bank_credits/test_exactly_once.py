"""Exactly once: retries, replays and concurrent identical deliveries leave one
payment; forged deliveries leave none; a dead Redis blocks nothing."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from payments.models import Payment, PaymentRequest, WebhookDelivery
from tests.broker_support import broker_at, broker_url_in_use
from tests.payments.bank_credits.webhooks_support import (
    casso_body,
    casso_post,
    payos_body,
    payos_post,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)

pytestmark = pytest.mark.usefixtures("provider_keys")

Delivery = WebhookDelivery.Status


def test_it_records_one_payment_for_sepays_seven_retries(cast, client: Client) -> None:
    body = sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=45_000, txn_id=31337)

    responses = [sepay_post(client, body) for _ in range(7)]

    assert [r.status_code for r in responses] == [200] * 7
    assert all(r.json() == {"success": True} for r in responses)
    payment = Payment.objects.get()
    assert payment.amount == 45_000
    statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == [Delivery.PROCESSED] + [Delivery.DUPLICATE] * 6
    assert set(WebhookDelivery.objects.values_list("payment", flat=True)) == {payment.pk}


def test_it_records_one_payment_for_a_replayed_payos_delivery(cast, client: Client) -> None:
    # payOS signs no timestamp: a captured delivery can be replayed at will.
    body = payos_body(description=f"CHO40 {cast.vendor.merchant_code}")

    for _ in range(3):
        assert payos_post(client, body).status_code == 200

    assert Payment.objects.count() == 1


def test_it_keeps_sources_apart(cast, client: Client) -> None:
    # The same transaction id from two aggregators is two different transactions.
    sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=777))
    casso_post(client, casso_body(description=f"CHO40 {cast.vendor.merchant_code}", txn_id=777))

    assert sorted(Payment.objects.values_list("source", flat=True)) == ["casso", "sepay"]


def test_it_records_nothing_for_forged_unsigned_or_stale_deliveries(cast, client: Client) -> None:
    content = f"CHO40 {cast.vendor.merchant_code}"
    answers = [
        sepay_post(client, sepay_body(content=content), key="forged").status_code,
        sepay_post(client, sepay_body(content=content), auth="none").status_code,
        sepay_post(client, sepay_body(content=content), auth="hmac", timestamp=int(time.time()) - 3600).status_code,
        casso_post(client, casso_body(description=content), key="forged").status_code,
        casso_post(client, casso_body(description=content), header="").status_code,
        casso_post(client, casso_body(description=content), t_ms=int(time.time() * 1000) - 600_000).status_code,
        payos_post(client, payos_body(description=content, key="forged")).status_code,
        payos_post(client, {**payos_body(description=content), "signature": ""}).status_code,
    ]

    assert answers == [403, 401, 403, 403, 401, 403, 403, 401]
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.count() == len(answers)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Delivery.REJECTED}


def test_it_leaves_nothing_half_done_when_recording_fails(cast, client: Client, monkeypatch) -> None:
    from payments.bank_credits import ingest

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest.PaymentEvent.objects, "bulk_create", explode)
    PaymentRequest.objects.create(
        vendor=cast.vendor,
        market=cast.market,
        reference="HAPPY47779",
        amount=1_000,
        payload="-",
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    client.raise_request_exception = False

    response = sepay_post(client, sepay_body(content="CHO40 HAPPY47779", amount=999))  # underpaid → an event

    assert response.status_code == 500
    assert not Payment.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Delivery.FAILED
    assert "disk on fire" in delivery.error


def test_it_marks_deliveries_cut_off_mid_request_as_failed(cast) -> None:
    from payments.bank_credits.tasks import mark_stuck_webhook_deliveries

    stuck = WebhookDelivery.objects.create(source="sepay", body="{}", headers={})
    fresh = WebhookDelivery.objects.create(source="sepay", body="{}", headers={})
    WebhookDelivery.objects.filter(pk=stuck.pk).update(received_at=timezone.now() - dt.timedelta(minutes=11))

    assert mark_stuck_webhook_deliveries() == 1

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == Delivery.FAILED
    assert "cut off" in stuck.error
    assert fresh.status == Delivery.RECEIVED


# --- with real concurrency (PostgreSQL) ----------------------------------------------


# --- Redis down -------------------------------------------------------------------------

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens here


@pytest.fixture
def redis_down(settings: Any) -> Any:
    """Point the broker and the cache at a closed port, with real (not eager) Celery.

    ``broker_at`` is entered before the settings change: Celery's config reads
    the Django settings live, and ``broker_at`` puts back what it found, which
    must be the broker of the tests that follow, not the dead one."""
    with broker_at(DEAD_REDIS, eager=False):
        settings.REDIS_URL = DEAD_REDIS
        settings.CELERY_BROKER_URL = DEAD_REDIS
        settings.CELERY_TASK_ALWAYS_EAGER = False
        with override_settings(
            CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
        ):
            # The outage is real for whatever would publish: not a pool left bound to a live broker.
            assert broker_url_in_use().endswith("127.0.0.1:6390/0")
            yield


@pytest.mark.usefixtures("redis_down")
def test_it_records_webhooks_while_redis_is_down(cast, client: Client) -> None:
    started = time.monotonic()
    answers = [
        sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}")).status_code,
        casso_post(client, casso_body(description=f"CHO40 {cast.vendor.merchant_code}")).status_code,
        payos_post(client, payos_body(description=f"CHO40 {cast.vendor.merchant_code}")).status_code,
    ]
    elapsed = time.monotonic() - started

    assert answers == [200, 200, 200]
    assert Payment.objects.filter(vendor=cast.vendor).count() == 3
    assert elapsed < 2.0  # no broker timeout on the way
