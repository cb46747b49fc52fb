"""Property tests over raw provider bodies beyond the schema, through every
webhook lane (the Django view, the lean WSGI lane, the intake's batch path):

- a correctly signed credit (positive amount, a transaction id) with any
  other field odd, missing or extra is answered 2xx and recorded exactly
  once — however its id is written, and whatever text or date it carries;
- any other signed body is answered 2xx or 4xx, and 4xx records nothing;
- an unsigned or forged body is answered 4xx and records nothing;
- never a 5xx.

Fixed seed (``derandomize``) and a bounded number of examples, so that CI
runs the same cases in seconds. On PostgreSQL: NUL is only unstorable there.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.bank_credits.batching import Delivery, webhook_ingest_batch
from payments.bank_credits.ingest import IngestResult
from payments.bank_credits.providers import PROVIDERS
from payments.models import Payment, PaymentEvent, WebhookDelivery
from tests.conftest import needs_postgres
from tests.payments.bank_credits.test_wsgi_lane import LaneClient
from tests.payments.bank_credits.webhook_fuzz import (
    Signed,
    forged_headers,
    signed_anything,
    signed_credits,
    unsigned_bodies,
)
from tests.payments.bank_credits.webhooks_support import (
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)

pytestmark = [pytest.mark.usefixtures("provider_keys"), pytest.mark.postgres]

PROPERTY = settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
Status = WebhookDelivery.Status
LANES = ["view", "wsgi"]
SOURCES = ["sepay", "casso", "payos"]


def _post(lane: str, delivery: Signed) -> Any:
    client: Any = Client() if lane == "view" else LaneClient()
    return client.post(delivery.url, data=delivery.raw, content_type="application/json", headers=delivery.headers)


def _recorded(delivery: Signed) -> list[Payment]:
    return list(Payment.objects.filter(source=delivery.module.SOURCE, provider_txn_id=delivery.txn_id))


@pytest.mark.parametrize("lane", LANES)
@pytest.mark.parametrize("source", SOURCES)
def test_a_signed_credit_is_recorded_exactly_once_whatever_else_it_carries(cast, lane: str, source: str) -> None:
    needs_postgres()

    @PROPERTY
    @given(pair=signed_credits(source, content=f"CHO40 {cast.vendor.merchant_code}"))
    def check(pair: tuple[Signed, Signed]) -> None:
        first, retry = pair
        answers = [_post(lane, first), _post(lane, retry)]  # the retry writes the id another way

        assert [a.status_code for a in answers] == [200, 200], [a.content for a in answers]
        (payment,) = _recorded(first)
        assert payment.amount == first.amount
        assert payment.occurred_at is not None
        stored = WebhookDelivery.objects.filter(payment=payment).order_by("pk")
        assert [d.status for d in stored] == [Status.PROCESSED, Status.DUPLICATE]
        assert stored[0].raw_body == first.raw  # kept exactly as received

    check()


@pytest.mark.parametrize("lane", LANES)
@pytest.mark.parametrize("source", SOURCES)
def test_any_signed_body_is_answered_2xx_or_4xx_and_4xx_records_nothing(cast, lane: str, source: str) -> None:
    needs_postgres()

    @PROPERTY
    @given(delivery=signed_anything(source))
    def check(delivery: Signed) -> None:
        before = Payment.objects.count()

        answer = _post(lane, delivery)

        assert answer.status_code in (200, 400, 401, 403), answer.content
        if answer.status_code == 200:
            assert len(_recorded(delivery)) <= 1
        else:
            assert Payment.objects.count() == before
            assert "error" in answer.json()
        assert WebhookDelivery.objects.order_by("-pk").first().status != Status.RECEIVED  # always marked

    check()


@pytest.mark.parametrize("lane", LANES)
@pytest.mark.parametrize("source", SOURCES)
def test_an_unsigned_or_forged_body_is_refused_4xx_and_records_nothing(cast, lane: str, source: str) -> None:
    needs_postgres()
    module = PROVIDERS[source]

    @PROPERTY
    @given(raw=unsigned_bodies, headers=forged_headers)
    def check(raw: bytes, headers: dict[str, str]) -> None:
        delivery = Signed(f"/api/v1/webhooks/{source}/", module, headers, raw, "", 0)
        before = Payment.objects.count()

        answer = _post(lane, delivery)

        assert 400 <= answer.status_code < 500, answer.content
        assert answer.json()["error"]["code"]
        assert Payment.objects.count() == before

    check()


# --- the intake's batch path (PostgreSQL, outside a test transaction) --------------------


def _delivery(signed: Signed) -> Delivery:
    return Delivery(
        provider=signed.module,
        headers={"Content-Type": "application/json", **signed.headers},
        body=signed.raw,
        remote_addr="203.0.113.7",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("source", SOURCES)
def test_the_batch_path_records_each_signed_credit_once_and_refuses_the_rest(cast, source: str) -> None:
    needs_postgres()
    module = PROVIDERS[source]

    @PROPERTY
    @given(
        pair=signed_credits(source, content=f"CHO40 {cast.vendor.merchant_code}"),
        other=signed_anything(source),
        raw=unsigned_bodies,
        headers=forged_headers,
    )
    def check(pair: tuple[Signed, Signed], other: Signed, raw: bytes, headers: dict[str, str]) -> None:
        first, retry = pair
        forged = Signed(first.url, module, headers, raw, "", 0)
        before = Payment.objects.count()

        outcomes = webhook_ingest_batch([_delivery(first), _delivery(retry), _delivery(other), _delivery(forged)])

        assert [type(o) for o in outcomes[:2]] == [IngestResult, IngestResult], outcomes
        assert len(_recorded(first)) == 1
        assert sorted(o.status for o in outcomes[:2]) == [Status.DUPLICATE, Status.PROCESSED]  # type: ignore[union-attr]
        for outcome in outcomes[2:]:
            assert isinstance(outcome, IngestResult) or 400 <= getattr(outcome, "status", 500) < 500, outcome
        assert not isinstance(outcomes[3], IngestResult)
        assert Payment.objects.count() - before <= 2

    check()


@pytest.mark.parametrize("lane", LANES)
def test_an_implausible_bank_time_is_recorded_at_the_time_received_and_flagged(cast, lane: str) -> None:
    @PROPERTY
    @given(when=st.sampled_from(["0001-01-01 00:00:00", "9999-12-31T23:59:59-12:00", "10000-01-01", "yesterday"]))
    def check(when: str) -> None:
        body = sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", when=when)
        client: Any = Client() if lane == "view" else LaneClient()

        answer = sepay_post(client, body)

        assert answer.status_code == 200
        payment = Payment.objects.get(source="sepay", provider_txn_id=str(body["id"]))
        delivery = WebhookDelivery.objects.get(payment=payment)
        assert abs((payment.occurred_at - delivery.received_at).total_seconds()) < 60
        event = PaymentEvent.objects.get(payment=payment)
        assert (event.kind, event.data) == ("unreadable_transaction_time", {"sent": when})
        assert json.loads(delivery.body)["transactionDate"] == when

    check()
