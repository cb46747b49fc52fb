"""A registration's review (vendors/reviews.py): maker-checker, a reason to
reject, every decision recorded, the status API held to the same rule."""

from __future__ import annotations

import pytest

from common.errors import Conflict, Forbidden, Invalid
from tests.conftest import client_for
from tests.factories import VendorFactory, make_board
from vendors import reviews
from vendors.edits import vendor_change_status
from vendors.models import Vendor, VendorDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(cast):
    """A trader the cast's volunteer registered, waiting for the board."""
    return VendorFactory(market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.volunteer)


def decisions(vendor):
    return list(
        VendorDecision.objects.filter(vendor=vendor)
        .order_by("decided_at", "id")
        .values_list("from_status", "to_status", "reason", "decided_by__username")
    )


def test_it_lets_the_board_approve_a_volunteers_trader_and_records_it(cast, submitted):
    reviews.vendor_approve(actor=cast.board, vendor=submitted)

    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.ACTIVE
    assert decisions(submitted) == [("pending", "active", "", "board")]


def test_it_rejects_with_the_reason_and_records_it(cast, submitted):
    reviews.vendor_reject(actor=cast.officer, vendor=submitted, reason="  Tên chủ   tài khoản không khớp ")

    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.REJECTED
    assert decisions(submitted) == [("pending", "rejected", "Tên chủ tài khoản không khớp", "officer")]


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_a_rejection_without_a_reason(cast, submitted, reason):
    with pytest.raises(Invalid) as refused:
        reviews.vendor_reject(actor=cast.board, vendor=submitted, reason=reason)

    assert refused.value.code == "reason_required"
    assert refused.value.field == "reason"
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.PENDING
    assert decisions(submitted) == []


def test_it_refuses_the_volunteer_who_submitted(cast, submitted):
    # A volunteer does not manage the market: neither their own trader nor anyone's.
    with pytest.raises(Forbidden) as refused:
        reviews.vendor_approve(actor=cast.volunteer, vendor=submitted)

    assert refused.value.code == "board_only"
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.PENDING


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_it_refuses_a_board_member_deciding_a_trader_they_submitted(cast, action):
    own = VendorFactory(market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.board)

    with pytest.raises(Forbidden) as refused:
        if action == "approve":
            reviews.vendor_approve(actor=cast.board, vendor=own)
        else:
            reviews.vendor_reject(actor=cast.board, vendor=own, reason="sai")

    assert refused.value.code == "own_submission"
    own.refresh_from_db()
    assert own.status == Vendor.Status.PENDING
    assert decisions(own) == []
    # Another board member of the market, or the province, may.
    second = make_board(cast.market, "board2")
    reviews.vendor_approve(actor=second, vendor=own)
    own.refresh_from_db()
    assert own.status == Vendor.Status.ACTIVE


def test_it_refuses_a_board_member_approving_their_own_stall(cast):
    stall = VendorFactory(
        market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.volunteer, user=cast.board
    )

    with pytest.raises(Forbidden) as refused:
        reviews.vendor_approve(actor=cast.board, vendor=stall)

    assert refused.value.code == "own_stall"


def test_it_refuses_a_second_decision(cast, submitted):
    reviews.vendor_reject(actor=cast.board, vendor=submitted, reason="thiếu số tài khoản")

    with pytest.raises(Conflict) as refused:
        reviews.vendor_approve(actor=cast.officer, vendor=submitted)

    assert refused.value.code == "already_decided"
    assert len(decisions(submitted)) == 1


def test_it_takes_a_corrected_registration_back_and_the_resender_cannot_approve_it(cast, submitted):
    reviews.vendor_reject(actor=cast.board, vendor=submitted, reason="sai tên")
    second = make_board(cast.market, "board2")

    reviews.vendor_resubmit(actor=second, vendor=submitted)

    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.PENDING
    with pytest.raises(Forbidden):
        reviews.vendor_approve(actor=second, vendor=submitted)  # resent it: a maker now
    reviews.vendor_approve(actor=cast.board, vendor=submitted)
    assert [d[:2] for d in decisions(submitted)] == [
        ("pending", "rejected"),
        ("rejected", "pending"),
        ("pending", "active"),
    ]


def test_it_lets_the_volunteer_resend_but_nobody_outside_the_market(cast, submitted):
    reviews.vendor_reject(actor=cast.board, vendor=submitted, reason="sai tên")

    with pytest.raises(Forbidden):
        reviews.vendor_resubmit(actor=cast.other_board, vendor=submitted)
    reviews.vendor_resubmit(actor=cast.volunteer, vendor=submitted)

    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.PENDING


def test_it_records_a_suspension_and_a_reactivation(cast):
    vendor_change_status(actor=cast.board, vendor=cast.vendor, status="suspended", reason="bỏ chợ")
    vendor_change_status(actor=cast.officer, vendor=cast.vendor, status="active")

    assert decisions(cast.vendor) == [
        ("active", "suspended", "bỏ chợ", "board"),
        ("suspended", "active", "", "officer"),
    ]


def test_it_records_nothing_when_the_status_does_not_change(cast):
    vendor_change_status(actor=cast.board, vendor=cast.vendor, status="active")

    assert decisions(cast.vendor) == []


# --- the status API obeys the same rule -------------------------------------------------


def status_of(user, vendor, body):
    return client_for(user).post(f"/api/v1/vendors/{vendor.pk}/status/", body, format="json")


def test_the_api_refuses_the_submitter_approving_their_own(cast):
    own = VendorFactory(market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.board)

    r = status_of(cast.board, own, {"status": "active"})

    assert r.status_code == 403
    assert r.json()["error"]["code"] == "own_submission"
    own.refresh_from_db()
    assert own.status == Vendor.Status.PENDING
    assert decisions(own) == []


def test_the_api_rejects_only_with_a_reason_and_records_it(cast, submitted):
    r = status_of(cast.board, submitted, {"status": "rejected"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "reason_required"

    r = status_of(cast.board, submitted, {"status": "rejected", "reason": "ảnh CCCD mờ"})

    assert r.status_code == 200, r.content
    assert r.json()["status"] == "rejected"
    assert decisions(submitted) == [("pending", "rejected", "ảnh CCCD mờ", "board")]


def test_the_api_approval_by_another_board_member_is_recorded(cast, submitted):
    r = status_of(cast.board, submitted, {"status": "active"})

    assert r.status_code == 200, r.content
    assert decisions(submitted) == [("pending", "active", "", "board")]


# --- correcting a rejected registration (vendors.edits.vendor_correct) -----------------


def test_a_correction_sends_it_back_and_its_sender_cannot_approve_it(cast, submitted):
    from vendors.edits import vendor_correct

    reviews.vendor_reject(actor=cast.board, vendor=submitted, reason="sai số tài khoản")
    second = make_board(cast.market, "board2")

    vendor_correct(actor=second, vendor=submitted, data={"account_number": "0999 111 222"})

    submitted.refresh_from_db()
    assert (submitted.status, submitted.account_number) == (Vendor.Status.PENDING, "0999111222")
    with pytest.raises(Forbidden):
        reviews.vendor_approve(actor=second, vendor=submitted)


def test_only_a_rejected_registration_is_corrected(cast, submitted):
    from vendors.edits import vendor_correct

    with pytest.raises(Conflict) as refused:
        vendor_correct(actor=cast.volunteer, vendor=submitted, data={"account_number": "0999111222"})

    assert refused.value.code == "not_rejected"
    submitted.refresh_from_db()
    assert submitted.account_number != "0999111222"
