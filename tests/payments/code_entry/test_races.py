"""Races of code entry on PostgreSQL: a USSD final step arriving twice at once,
parallel guesses against the wrong-code limit, offline-sync uploads against an
online confirmation, a replayed upload and another vendor's upload."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from payments.models import (
    ConfirmationAttempt,
    ConfirmationCode,
    OfflineConfirmation,
    OutboundSms,
    Payment,
    PaymentEvent,
    Source,
)
from tests.conftest import client_for, needs_postgres
from tests.factories import make_vendor_user
from tests.payments.code_entry.support import (
    Phone,
    pay,
)
from tests.payments.code_entry.test_confirm_api import URL
from tests.payments.code_entry.test_offline_sync_batch import URL as OFFLINE_URL
from tests.payments.code_entry.test_offline_sync_batch import _item, _paid


# Outside a test transaction (real concurrency); conftest reloads the reference data the flush removes.
@pytest.mark.django_db(transaction=True)
def test_it_holds_the_limit_under_parallel_guesses(cast, sms, ussd_secret):
    needs_postgres()
    pay("parallel-guess", cast.vendor, 20_000)
    merchant = cast.vendor.merchant_code
    statuses: list[int] = []
    barrier = threading.Barrier(12)

    def guess(n: int) -> None:
        try:
            barrier.wait()
            r = client_for(cast.vendor_user).post(URL, {"merchant_code": merchant, "code": f"{n:06d}"}, format="json")
            statuses.append(r.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    evaluated = ConfirmationAttempt.objects.exclude(outcome=ConfirmationAttempt.Outcome.THROTTLED).count()
    assert evaluated <= 5
    assert statuses.count(429) >= 7
    assert ConfirmationAttempt.objects.count() == 12


# Outside a test transaction (real concurrency); conftest reloads the reference data the flush removes.
@pytest.mark.django_db(transaction=True)
def test_it_makes_one_payment_when_the_final_step_arrives_twice_at_once(cast, sms, ussd_secret):
    needs_postgres()
    phone = Phone("race-1")
    phone.dial()
    phone.send(cast.vendor.merchant_code)
    phone.send("1")
    phone.send("42000")
    text = "*".join([*phone.answers, "1"])
    replies: list[str] = []
    barrier = threading.Barrier(4)

    def final_step() -> None:
        try:
            barrier.wait()
            replies.append(Phone("race-1").post(text))
        finally:
            connection.close()

    threads = [threading.Thread(target=final_step) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(replies) == 4 and len(set(replies)) == 1, replies
    assert replies[0].startswith("END Da tra 42.000d")
    assert Payment.objects.filter(source=Source.USSD).count() == 1
    assert ConfirmationCode.objects.count() == 1
    assert OutboundSms.objects.count() == 2


# --- the offline-sync upload holds the vendor row for the whole request (offline_sync.py) ---


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in parallel threads, started together; their return values in order."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait()
            out[i] = calls[i]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _batch_of(vendor: Any, n: int) -> tuple[list[Payment], list[dict[str, Any]]]:
    at = timezone.now() - dt.timedelta(minutes=10)
    paid = [_paid(vendor, 1_000 * (k + 1)) for k in range(n)]
    return [p for p, _ in paid], [_item(code, p.amount, at) for p, code in paid]


def _upload(user: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = client_for(user).post(OFFLINE_URL, {"confirmations": items}, format="json")
    assert r.status_code == 200, r.content
    return r.json()["results"]


@pytest.mark.django_db(transaction=True)
def test_an_upload_and_an_online_confirmation_of_one_code_at_once_use_it_once(cast):
    needs_postgres()
    payments, items = _batch_of(cast.vendor, 100)
    contested = 60

    def online() -> int:
        r = client_for(cast.vendor_user).post(
            URL, {"merchant_code": cast.vendor.merchant_code, "code": items[contested]["code"]}, format="json"
        )
        return r.status_code

    results, status = _at_once(lambda: _upload(cast.vendor_user, items), online)

    item = results[contested]
    assert (status, item["status"], item["flag_reason"]) in [
        (200, "flagged", "code_already_used"),  # online first
        (409, "matched", ""),  # the upload first
    ]
    assert [r["status"] for i, r in enumerate(results) if i != contested] == ["matched"] * 99
    events = PaymentEvent.objects.filter(kind="vendor_confirmed")
    assert events.count() == 100 and events.filter(payment=payments[contested]).count() == 1
    assert ConfirmationCode.objects.filter(used_at__isnull=False).count() == 100
    assert Payment.objects.filter(vendor_confirmed_at__isnull=False).count() == 100
    assert ConfirmationAttempt.objects.count() == 101


@pytest.mark.django_db(transaction=True)
def test_the_same_batch_uploaded_twice_at_once_is_recorded_once(cast):
    needs_postgres()
    _, items = _batch_of(cast.vendor, 100)

    first, second = _at_once(lambda: _upload(cast.vendor_user, items), lambda: _upload(cast.vendor_user, items))

    assert first == second
    assert [r["status"] for r in first] == ["matched"] * 100
    assert OfflineConfirmation.objects.count() == 100
    assert PaymentEvent.objects.filter(kind="vendor_confirmed").count() == 100
    assert ConfirmationAttempt.objects.count() == 100  # the later request found them all stored: retries


@pytest.mark.django_db(transaction=True)
def test_two_vendors_uploading_one_client_uuid_at_once_get_one_row_and_one_conflict(cast):
    needs_postgres()
    _, mine = _batch_of(cast.vendor, 50)
    _, theirs = _batch_of(cast.other_vendor, 50)
    shared = mine[25]["client_uuid"]
    theirs[10] = {**theirs[10], "client_uuid": shared}
    other_user = make_vendor_user(cast.other_vendor, "other_vendor")

    for_me, for_them = _at_once(lambda: _upload(cast.vendor_user, mine), lambda: _upload(other_user, theirs))

    owner = OfflineConfirmation.objects.get(client_uuid=shared).vendor_id
    won, lost = (for_me[25], for_them[10]) if owner == cast.vendor.pk else (for_them[10], for_me[25])
    assert won["status"] == "matched"
    assert (lost["status"], lost["error"]["code"]) == ("error", "uuid_conflict")
    others = [r for i, r in enumerate(for_me) if i != 25] + [r for i, r in enumerate(for_them) if i != 10]
    assert [r["status"] for r in others] == ["matched"] * 98
    assert OfflineConfirmation.objects.count() == 99
