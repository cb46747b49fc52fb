"""Vendor races on PostgreSQL (threads released together by a barrier, in a
transactional test): two volunteers registering one phone or account, two
markets registering one account, two board members approving one payout
change, two payout-change requests at once. Each runs several rounds, so the
requests overlap differently and both the checked path and the database
constraint get exercised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from payments.models import OutboundSms
from tests.conftest import client_for, needs_postgres
from tests.factories import make_board, make_volunteer
from tests.vendors.support import NEW_ACCOUNT, NEW_BANK, decision_url, new_vendor, qr_account, request_change
from vendors.models import PayoutAccountChange, Vendor

pytestmark = pytest.mark.django_db(transaction=True)


# --- registering a vendor ---------------------------------------------------------------


def _race(users, payloads):
    """POST the payloads at the same moment, one thread per user."""
    barrier = threading.Barrier(len(users))
    results: list = [None] * len(users)

    def register(index):
        try:
            client = client_for(users[index])
            barrier.wait()
            results[index] = client.post("/api/v1/vendors/", payloads[index], format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize(
    ("clash", "code"),
    [("phone", "duplicate_phone"), ("account", "duplicate_account")],
)
def test_it_registers_one_vendor_when_two_volunteers_race(cast, clash, code):
    needs_postgres()
    second_volunteer = make_volunteer(cast.market, "volunteer2")
    # Several rounds: the requests overlap differently each time, so both the
    # checked path and the database-constraint path get exercised.
    for round_ in range(5):
        before = Vendor.objects.count()
        same_phone = f"0977 000 {round_:03d}"
        same_account = f"77700000{round_:02d}"
        payloads = [
            new_vendor(
                cast.market,
                full_name=f"Người {round_}-{i}",
                phone=same_phone if clash == "phone" else f"0966 {round_:03d} 00{i}",
                account_number=same_account if clash == "account" else f"8880{round_:02d}000{i}",
            )
            for i in range(2)
        ]

        results = _race([cast.volunteer, second_volunteer], payloads)

        statuses = sorted(r.status_code for r in results)
        assert statuses == [201, 400], [r.content for r in results]
        refused = next(r for r in results if r.status_code == 400)
        assert refused.json()["error"]["code"] == code
        assert "Người" in refused.json()["error"]["message"]  # names the winner
        assert Vendor.objects.count() == before + 1


def test_two_markets_registering_one_account_at_once_cannot_both_succeed(cast):
    needs_postgres()
    far_volunteer = make_volunteer(cast.far_market, "far_volunteer")
    for round_ in range(4):
        account = f"66600000{round_:02d}"
        payloads = [
            new_vendor(cast.market, account_number=account, phone=f"0966 {round_:03d} 001"),
            new_vendor(cast.far_market, account_number=account, phone=f"0966 {round_:03d} 002"),
        ]
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def register(i: int, user) -> None:
            try:
                client = client_for(user)
                barrier.wait()
                results[i] = client.post("/api/v1/vendors/", payloads[i], format="json")
            finally:
                connection.close()

        threads = [
            threading.Thread(target=register, args=(0, cast.volunteer)),
            threading.Thread(target=register, args=(1, far_volunteer)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        assert sorted(r.status_code for r in results) == [201, 409], [r.content for r in results]
        assert Vendor.objects.filter(account_number=account).count() == 1


# --- payout-account changes -------------------------------------------------------------


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


# --- two board members deciding one registration ---------------------------------------


def test_it_records_one_decision_when_two_board_members_approve_and_reject_at_once(cast):
    needs_postgres()
    from common.errors import DomainError
    from tests.factories import VendorFactory
    from vendors import reviews
    from vendors.models import VendorDecision

    second_board = make_board(cast.market, "board2")
    for round_ in range(5):
        vendor = VendorFactory(market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.volunteer)
        barrier = threading.Barrier(2)
        outcomes: list[Any] = [None, None]

        def decide(index: int, vendor: Vendor = vendor) -> None:
            try:
                copy = Vendor.objects.get(pk=vendor.pk)  # each saw it pending
                barrier.wait()
                if index == 0:
                    reviews.vendor_approve(actor=cast.board, vendor=copy)
                else:
                    reviews.vendor_reject(actor=second_board, vendor=copy, reason=f"sai {round_}")
                outcomes[index] = "ok"
            except DomainError as error:
                outcomes[index] = error.code
            finally:
                connection.close()

        threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        assert sorted(outcomes) == ["already_decided", "ok"], outcomes
        vendor.refresh_from_db()
        rows = list(VendorDecision.objects.filter(vendor=vendor).values_list("to_status", flat=True))
        assert rows == [vendor.status]
        assert vendor.status in (Vendor.Status.ACTIVE, Vendor.Status.REJECTED)
