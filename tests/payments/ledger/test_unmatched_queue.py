"""The unmatched queue: credits no vendor could be matched to, which a board
member (or the province) assigns to a vendor — audited and race-safe."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from common.errors import Conflict
from payments.ledger.services import payment_assign
from payments.models import Payment, PaymentEvent
from tests.conftest import client_for
from tests.factories import PaymentFactory, VendorFactory


@pytest.fixture
def queued(cast) -> Payment:
    """A credit that reached cast.market's collection account with an unreadable transfer content."""
    return PaymentFactory.create(
        vendor=None, market=cast.market, amount=85_000, receiving_account="0123456789", content="CK tien rau"
    )


def give(action: str, user, payment: Payment, vendor_id: int, note: str | None = None):
    """POST payments/{id}/<action>/ (assign or reassign) as ``user``."""
    body: dict[str, object] = {"vendor": vendor_id}
    if note is not None:
        body["note"] = note
    return client_for(user).post(f"/api/v1/payments/{payment.id}/{action}/", body, format="json")


def assign(user, payment: Payment, vendor_id: int, note: str | None = None):
    return give("assign", user, payment, vendor_id, note)


def queue_ids(user) -> list[int]:
    r = client_for(user).get("/api/v1/payments/unmatched/")
    assert r.status_code == 200, r.content
    return [p["id"] for p in r.json()["results"]]


# --- the queue ----------------------------------------------------------------------


def test_it_shows_the_queue_to_the_markets_board_with_what_they_need_to_decide(cast, queued):
    PaymentFactory.create(vendor=cast.vendor)  # matched: not in the queue
    r = client_for(cast.board).get("/api/v1/payments/unmatched/")
    [row] = r.json()["results"]
    assert row["id"] == queued.id
    assert row["vendor"] is None
    assert row["market"] == cast.market.id
    assert row["amount"] == 85_000
    assert row["receiving_account"] == "0123456789"
    assert row["content"] == "CK tien rau"


@pytest.mark.parametrize(
    ("role", "sees"),
    [("admin", True), ("officer", True), ("board", True), ("other_board", False), ("far_officer", False),
     ("volunteer", False), ("vendor_user", False), ("outsider", False)],
)  # fmt: skip
def test_it_shows_the_queue_only_to_those_who_oversee_the_market(cast, queued, role, sees):
    assert queue_ids(getattr(cast, role)) == ([queued.id] if sees else [])


def test_it_keeps_a_credit_without_market_for_the_scope_holding_its_account(cast):
    # Same account number in two markets (say a credit from before the rule
    # that a trader's stalls share one account): the boards holding it and
    # their officer see it (tests/payments/test_unmatched_scope.py).
    twin = VendorFactory.create(
        market=cast.other_market, bank_id=cast.vendor.bank_id, account_number=cast.vendor.account_number
    )
    stray = PaymentFactory.create(vendor=None, market=None, receiving_account=twin.account_number)
    nobody = PaymentFactory.create(vendor=None, market=None, receiving_account="5550001112")
    assert queue_ids(cast.officer) == [stray.id]
    assert queue_ids(cast.board) == [stray.id]
    assert queue_ids(cast.other_board) == [stray.id]
    assert queue_ids(cast.far_officer) == []
    assert set(queue_ids(cast.admin)) == {stray.id, nobody.id}


def test_it_lists_the_oldest_credit_first_and_drops_closed_ones(cast):
    now = timezone.now()
    newer = PaymentFactory.create(vendor=None, market=cast.market, occurred_at=now)
    older = PaymentFactory.create(vendor=None, market=cast.market, occurred_at=now - dt.timedelta(hours=2))
    PaymentFactory.create(vendor=None, market=cast.market, status="refunded")
    PaymentFactory.create(vendor=None, market=cast.market, status="failed")
    assert queue_ids(cast.board) == [older.id, newer.id]


def test_it_requires_login_for_the_queue(api, queued):
    assert api.get("/api/v1/payments/unmatched/").status_code == 401
    assert api.post(f"/api/v1/payments/{queued.id}/assign/", {"vendor": 1}, format="json").status_code == 401


# --- assigning -------------------------------------------------------------------------


def test_it_assigns_a_queued_credit_and_audits_it(cast, queued):
    r = assign(cast.board, queued, cast.vendor.id, note="Chị Hoà xác nhận bán 2kg cà chua")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["vendor"] == cast.vendor.id
    assert body["market"] == cast.market.id
    assert body["attribution"] == "manual"
    [event] = body["events"]
    assert event["kind"] == "assigned"
    assert event["actor"] == "board"
    assert event["data"] == {
        "vendor": cast.vendor.id,
        "market": cast.market.id,
        "note": "Chị Hoà xác nhận bán 2kg cà chua",
        "previous_market": cast.market.id,
        "previous_attribution": "unmatched",
    }
    # It leaves the queue and becomes the vendor's money.
    assert queue_ids(cast.board) == []
    vendor_view = client_for(cast.vendor_user).get("/api/v1/payments/").json()["results"]
    assert [p["id"] for p in vendor_view] == [queued.id]
    summary = client_for(cast.vendor_user).get("/api/v1/payments/summary/").json()
    assert summary["totals"]["amount"] == 85_000


def test_it_refuses_to_assign_twice(cast, queued):
    assert assign(cast.board, queued, cast.vendor.id).status_code == 200
    second = VendorFactory.create(market=cast.market)
    r = assign(cast.board, queued, second.id)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "already_assigned"
    queued.refresh_from_db()
    assert queued.vendor_id == cast.vendor.id
    assert PaymentEvent.objects.filter(payment=queued).count() == 1


def test_it_refuses_to_reassign_a_matched_payment(cast):
    matched = PaymentFactory.create(vendor=cast.vendor)
    r = assign(cast.board, matched, VendorFactory.create(market=cast.market).id)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "already_assigned"


def test_it_hides_vendors_outside_the_callers_markets(cast, queued):
    r = assign(cast.board, queued, cast.other_vendor.id)
    assert r.status_code == 404
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("vendor_not_found", "vendor")
    assert str(cast.other_vendor.id) in error["message"]
    r = assign(cast.board, queued, 987654)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "vendor_not_found"
    queued.refresh_from_db()
    assert queued.vendor_id is None


def test_it_keeps_a_credit_in_the_market_it_arrived_in(cast, queued):
    # The officer may see both vendors, but the money reached cast.market's account.
    r = assign(cast.officer, queued, cast.other_vendor.id)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "vendor_not_in_market"
    assert assign(cast.officer, queued, cast.vendor.id).status_code == 200


def test_it_lets_the_officer_place_a_credit_without_market(cast):
    twin = VendorFactory.create(
        market=cast.other_market, bank_id=cast.vendor.bank_id, account_number=cast.vendor.account_number
    )
    stray = PaymentFactory.create(vendor=None, market=None, receiving_account=twin.account_number)
    r = assign(cast.officer, stray, twin.id, note="Quầy ở chợ Thái")
    assert r.status_code == 200, r.content
    assert r.json()["market"] == cast.other_market.id
    assert r.json()["events"][0]["data"]["previous_market"] is None
    # Now the other market's board sees it as theirs.
    assert stray.id in [p["id"] for p in client_for(cast.other_board).get("/api/v1/payments/").json()["results"]]


@pytest.mark.parametrize("role", ["other_board", "far_officer", "volunteer", "vendor_user", "outsider"])
def test_it_hides_the_queued_credit_from_those_outside(cast, queued, role):
    r = assign(getattr(cast, role), queued, cast.vendor.id)
    assert r.status_code == 404
    queued.refresh_from_db()
    assert queued.vendor_id is None


def test_it_forbids_a_vendor_to_move_their_own_payment(cast):
    mine = PaymentFactory.create(vendor=cast.vendor)
    r = assign(cast.vendor_user, mine, cast.vendor.id)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "vendor"),
        ({"vendor": "abc"}, "vendor"),
        ({"vendor": 0}, "vendor"),
        ({"vendor": 1, "note": "x" * 501}, "note"),
    ],
)
def test_it_rejects_a_bad_assignment_body(cast, queued, body, field):
    r = client_for(cast.board).post(f"/api/v1/payments/{queued.id}/assign/", body, format="json")
    assert r.status_code == 400
    assert field in r.json()["error"]["fields"]


def test_it_refuses_a_second_assignment_from_a_stale_read(cast, queued):
    # Both board members loaded the page before either clicked: the service sees
    # vendor=None on its copy, and only the conditional UPDATE stops the second.
    stale = Payment.objects.get(pk=queued.pk)
    payment_assign(actor=cast.board, payment=queued, vendor=cast.vendor)
    with pytest.raises(Conflict) as excinfo:
        payment_assign(actor=cast.officer, payment=stale, vendor=VendorFactory.create(market=cast.market))
    assert excinfo.value.code == "already_assigned"
    assert excinfo.value.status == 409
    queued.refresh_from_db()
    assert queued.vendor_id == cast.vendor.id
    assert PaymentEvent.objects.filter(payment=queued).count() == 1


# --- correcting an attribution ----------------------------------------------------------------


def reassign(user, payment: Payment, vendor_id: int, note: str | None = None):
    return give("reassign", user, payment, vendor_id, note)


def test_it_moves_a_wrongly_assigned_credit_to_another_stall_and_audits_it(cast, queued):
    neighbour = VendorFactory.create(market=cast.market, full_name="Lò Thị Xuân")
    assert assign(cast.board, queued, cast.vendor.id).status_code == 200

    r = reassign(cast.board, queued, neighbour.id, note="Nhầm sạp: tiền của chị Xuân")

    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["vendor"], body["market"], body["attribution"]) == (neighbour.id, cast.market.id, "manual")
    assert [e["kind"] for e in body["events"]] == ["assigned", "reassigned"]
    assert body["events"][1]["data"] == {
        "vendor": neighbour.id,
        "previous_vendor": cast.vendor.id,
        "previous_attribution": "manual",
        "note": "Nhầm sạp: tiền của chị Xuân",
    }
    # The money leaves the first vendor's books.
    assert client_for(cast.vendor_user).get("/api/v1/payments/").json()["results"] == []


def test_it_moves_a_credit_matched_by_a_shared_account(cast):
    by_account = PaymentFactory.create(vendor=cast.vendor, attribution="account", channel="phone_transfer")
    neighbour = VendorFactory.create(market=cast.market)

    r = reassign(cast.officer, by_account, neighbour.id)

    assert r.status_code == 200, r.content
    assert r.json()["events"][0]["data"]["previous_attribution"] == "account"


@pytest.mark.parametrize("attribution", ["merchant_code", "request", "code_entry"])
def test_it_keeps_money_where_the_payer_sent_it(cast, attribution):
    paid = PaymentFactory.create(vendor=cast.vendor, attribution=attribution)

    r = reassign(cast.board, paid, VendorFactory.create(market=cast.market).id)

    assert r.status_code == 409
    assert r.json()["error"]["code"] == "attribution_fixed"
    paid.refresh_from_db()
    assert paid.vendor_id == cast.vendor.id
    assert not PaymentEvent.objects.filter(payment=paid).exists()


def test_it_sends_a_queued_credit_to_assign(cast, queued):
    r = reassign(cast.board, queued, cast.vendor.id)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "not_assigned"


def test_it_refuses_a_vendor_of_another_market_or_the_same_vendor(cast):
    manual = PaymentFactory.create(vendor=cast.vendor, attribution="manual")

    other_market = reassign(cast.officer, manual, cast.other_vendor.id)  # the officer sees both markets
    same = reassign(cast.board, manual, cast.vendor.id)
    unknown_to_board = reassign(cast.board, manual, cast.other_vendor.id)

    assert (other_market.status_code, other_market.json()["error"]["code"]) == (400, "vendor_not_in_market")
    assert (same.status_code, same.json()["error"]["code"]) == (400, "same_vendor")
    assert (unknown_to_board.status_code, unknown_to_board.json()["error"]["code"]) == (404, "vendor_not_found")


@pytest.mark.parametrize(("role", "status"), [("vendor_user", 403), ("other_board", 404), ("volunteer", 404)])
def test_it_lets_only_those_who_oversee_the_market_reassign(cast, role, status):
    manual = PaymentFactory.create(vendor=cast.vendor, attribution="manual")

    r = reassign(getattr(cast, role), manual, VendorFactory.create(market=cast.market).id)

    assert r.status_code == status
    manual.refresh_from_db()
    assert manual.vendor_id == cast.vendor.id


def test_it_refuses_a_reassignment_from_a_stale_read(cast):
    from payments.ledger.services import payment_reassign

    manual = PaymentFactory.create(vendor=cast.vendor, attribution="manual")
    stale = Payment.objects.get(pk=manual.pk)
    first, second = VendorFactory.create(market=cast.market), VendorFactory.create(market=cast.market)
    assert reassign(cast.board, manual, first.id).status_code == 200

    with pytest.raises(Conflict) as refused:
        payment_reassign(actor=cast.board, payment=stale, vendor=second)

    assert refused.value.code == "changed_meanwhile"
    manual.refresh_from_db()
    assert manual.vendor_id == first.id
