"""The offline-sync upload decides a whole request in one transaction
(payments/code_entry/offline_sync.py); every item must come out exactly as
if the items had been uploaded one by one, or recorded by the per-item path."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments.code_entry import offline_sync
from payments.models import (
    ConfirmationAttempt,
    ConfirmationCode,
    OfflineConfirmation,
    Payment,
    PaymentEvent,
    local_date,
)
from tests.conftest import client_for
from tests.factories import make_vendor_user
from tests.payments.code_entry.support import code_for
from vendors.models import Vendor

URL = "/api/v1/payments/offline-sync/"
CONFIRM = "/api/v1/payments/confirm/"


def _paid(vendor: Vendor, amount: int, *, expires_at: dt.datetime | None = None) -> tuple[Payment, str]:
    """A code-entry payment with its confirmation code, as confirmation_code_issue leaves it."""
    now = timezone.now()
    Vendor.objects.filter(pk=vendor.pk).update(code_counter=F("code_counter") + 1)
    vendor.refresh_from_db()
    payment = Payment.objects.create(
        vendor=vendor,
        market=vendor.market,
        amount=amount,
        channel="code_entry",
        source="ussd",
        provider_txn_id=f"batch-{uuid.uuid4()}",
        status=Payment.Status.SUCCEEDED,
        attribution=Payment.Attribution.CODE_ENTRY,
        occurred_at=now - dt.timedelta(hours=3),
        local_date=local_date(now),
    )
    ConfirmationCode.objects.create(
        payment=payment,
        vendor=vendor,
        counter=vendor.code_counter,
        expires_at=expires_at or now + dt.timedelta(days=1),
    )
    return payment, code_for(vendor, counter=vendor.code_counter, amount=amount)


def _item(code: str, amount: int, captured_at: dt.datetime, client_uuid: str | None = None) -> dict[str, Any]:
    return {
        "client_uuid": client_uuid or str(uuid.uuid4()),
        "code": code,
        "amount": amount,
        "captured_at": captured_at.isoformat(),
    }


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _mixed_upload(cast: Any) -> list[dict[str, Any]]:
    """100 items: matched, used, expired, pending, wrong, retried, conflicting, invalid, throttled."""
    vendor = cast.vendor
    now = timezone.now()
    at = now - dt.timedelta(minutes=30)
    old = now - dt.timedelta(hours=30)  # past the reconciliation deadline at upload
    amounts = [10_000, 20_000, 30_000, 45_000, 50_000]  # several codes per amount: the candidates differ
    genuine = [(_item(code, p.amount, at), p) for p, code in (_paid(vendor, amounts[k % 5]) for k in range(60))]
    _, used_online = _paid(vendor, 20_000)
    online = client_for(cast.vendor_user).post(
        CONFIRM, {"merchant_code": vendor.merchant_code, "code": used_online, "amount": 20_000}, format="json"
    )
    assert online.status_code == 200, online.content
    expired_at = now - dt.timedelta(hours=2)
    _, expiring = _paid(vendor, 30_000, expires_at=expired_at)
    _, expiring_too = _paid(vendor, 45_000, expires_at=expired_at)
    stored = _item(genuine[59][0]["code"], 50_000, at)  # uploaded before: a retry answers as then
    first = client_for(cast.vendor_user).post(URL, {"confirmations": [stored]}, format="json")
    assert first.json()["results"][0]["status"] == "matched"
    theirs = _item("111111", 12_000, at)
    other_user = make_vendor_user(cast.other_vendor, "other_vendor")
    assert client_for(other_user).post(URL, {"confirmations": [theirs]}, format="json").status_code == 200
    future = code_for(vendor, counter=vendor.code_counter + 1, amount=15_000)  # a payment not recorded yet

    items = [item for item, _ in genuine[:40]]
    items += [
        {**items[3]},  # the same item twice in one request
        {**items[4], "client_uuid": str(uuid.uuid4())},  # the same code again: used by item 4
        _item(used_online, 20_000, at),  # confirmed online before
        _item(expiring, 30_000, expired_at + dt.timedelta(minutes=5)),  # captured after it expired
        _item(expiring_too, 45_000, expired_at - dt.timedelta(minutes=5)),  # captured while valid
        stored,  # a retry of an earlier upload
        {**stored, "amount": 51_000},  # its uuid, other content
        theirs,  # another vendor's uuid
        _item(future, 15_000, at),  # pending: its payment is not recorded yet
        {"client_uuid": "not-a-uuid", "code": "123456", "amount": 1000, "captured_at": at.isoformat()},
        _item("12345", 1000, at),
        _item("123456", 1000, now + dt.timedelta(hours=1)),
        _item("123456", 1000, dt.datetime(2019, 12, 31, tzinfo=dt.UTC)),
    ]
    items += [item for item, _ in genuine[40:50]]
    # Failures so far: the code used twice, the one used online, the expired one, the pending one.
    items += [_item(_wrong(genuine[51][0]["code"]), genuine[51][1].amount, old)]  # wrong and late: the 5th
    items += [_item(_wrong(genuine[50][0]["code"]), genuine[50][1].amount, at)]  # over the limit: unchecked
    items += [item for item, _ in genuine[52:58]]  # over the limit now: kept unchecked
    items += [_item(genuine[58][0]["code"], genuine[58][1].amount, old)]  # unchecked and late
    items += [_item(f"{200_000 + k:06d}", 10_000, at) for k in range(100 - len(items))]
    assert len(items) == 100
    return items


def _effects() -> dict[str, Any]:
    return {
        "offline": sorted(
            OfflineConfirmation.objects.values_list(
                "client_uuid", "vendor_id", "code", "amount", "captured_at", "status", "payment_id", "flag_reason"
            )
        ),
        "attempts": list(
            ConfirmationAttempt.objects.order_by("id").values_list(
                "vendor_id", "outcome", "user_id", "code_tail", "amount", "succeeded", "payment_id", "remote_addr"
            )
        ),
        "used": sorted(ConfirmationCode.objects.filter(used_at__isnull=False).values_list("pk", flat=True)),
        "confirmed": sorted(
            Payment.objects.filter(vendor_confirmed_at__isnull=False).values_list("pk", "vendor_confirmed_at")
        ),
        "events": sorted(PaymentEvent.objects.filter(kind="vendor_confirmed").values_list("payment_id", "data")),
    }


class _Undo(Exception):
    pass


def _then_undo(run: Callable[[], list[dict[str, Any]]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The results of ``run`` and what it left in the database; then the database as before."""
    seen: list[Any] = []
    try:
        with transaction.atomic():
            seen.append(run())
            seen.append(_effects())
            raise _Undo
    except _Undo:
        pass
    return seen[0], seen[1]


def _in_one_request(cast: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = client_for(cast.vendor_user).post(URL, {"confirmations": items}, format="json")
    assert r.status_code == 200, r.content
    return r.json()["results"]


def _one_by_one(cast: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_in_one_request(cast, [item])[0] for item in items]


def _per_item_path(cast: Any, items: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """One request, decided by the per-item path (what the upload falls back to)."""
    with monkeypatch.context() as m:
        m.setattr(offline_sync, "PREFETCH_MAX_CODES", 0)
        return _in_one_request(cast, items)


@pytest.mark.parametrize("reference", ["one_by_one", "per_item_path"])
def test_a_mixed_upload_of_100_gives_each_item_what_the_items_one_by_one_would(cast, reference, monkeypatch, caplog):
    items = _mixed_upload(cast)
    caplog.set_level(logging.INFO, logger="payments.code_entry.offline_sync")

    batch, batch_effects = _then_undo(lambda: _in_one_request(cast, items))
    fell_back = [r.getMessage() for r in caplog.records if "item by item" in r.getMessage()]
    assert not fell_back  # decided in one go, not by the per-item path
    if reference == "one_by_one":
        expected, expected_effects = _then_undo(lambda: _one_by_one(cast, items))
    else:
        expected, expected_effects = _then_undo(lambda: _per_item_path(cast, items, monkeypatch))
        assert any("item by item" in r.getMessage() for r in caplog.records)

    assert batch == expected
    assert batch_effects == expected_effects
    # …and the scenario is the one meant: every kind of outcome is there.
    assert Counter((r["status"], r["flag_reason"] or (r["error"] or {}).get("code", "")) for r in batch) == {
        ("matched", ""): 53,  # 50 genuine, the one repeated, the one captured in time, the retry
        ("flagged", "code_already_used"): 2,
        ("flagged", "code_expired"): 1,
        ("flagged", "no_matching_payment"): 1,
        ("flagged", "too_many_wrong_codes"): 1,
        ("pending", ""): 1,  # the payment not recorded yet
        ("pending", "throttled"): 35,
        ("error", "uuid_conflict"): 2,
        ("error", "invalid"): 2,
        ("error", "invalid_captured_at"): 2,
    }
    assert len(batch_effects["events"]) == len(batch_effects["used"]) == 2 + 51  # online, the retried one, new
    assert Counter(a[1] for a in batch_effects["attempts"])["throttled"] == 36


def test_a_request_of_100_takes_a_fixed_number_of_queries(cast):
    at = timezone.now() - dt.timedelta(minutes=5)
    items = [_item(code, p.amount, at) for p, code in (_paid(cast.vendor, 1_000 * (k + 1)) for k in range(100))]
    vendor = client_for(cast.vendor_user)
    vendor.post(URL, {"confirmations": [_item("000000", 5_000, at)]}, format="json")  # session, caches

    with CaptureQueriesContext(connection) as queries:
        r = vendor.post(URL, {"confirmations": items}, format="json")

    assert [x["status"] for x in r.json()["results"]] == ["matched"] * 100
    assert len(queries) <= 15, "\n".join(q["sql"][:70] for q in queries)  # 13: not one per item
    assert Payment.objects.filter(vendor_confirmed_at__isnull=False).count() == 100
