"""What unauthenticated webhook POSTs may cost, on every lane: a body over
WEBHOOK_MAX_BODY_BYTES is refused 413 unread and unstored; an address whose
deliveries keep being refused gets 429 + Retry-After and is no longer stored,
but a correctly signed delivery from it is still recorded; refused rows are
deleted after WEBHOOK_REFUSED_RETENTION_DAYS, genuine ones kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from payments.bank_credits.tasks import purge_refused_webhook_deliveries
from payments.models import Payment, WebhookDelivery
from tests.payments.bank_credits.webhooks_support import (
    SEPAY_URL,
    casso_body,
    casso_post,
    encode,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)

pytestmark = pytest.mark.usefixtures("provider_keys")

Status = WebhookDelivery.Status
# The intake writes from its own thread: outside the test transaction, PostgreSQL only.
LANES = [
    pytest.param("view", marks=pytest.mark.django_db),
    pytest.param("wsgi", marks=pytest.mark.django_db),
    pytest.param("intake", marks=[pytest.mark.django_db(transaction=True), pytest.mark.postgres]),
]


@pytest.mark.parametrize("lane", LANES)
def test_a_body_over_the_cap_is_refused_413_and_not_stored(lane: str, lane_client: Any, settings: Any) -> None:
    settings.WEBHOOK_MAX_BODY_BYTES = 32 * 1024
    client = lane_client
    body = sepay_body(content="CHO40 " + "x" * 40_000)

    answer = sepay_post(client, body)
    small = sepay_post(client, sepay_body(content="CHO40 rau"))

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert small.status_code == 200
    assert WebhookDelivery.objects.count() == 1  # only the small one
    assert len(WebhookDelivery.objects.get().body) < 1000


@pytest.mark.parametrize("lane", LANES)
def test_forged_posts_from_one_address_are_limited_but_a_signed_credit_still_goes_in(
    cast, lane: str, lane_client: Any, settings: Any
) -> None:
    settings.WEBHOOK_REFUSALS_PER_WINDOW = 30
    settings.WEBHOOK_REFUSAL_WINDOW_SECONDS = 600
    client = lane_client

    answers = [sepay_post(client, sepay_body(content="CHO40 rau"), key="guessed") for _ in range(50)]
    garbage = client.post(SEPAY_URL, data=b"{not json", content_type="application/json")
    genuine = sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"))
    signed_casso = casso_post(client, casso_body(description=f"CHO40 {cast.vendor.merchant_code}"))

    assert [a.status_code for a in answers] == [403] * 30 + [429] * 20
    assert answers[-1].json()["error"]["code"] == "too_many_refusals"
    retry_after = {name.lower(): value for name, value in answers[-1].headers.items()}["retry-after"]
    assert 0 < int(retry_after) <= 600
    assert garbage.status_code == 429
    assert WebhookDelivery.objects.filter(status=Status.REJECTED).count() == 30  # bounded: the rest not stored
    assert (genuine.status_code, signed_casso.status_code) == (200, 200)
    assert Payment.objects.filter(vendor=cast.vendor).count() == 2


@pytest.mark.django_db
def test_refusals_are_counted_per_address(settings: Any) -> None:
    settings.WEBHOOK_REFUSALS_PER_WINDOW = 3
    one, other = Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")

    first = [sepay_post(one, sepay_body(content="x"), key="guessed").status_code for _ in range(4)]
    second = sepay_post(other, sepay_body(content="x"), key="guessed").status_code

    assert first == [403, 403, 403, 429]
    assert second == 403


@pytest.mark.django_db
def test_with_the_cache_down_deliveries_are_let_through_and_credits_recorded(cast, settings: Any) -> None:
    settings.WEBHOOK_REFUSALS_PER_WINDOW = 3
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    client = Client()

    forged = [sepay_post(client, sepay_body(content="x"), key="guessed").status_code for _ in range(5)]
    genuine = sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"))

    assert forged == [403] * 5  # fail open: stored and refused as ever, never a 500
    assert genuine.status_code == 200
    assert Payment.objects.get().vendor == cast.vendor


@pytest.mark.django_db
def test_the_retention_task_deletes_only_old_refused_deliveries(cast, settings: Any) -> None:
    settings.WEBHOOK_REFUSED_RETENTION_DAYS = 30
    client = Client()
    sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"))  # processed
    sepay_post(client, sepay_body(content="x", transfer_type="out"))  # ignored
    sepay_post(client, sepay_body(content="x"), key="guessed")  # rejected
    client.post(SEPAY_URL, data=b"{not json", content_type="application/json", HTTP_AUTHORIZATION="Apikey x")
    client.post(SEPAY_URL, data=encode({"id": 1}), content_type="application/json")  # unsigned: rejected
    old = timezone.now() - dt.timedelta(days=31)
    WebhookDelivery.objects.update(received_at=old)
    sepay_post(client, sepay_body(content="x"), key="guessed")  # refused, but recent

    deleted = purge_refused_webhook_deliveries()

    assert deleted == 3
    kept = sorted(WebhookDelivery.objects.values_list("status", flat=True))
    assert kept == [Status.IGNORED, Status.PROCESSED, Status.REJECTED]
    assert Payment.objects.count() == 1
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "payments.purge_refused_webhook_deliveries"
    )
    assert entry["schedule"] == 24 * 3600.0


@pytest.mark.django_db
def test_the_intake_stops_reading_past_the_cap_whatever_content_length_says(settings: Any) -> None:
    import asyncio

    from tests.payments.bank_credits.intake_support import IntakeClient

    settings.WEBHOOK_MAX_BODY_BYTES = 32 * 1024
    intake = IntakeClient()
    scope = intake.scope("POST", SEPAY_URL, "application/json", {}, 10)  # claims 10 bytes
    chunks_sent: list[int] = []

    async def receive() -> dict[str, Any]:
        chunks_sent.append(1)  # an endless body, 16 KiB at a time
        return {"type": "http.request", "body": b"x" * 16 * 1024, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        asyncio.run(intake.intake(scope, receive, send))
    finally:
        intake.close()

    assert sent[0]["status"] == 413
    assert len(chunks_sent) == 3  # 48 KiB read: just past the 32 KiB cap, then no more
    assert not WebhookDelivery.objects.exists()
