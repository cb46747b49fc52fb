"""Payout-account changes under concurrency (PostgreSQL): two board members
approving at the same moment apply the change once; two requests at the same
moment leave one pending."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from payments.models import OutboundSms
from tests.conftest import client_for, needs_postgres
from tests.factories import make_board
from tests.vendors.test_payout_changes import NEW_ACCOUNT, NEW_BANK, decision_url, qr_account, request_change
from vendors.models import PayoutAccountChange, Vendor

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_it_applies_a_change_once_when_two_board_members_approve_together(cast):
    needs_postgres()
    deciders = [cast.board, make_board(cast.market, "board2"), cast.officer]
    for round_ in range(3):
        change_id = request_change(cast.volunteer, cast.vendor, account_number=f"{NEW_ACCOUNT}{round_}").json()["id"]
        clients = [client_for(user) for user in deciders]
        url = decision_url(change_id, cast.vendor, "approve")

        results = _at_once([lambda c=c: c.post(url, {}, format="json") for c in clients])

        assert sorted(r.status_code for r in results) == [200, 409, 409], [r.content for r in results]
        assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"payout_change_decided"}
        change = PayoutAccountChange.objects.get(pk=change_id)
        winner = next(r for r in results if r.status_code == 200).json()
        assert (change.outcome, change.decided_by.username) == ("approved", winner["decided_by"])
        assert qr_account(cast.vendor) == (NEW_BANK, f"{NEW_ACCOUNT}{round_}")
        # Requested once, approved once: two SMS, not four.
        assert OutboundSms.objects.filter(to=cast.vendor.phone).count() == 2 * (round_ + 1)


def test_it_keeps_one_pending_change_when_two_requests_race(cast):
    needs_postgres()
    for round_ in range(3):
        before = PayoutAccountChange.objects.count()
        calls = [
            lambda user=user, i=i: request_change(user, cast.vendor, account_number=f"08880{round_}000{i}")
            for i, user in enumerate([cast.vendor_user, cast.volunteer])
        ]

        results = _at_once(calls)

        assert sorted(r.status_code for r in results) == [201, 409], [r.content for r in results]
        assert PayoutAccountChange.objects.count() == before + 1
        pending = PayoutAccountChange.objects.get(outcome="pending")
        client_for(cast.board).post(decision_url(pending.pk, cast.vendor, "reject"), {"reason": "Thử"}, format="json")
    assert Vendor.objects.get(pk=cast.vendor.pk).bank_id == "970436"
