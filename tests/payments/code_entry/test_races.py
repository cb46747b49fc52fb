"""Races of code entry on PostgreSQL: a USSD final step arriving twice at once,
parallel guesses against the wrong-code limit."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from payments.models import (
    ConfirmationAttempt,
    ConfirmationCode,
    OutboundSms,
    Payment,
    Source,
)
from tests.conftest import client_for, needs_postgres
from tests.payments.code_entry.support import (
    Phone,
    pay,
)
from tests.payments.code_entry.test_confirm_api import URL


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
