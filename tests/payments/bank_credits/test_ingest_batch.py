"""``webhook_ingest_batch``: many deliveries written together give each one the
outcome, rows and answer it would get alone — one payment per transaction,
every delivery kept, refusals refused — and concurrent batches cannot
deadlock or double-record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments.bank_credits import batching, ingest
from payments.bank_credits.batching import Delivery, webhook_ingest_batch
from payments.bank_credits.ingest import IngestResult
from payments.bank_credits.providers import casso, payos, sepay
from payments.bank_credits.providers.base import BadSignature, MalformedPayload, MissingCredentials
from payments.models import Payment, PaymentEvent, PaymentRequest, WebhookDelivery
from tests.conftest import needs_postgres
from tests.payments.bank_credits.webhooks_support import (
    CASSO_KEY,
    SEPAY_API_KEY,
    casso_body,
    encode,
    payos_body,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
)

pytestmark = pytest.mark.usefixtures("provider_keys")

Status = WebhookDelivery.Status
batch_db = pytest.mark.django_db(transaction=True)


def sepay_delivery(body: Any, *, key: str = SEPAY_API_KEY, raw: bytes | None = None) -> Delivery:
    return Delivery(
        provider=sepay,
        headers={"Authorization": f"Apikey {key}", "Content-Type": "application/json"},
        body=raw if raw is not None else encode(body),
        remote_addr="203.0.113.7",
    )


def casso_delivery(body: Any) -> Delivery:
    import time

    header = casso.signature_header(CASSO_KEY, str(int(time.time() * 1000)), body)
    return Delivery(provider=casso, headers={"X-Casso-Signature": header}, body=encode(body))


def payos_delivery(body: Any) -> Delivery:
    return Delivery(provider=payos, headers={}, body=encode(body))


def _request(cast: Any, reference: str, amount: int) -> PaymentRequest:
    return PaymentRequest.objects.create(
        vendor=cast.vendor,
        market=cast.market,
        reference=reference,
        amount=amount,
        payload="-",
        expires_at=timezone.now() + dt.timedelta(minutes=15),
    )


@batch_db
def test_a_mixed_batch_gives_every_delivery_its_own_outcome(cast) -> None:
    needs_postgres()
    code = cast.vendor.merchant_code
    sale = _request(cast, "HATCHK7WX3", 80_000)
    short = _request(cast, "MATCHM4WP7", 90_000)
    Payment.objects.all().delete()
    plain = sepay_body(content=f"CHO40 {code} rau", amount=45_000, txn_id=7001)
    deliveries = [
        sepay_delivery(plain),  # 0 recorded, static QR
        sepay_delivery(plain),  # 1 its twin in the same batch: a duplicate
        sepay_delivery(sepay_body(content=f"CHO40 {code}", txn_id=7002), key="forged"),  # 2 refused 403
        sepay_delivery(None, raw=b"{not json"),  # 3 malformed 400
        sepay_delivery(sepay_body(content="rut tien", txn_id=7003, transfer_type="out")),  # 4 outgoing: ignored
        sepay_delivery(sepay_body(content="CHO40 HATCHK7WX3", amount=80_000, txn_id=7004)),  # 5 settles the sale
        sepay_delivery(sepay_body(content="CHO40 MATCHM4WP7", amount=50_000, txn_id=7005)),  # 6 underpaid: flagged
        sepay_delivery(
            sepay_body(content="chuyen tien", account=cast.other_vendor.account_number, txn_id=7006)
        ),  # 7 account
        sepay_delivery(sepay_body(content="chuyen tien", account="999999999", txn_id=7007)),  # 8 unmatched
        casso_delivery(casso_body(description=f"CHO40 {code}", amount=30_000)),  # 9 Casso
        payos_delivery(payos_body(description=f"CHO40 {code}", amount=20_000)),  # 10 payOS
    ]

    outcomes = webhook_ingest_batch(deliveries)

    kinds = [o.status if isinstance(o, IngestResult) else type(o) for o in outcomes]
    assert kinds == [
        Status.PROCESSED,
        Status.DUPLICATE,
        BadSignature,
        MalformedPayload,
        Status.IGNORED,
        Status.PROCESSED,
        Status.PROCESSED,
        Status.PROCESSED,
        Status.PROCESSED,
        Status.PROCESSED,
        Status.PROCESSED,
    ]
    first, twin = outcomes[0], outcomes[1]
    assert isinstance(first, IngestResult) and isinstance(twin, IngestResult)
    assert first.payment is not None and twin.payment is not None and first.payment.pk == twin.payment.pk

    # Every delivery is stored, under its own id, with its outcome.
    rows = {d.pk: d for d in WebhookDelivery.objects.all()}
    assert len(rows) == len(deliveries)
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        if isinstance(outcome, IngestResult):
            row = rows[outcome.delivery_id]
            assert row.body == delivery.body.decode()
            assert row.status == outcome.status
            assert row.payment_id == (outcome.payment.pk if outcome.payment else None)
            assert row.processed_at is not None
    assert {r.status for r in rows.values() if r.body == "{not json"} == {Status.FAILED}
    forged = next(r for r in rows.values() if '"id": 7002' in r.body)
    assert forged.status == Status.REJECTED and forged.payment_id is None
    assert forged.headers["Authorization"] == "Apikey [redacted]"  # never the key itself
    assert str(forged.remote_addr) == "203.0.113.7"

    # One payment per credit, attributed by the same rules as alone.
    by_txn = {p.provider_txn_id: p for p in Payment.objects.all()}
    assert len(by_txn) == 7  # 7001, 7004-7007, the Casso and the payOS credit
    assert "7002" not in by_txn and "7003" not in by_txn
    assert by_txn["7001"].vendor == cast.vendor and by_txn["7001"].channel == "static_qr"
    assert by_txn["7001"].market == cast.market and by_txn["7001"].local_date == dt.date(2025, 3, 1)
    assert by_txn["7006"].vendor == cast.other_vendor and by_txn["7006"].attribution == "account"
    assert by_txn["7007"].vendor is None and by_txn["7007"].attribution == "unmatched"
    sale.refresh_from_db()
    short.refresh_from_db()
    assert sale.status == PaymentRequest.Status.PAID and by_txn["7004"].payment_request == sale
    assert short.status == PaymentRequest.Status.PENDING
    assert by_txn["7005"].amount_check == "underpaid"
    assert list(PaymentEvent.objects.filter(payment=by_txn["7005"]).values_list("kind", flat=True)) == [
        "amount_underpaid"
    ]


@batch_db
def test_a_batch_records_what_single_deliveries_record(cast) -> None:
    needs_postgres()
    code, other = cast.vendor.merchant_code, cast.other_vendor
    shapes = [
        dict(content=f"CHO40 {code} ca", amount=12_000),
        dict(content=f"cho 4.0-{code}", amount=250_000, when="2025-03-01 23:59:59"),
        dict(content="chuyen khoan", account=other.account_number, amount=5_000),
        dict(content="khong ro", account="123123123", amount=7_000),
    ]

    def recorded(prefix: int) -> list[tuple[Any, ...]]:
        rows = Payment.objects.filter(provider_txn_id__startswith=str(prefix)).order_by("provider_txn_id")
        return list(
            rows.values_list(
                "vendor", "market", "amount", "channel", "attribution", "status", "local_date", "occurred_at", "content"
            )
        )

    for i, shape in enumerate(shapes):
        ingest.webhook_ingest(
            provider=sepay,
            headers={"Authorization": f"Apikey {SEPAY_API_KEY}"},
            body=encode(sepay_body(txn_id=81_000 + i, **shape)),
        )
    webhook_ingest_batch([sepay_delivery(sepay_body(txn_id=82_000 + i, **shape)) for i, shape in enumerate(shapes)])

    assert recorded(81) == recorded(82)
    assert len(recorded(82)) == len(shapes)


@batch_db
def test_a_batch_of_plain_credits_takes_a_fixed_number_of_statements(cast) -> None:
    needs_postgres()
    code = cast.vendor.merchant_code

    def statements(n: int, first: int) -> int:
        batch = [sepay_delivery(sepay_body(content=f"CHO40 {code}", txn_id=first + i)) for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            outcomes = webhook_ingest_batch(batch)
        assert all(isinstance(o, IngestResult) and o.status == Status.PROCESSED for o in outcomes)
        return len(queries)

    # The vendors' lookup, then the payments and the deliveries with their outcomes
    # together; no refusal-count read when every delivery verified.
    assert statements(50, 60_000) == statements(2, 61_000) == 2
    assert Payment.objects.count() == 52
    assert not WebhookDelivery.objects.exclude(status=Status.PROCESSED).exists()
    assert not WebhookDelivery.objects.filter(payment=None).exists()


@batch_db
def test_retries_of_recorded_payments_are_duplicates_in_a_batch(cast) -> None:
    needs_postgres()
    body = sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=5151)
    webhook_ingest_batch([sepay_delivery(body)])

    outcomes = webhook_ingest_batch([sepay_delivery(body) for _ in range(3)])

    assert [o.status for o in outcomes if isinstance(o, IngestResult)] == [Status.DUPLICATE] * 3
    assert Payment.objects.count() == 1
    assert WebhookDelivery.objects.filter(status=Status.DUPLICATE).count() == 3


@batch_db
def test_a_failure_after_the_batch_committed_records_nothing_twice(cast, monkeypatch, caplog) -> None:
    """Once the statement has committed, nothing may send the deliveries down
    the single path again: a receipt that cannot be published is only logged."""
    needs_postgres()
    from payments.receipts import publish

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("receipt message failed")

    monkeypatch.setattr(publish, "message", broken)
    monkeypatch.setattr(publish.settings, "REDIS_URL", "redis://unused:6379/0")
    code = cast.vendor.merchant_code
    outcomes = webhook_ingest_batch(
        [sepay_delivery(sepay_body(content=f"CHO40 {code}", txn_id=t)) for t in (9801, 9802)]
    )

    assert [o.status for o in outcomes if isinstance(o, IngestResult)] == [Status.PROCESSED] * 2
    assert Payment.objects.count() == 2
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [Status.PROCESSED] * 2
    assert "could not publish the receipts" in caplog.text


@batch_db
def test_when_the_batch_statement_fails_each_credit_is_recorded_alone(cast, monkeypatch) -> None:
    needs_postgres()

    def broken(*args: Any, **kwargs: Any) -> set[int]:
        raise RuntimeError("batch statement failed")

    monkeypatch.setattr(batching, "_store_and_record", broken)
    code = cast.vendor.merchant_code
    outcomes = webhook_ingest_batch(
        [
            sepay_delivery(sepay_body(content=f"CHO40 {code}", txn_id=9901)),
            sepay_delivery(sepay_body(content=f"CHO40 {code}", txn_id=9902), key="forged"),
        ]
    )

    assert isinstance(outcomes[0], IngestResult) and outcomes[0].status == Status.PROCESSED
    assert isinstance(outcomes[1], BadSignature)
    assert list(Payment.objects.values_list("provider_txn_id", flat=True)) == ["9901"]
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == [Status.PROCESSED, Status.REJECTED]


def test_inside_a_transaction_it_ingests_one_by_one_with_the_same_outcomes(cast) -> None:
    # The test's own transaction (and SQLite, the embedded default) take the single path.
    outcomes = webhook_ingest_batch(
        [
            sepay_delivery(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=1234)),
            Delivery(
                provider=sepay, headers={"Content-Type": "application/json"}, body=encode(sepay_body(content="x"))
            ),
        ]
    )

    assert isinstance(outcomes[0], IngestResult) and outcomes[0].status == Status.PROCESSED
    assert isinstance(outcomes[1], MissingCredentials)
    assert Payment.objects.get().vendor == cast.vendor
    assert WebhookDelivery.objects.count() == 2


@batch_db
def test_a_delivery_the_table_refuses_does_not_cost_the_others_their_payment(cast) -> None:
    needs_postgres()
    code = cast.vendor.merchant_code
    good = sepay_delivery(sepay_body(content=f"CHO40 {code}", txn_id=3301))
    bad_address = Delivery(
        provider=sepay,
        headers={"Authorization": f"Apikey {SEPAY_API_KEY}"},
        body=encode(sepay_body(content=f"CHO40 {code}", txn_id=3302)),
        remote_addr="not-an-address",
    )

    outcomes = webhook_ingest_batch([good, bad_address])

    assert isinstance(outcomes[0], IngestResult) and outcomes[0].status == Status.PROCESSED
    assert isinstance(outcomes[1], ValidationError)  # as the single path answers it: a 500, logged
    assert list(Payment.objects.values_list("provider_txn_id", flat=True)) == ["3301"]


@pytest.mark.parametrize("column", ["source", "provider_txn_id"])
def test_the_batch_statement_refuses_a_value_too_long_rather_than_cut_it(cast, column) -> None:
    """Rows are read from the JSON parameter without their columns' lengths:
    the INSERT itself must refuse what does not fit (and then every delivery
    of the batch takes the single path), never store it cut short."""
    from django.db import DataError

    from payments.bank_credits import bulk_sql

    needs_postgres()
    sql, _pay_fields, del_fields = bulk_sql.store_and_record_sql()
    too_long = {"source": "s" * 17, "provider_txn_id": "9" * 65}[column]
    row = {"source": "sepay", "headers": {}, "body": "{}", "status": Status.RECEIVED, column: too_long}
    deliveries = [bulk_sql.values_row(del_fields, row, extra=(0, None))]

    with pytest.raises(DataError, match="too long"), transaction.atomic(), bulk_sql.bound_cursor() as cursor:
        cursor.execute(sql, [bulk_sql.rows_json([]), bulk_sql.rows_json(deliveries)])
    assert not WebhookDelivery.objects.exists()
