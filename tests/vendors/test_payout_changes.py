"""Where a trader's money goes: the payout account (bank, account number,
account name) changes only through a recorded request that the market's
board decides; until then every QR and payment match keeps the old account,
and the trader hears of each step by SMS.

This module: request, pending, decision (approve, reject, cancel).
"""

from __future__ import annotations

import pytest

from chopay import vietqr
from payments.models import OutboundSms, Payment
from tests.conftest import client_for
from tests.factories import VendorFactory, make_board
from tests.payments.bank_credits.webhooks_support import sepay_body, sepay_post
from tests.vendors.support import NEW_ACCOUNT, NEW_BANK, OLD_BANK, decision_url, qr_account, request_change, sms_to
from vendors import edits
from vendors.models import PayoutAccountChange, PayoutChangeStateError, Vendor

pytestmark = pytest.mark.django_db


# --- request -> pending -> decision ---------------------------------------------------


@pytest.mark.parametrize("role", ["vendor_user", "volunteer"])
def test_it_keeps_the_old_account_while_a_request_waits(cast, role):
    old_account = cast.vendor.account_number

    r = request_change(getattr(cast, role), cast.vendor)

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["outcome"] == "pending"
    assert (body["old_bank_bin"], body["old_account_number"]) == (OLD_BANK, old_account)
    assert (body["new_bank_bin"], body["new_account_number"], body["new_account_name"]) == (
        NEW_BANK,
        NEW_ACCOUNT,
        "NGUYEN THI HOA",
    )
    assert body["requested_by"] == getattr(cast, role).username
    assert body["decided_by"] is None and body["decided_at"] is None
    # The stall QR and a new sale QR still pay the old account.
    assert qr_account(cast.vendor) == (OLD_BANK, old_account)
    sale = client_for(cast.vendor_user).post(
        f"/api/v1/vendors/{cast.vendor.pk}/payment-requests/", {"amount": 45_000}, format="json"
    )
    assert sale.status_code == 201, sale.content
    decoded = vietqr.decode(sale.json()["payload"])
    assert (decoded.bank_bin, decoded.account_number) == (OLD_BANK, old_account)
    # The trader is told, at the phone on record, without the full new number.
    (message,) = sms_to(cast.vendor.phone)
    assert "***8777" in message and NEW_ACCOUNT not in message
    assert "cho BQL cho duyet" in message
    assert message.isascii() and len(message) <= 160


def test_it_sends_each_sms_through_the_gateway_once_committed(cast, sms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        change_id = request_change(cast.vendor_user, cast.vendor).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.board).post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")

    assert [m.to for m in sms.outbox] == [cast.vendor.phone, cast.vendor.phone]
    assert ["cho BQL cho duyet" in m.body for m in sms.outbox] == [True, False]
    assert "da duyet" in sms.outbox[1].body
    assert OutboundSms.objects.filter(status=OutboundSms.Status.SENT).count() == 2


def test_it_does_not_match_credits_to_the_new_account_before_approval(cast, provider_keys):
    change_id = request_change(cast.vendor_user, cast.vendor).json()["id"]
    api = client_for(cast.admin)

    before = sepay_post(api, sepay_body(content="chuyen tien", account=NEW_ACCOUNT, gateway="MBBank"))
    client_for(cast.board).post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")
    after = sepay_post(api, sepay_body(content="chuyen tien", account=NEW_ACCOUNT, gateway="MBBank"))

    assert before.status_code == after.status_code == 200
    first, second = Payment.objects.order_by("id")
    assert first.vendor_id is None  # the new account was nobody's yet
    assert second.vendor_id == cast.vendor.pk


def test_it_lets_the_board_approve_and_then_pays_the_new_account(cast):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    old_account = cast.vendor.account_number

    r = client_for(cast.board).post(
        decision_url(change_id, cast.vendor, "approve"), {"reason": "Đã xem sổ tài khoản"}, format="json"
    )

    assert r.status_code == 200, r.content
    assert qr_account(cast.vendor) == (NEW_BANK, NEW_ACCOUNT)
    vendor = Vendor.objects.get(pk=cast.vendor.pk)
    assert (vendor.bank_id, vendor.account_number, vendor.account_name) == (NEW_BANK, NEW_ACCOUNT, "NGUYEN THI HOA")
    change = PayoutAccountChange.objects.get(pk=change_id)
    assert change.outcome == PayoutAccountChange.Outcome.APPROVED
    assert (change.old_bank_id, change.old_account_number, change.old_account_name) == (
        OLD_BANK,
        old_account,
        "NGUYEN THI HOA",
    )
    assert (change.requested_by, change.decided_by) == (cast.volunteer, cast.board)
    assert change.reason == "Đổi sang tài khoản MB mới mở"
    assert change.decision_reason == "Đã xem sổ tài khoản"
    assert change.requested_at <= change.decided_at
    _requested, approved = sms_to(cast.vendor.phone)
    assert "da duyet" in approved and "***8777" in approved and NEW_ACCOUNT not in approved


def test_it_applies_the_boards_own_request_at_once(cast):
    r = request_change(cast.board, cast.vendor)

    assert r.status_code == 201, r.content
    assert r.json()["outcome"] == "approved"
    assert r.json()["decided_by"] == "board"
    assert qr_account(cast.vendor) == (NEW_BANK, NEW_ACCOUNT)
    (message,) = sms_to(cast.vendor.phone)
    assert "BQL cho da doi" in message and NEW_ACCOUNT not in message


@pytest.mark.parametrize("decider", ["volunteer", "vendor_user"])
def test_it_lets_only_the_board_decide(cast, decider):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]

    r = client_for(getattr(cast, decider)).post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")

    assert r.status_code == 403
    assert r.json()["error"]["code"] == "payout_change_board_only"
    assert PayoutAccountChange.objects.get(pk=change_id).outcome == "pending"
    assert qr_account(cast.vendor)[0] == OLD_BANK


def test_it_does_not_let_whoever_asked_approve_even_on_the_board(cast):
    # A board member with a stall of their own asks to move its money: another board member decides.
    own_stall = VendorFactory(market=cast.market, user=cast.board)
    change_id = request_change(cast.board, own_stall).json()["id"]
    assert PayoutAccountChange.objects.get(pk=change_id).outcome == "pending"

    mine = client_for(cast.board).post(decision_url(change_id, own_stall, "approve"), {}, format="json")
    other = client_for(make_board(cast.market, "board2")).post(
        decision_url(change_id, own_stall, "approve"), {}, format="json"
    )

    assert mine.status_code == 403
    assert mine.json()["error"]["code"] == "payout_change_own_request"
    assert other.status_code == 200, other.content
    assert qr_account(own_stall) == (NEW_BANK, NEW_ACCOUNT)


def test_it_does_not_let_a_requester_who_joined_the_board_approve(cast):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    cast.market.board_members.create(user=cast.volunteer)

    r = client_for(cast.volunteer).post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")

    assert r.status_code == 403
    assert r.json()["error"]["code"] == "payout_change_own_request"


def test_it_needs_a_reason_to_reject_and_keeps_the_old_account(cast):
    change_id = request_change(cast.vendor_user, cast.vendor).json()["id"]
    url = decision_url(change_id, cast.vendor, "reject")
    board = client_for(cast.board)

    without = board.post(url, {}, format="json")
    blank = board.post(url, {"reason": "   "}, format="json")
    rejected = board.post(url, {"reason": "Tên chủ tài khoản không khớp"}, format="json")

    assert without.status_code == blank.status_code == 400
    assert without.json()["error"]["fields"]["reason"][0]["code"] == "required"
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["outcome"] == "rejected"
    assert rejected.json()["decision_reason"] == "Tên chủ tài khoản không khớp"
    assert qr_account(cast.vendor)[0] == OLD_BANK
    _requested, refused = sms_to(cast.vendor.phone)
    assert "tu choi" in refused and "Ten chu tai khoan khong khop" in refused


def test_it_does_not_undo_an_approval_with_an_edit_begun_before_it(cast):
    # An edit that loaded the vendor before the approval committed saves only
    # the fields it edits, never the account it read.
    stale = Vendor.objects.get(pk=cast.vendor.pk)
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    client_for(cast.board).post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")

    edits.vendor_update(actor=cast.volunteer, vendor=stale, data={"stall_label": "A-12c"})

    assert qr_account(cast.vendor) == (NEW_BANK, NEW_ACCOUNT)
    assert Vendor.objects.get(pk=cast.vendor.pk).stall_label == "A-12c"


def test_it_does_not_undo_an_approval_with_an_admin_form_begun_before_it(cast, rf):
    from django.contrib.admin.sites import site

    stale = Vendor.objects.get(pk=cast.vendor.pk)
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    client_for(cast.board).post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")
    model_admin = site._registry[Vendor]
    request = rf.post("/")
    request.user = cast.admin
    form_class = model_admin.get_form(request, stale, change=True)
    data = {
        "market": stale.market_id,
        "full_name": stale.full_name,
        "phone": stale.phone,
        "stall_label": "A-12d",
        "goods_category": stale.goods_category,
        "status": stale.status,
        "user": stale.user_id or "",
    }
    form = form_class(data, instance=stale)
    assert form.is_valid(), form.errors

    model_admin.save_model(request, form.save(commit=False), form, change=True)

    assert qr_account(cast.vendor) == (NEW_BANK, NEW_ACCOUNT)
    assert Vendor.objects.get(pk=cast.vendor.pk).stall_label == "A-12d"


def test_it_refuses_to_decide_a_change_twice(cast):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    board = client_for(cast.board)
    board.post(decision_url(change_id, cast.vendor, "reject"), {"reason": "Sai số"}, format="json")

    again = board.post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "payout_change_decided"
    assert qr_account(cast.vendor)[0] == OLD_BANK


def test_it_guards_the_outcome_on_the_model(cast):
    change = PayoutAccountChange.objects.get(pk=request_change(cast.volunteer, cast.vendor).json()["id"])
    change.decide(outcome=PayoutAccountChange.Outcome.REJECTED, by=cast.board, reason="Sai")

    for outcome in ("approved", "cancelled", "pending", "rejected"):
        with pytest.raises(PayoutChangeStateError):
            change.decide(outcome=outcome, by=cast.board)


def test_it_lets_only_the_requester_cancel(cast):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]

    by_vendor = client_for(cast.vendor_user).post(decision_url(change_id, cast.vendor, "cancel"), {}, format="json")
    by_requester = client_for(cast.volunteer).post(decision_url(change_id, cast.vendor, "cancel"), {}, format="json")

    assert by_vendor.status_code == 403
    assert by_vendor.json()["error"]["code"] == "payout_change_requester_only"
    assert by_requester.status_code == 200
    assert by_requester.json()["outcome"] == "cancelled"
    assert "da huy" in sms_to(cast.vendor.phone)[-1]
    # Cancelled, a new request may be made.
    assert request_change(cast.volunteer, cast.vendor).status_code == 201


def test_it_allows_one_pending_change_per_vendor(cast):
    first = request_change(cast.vendor_user, cast.vendor)

    second = request_change(cast.volunteer, cast.vendor, account_number="0111222333")
    by_board = request_change(cast.board, cast.vendor, account_number="0111222333")

    assert first.status_code == 201
    assert second.status_code == by_board.status_code == 409
    assert second.json()["error"]["code"] == "payout_change_pending"
    assert PayoutAccountChange.objects.count() == 1
    assert len(sms_to(cast.vendor.phone)) == 1  # a refused request tells nobody anything
    assert qr_account(cast.vendor)[0] == OLD_BANK
