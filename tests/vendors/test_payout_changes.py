"""Where a trader's money goes: the payout account (bank, account number,
account name) changes only through a recorded request that the market's
board decides; until then every QR and payment match keeps the old account,
and the trader hears of each step by SMS."""

from __future__ import annotations

from typing import Any

import pytest

from chopay import vietqr
from payments.cards.stall_qr import vendor_static_payload
from payments.models import OutboundSms, Payment
from tests.conftest import client_for
from tests.factories import VendorFactory, make_board
from tests.payments.bank_credits.webhooks_support import provider_keys, sepay_body, sepay_post  # noqa: F401
from tests.payments.code_entry.support import sms  # noqa: F401
from vendors import services
from vendors.models import PayoutAccountChange, PayoutChangeStateError, Vendor

pytestmark = pytest.mark.django_db

OLD_BANK = "970436"  # the cast vendor's (VendorFactory)
NEW_BANK = "970422"
NEW_ACCOUNT = "0999888777"


def changes_url(vendor: Vendor) -> str:
    return f"/api/v1/vendors/{vendor.pk}/payout-changes/"


def decision_url(change_id: int, vendor: Vendor, action: str) -> str:
    return f"{changes_url(vendor)}{change_id}/{action}/"


def new_account(**overrides: Any) -> dict[str, Any]:
    data = {
        "bank_bin": NEW_BANK,
        "account_number": NEW_ACCOUNT,
        "account_name": "Nguyễn Thị Hoà",
        "reason": "Đổi sang tài khoản MB mới mở",
    }
    data.update(overrides)
    return data


def request_change(user: object, vendor: Vendor, **overrides: Any) -> Any:
    return client_for(user).post(changes_url(vendor), new_account(**overrides), format="json")


def qr_account(vendor: Vendor) -> tuple[str, str]:
    """The bank and account the stall's printed QR pays, read as the QR endpoints read it."""
    qr = vietqr.decode(vendor_static_payload(Vendor.objects.get(pk=vendor.pk)))
    return qr.bank_bin, qr.account_number


def sms_to(phone: str) -> list[str]:
    return list(OutboundSms.objects.filter(to=phone).order_by("id").values_list("body", flat=True))


# --- the vendor edit no longer moves money ----------------------------------------


@pytest.mark.parametrize("role", ["vendor_user", "volunteer", "board", "officer", "admin"])
@pytest.mark.parametrize(
    "change",
    [{"bank_bin": NEW_BANK}, {"account_number": NEW_ACCOUNT}, {"account_name": "Tran Van Lua"}],
    ids=["bank", "account_number", "account_name"],
)
def test_it_refuses_a_new_payout_account_in_a_vendor_edit(cast, role, change):
    before = Vendor.objects.get(pk=cast.vendor.pk)

    r = client_for(getattr(cast, role)).patch(
        f"/api/v1/vendors/{cast.vendor.pk}/", {**change, "stall_label": "Z-9"}, format="json"
    )

    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["code"] == "payout_change_required"
    assert f"/api/v1/vendors/{cast.vendor.pk}/payout-changes/" in error["message"]
    after = Vendor.objects.get(pk=cast.vendor.pk)
    # Nothing of the request is applied, not even the harmless field next to it.
    assert (after.bank_id, after.account_number, after.account_name, after.stall_label) == (
        before.bank_id,
        before.account_number,
        before.account_name,
        "A-12",
    )
    assert qr_account(cast.vendor) == (OLD_BANK, before.account_number)
    assert not PayoutAccountChange.objects.exists()


def test_it_accepts_the_unchanged_account_sent_back_with_an_edit(cast):
    vendor = cast.vendor
    record = client_for(cast.vendor_user).get(f"/api/v1/vendors/{vendor.pk}/").json()

    r = client_for(cast.vendor_user).put(
        f"/api/v1/vendors/{vendor.pk}/",
        {
            "full_name": record["full_name"],
            "stall_label": "A-12b",
            "bank_bin": record["bank_bin"],
            "account_number": record["account_number"],
            "account_name": "Nguyễn Thị Hoà",  # as typed; the bank form is NGUYEN THI HOA
        },
        format="json",
    )

    assert r.status_code == 200, r.content
    assert r.json()["stall_label"] == "A-12b"


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


def test_it_sends_each_sms_through_the_gateway_once_committed(cast, sms, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        change_id = request_change(cast.vendor_user, cast.vendor).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        client_for(cast.board).post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")

    assert [m.to for m in sms.outbox] == [cast.vendor.phone, cast.vendor.phone]
    assert ["cho BQL cho duyet" in m.body for m in sms.outbox] == [True, False]
    assert "da duyet" in sms.outbox[1].body
    assert OutboundSms.objects.filter(status=OutboundSms.Status.SENT).count() == 2


def test_it_does_not_match_credits_to_the_new_account_before_approval(cast, provider_keys):  # noqa: F811
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

    services.vendor_update(actor=cast.volunteer, vendor=stale, data={"stall_label": "A-12c"})

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


# --- account checks, as at registration ------------------------------------------------


def test_it_checks_the_new_account_like_registration(cast):
    neighbour = VendorFactory(market=cast.market, bank_id=NEW_BANK)

    taken = request_change(cast.vendor_user, cast.vendor, account_number=neighbour.account_number)
    malformed = request_change(cast.vendor_user, cast.vendor, account_number="12-34")
    bad_name = request_change(cast.vendor_user, cast.vendor, account_name="???")
    unknown_bank = request_change(cast.vendor_user, cast.vendor, bank_bin="123456")
    no_reason = request_change(cast.vendor_user, cast.vendor, reason=" ")
    same = request_change(cast.vendor_user, cast.vendor, bank_bin=OLD_BANK, account_number=cast.vendor.account_number)

    codes = [r.json()["error"]["code"] for r in (taken, malformed, bad_name, unknown_bank, no_reason, same)]
    assert codes == [
        "duplicate_account",
        "invalid_account_number",
        "invalid_account_name",
        "unknown_bank",
        "blank",
        "payout_account_unchanged",
    ]
    assert not PayoutAccountChange.objects.exists()


def test_it_checks_the_account_again_at_approval(cast):
    change_id = request_change(cast.vendor_user, cast.vendor).json()["id"]
    # Meanwhile a volunteer registers another trader with that very account.
    VendorFactory(market=cast.market, bank_id=NEW_BANK, account_number=NEW_ACCOUNT)

    r = client_for(cast.board).post(decision_url(change_id, cast.vendor, "approve"), {}, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "duplicate_account"
    assert PayoutAccountChange.objects.get(pk=change_id).outcome == "pending"
    assert qr_account(cast.vendor)[0] == OLD_BANK


# --- scope -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["other_board", "far_officer", "outsider"])
def test_it_hides_payout_changes_outside_ones_scope(cast, role):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    client = client_for(getattr(cast, role))

    answers = [
        client.get(changes_url(cast.vendor)),
        client.post(changes_url(cast.vendor), new_account(account_number="0111222333"), format="json"),
        client.get(f"{changes_url(cast.vendor)}{change_id}/"),
        client.post(decision_url(change_id, cast.vendor, "approve"), {}, format="json"),
        client.post(decision_url(change_id, cast.vendor, "reject"), {"reason": "x"}, format="json"),
        client.post(decision_url(change_id, cast.vendor, "cancel"), {}, format="json"),
    ]

    assert [r.status_code for r in answers] == [404] * 6
    assert PayoutAccountChange.objects.get().outcome == "pending"


def test_it_answers_404_for_a_change_under_another_vendors_id(cast):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    neighbour = VendorFactory(market=cast.market)

    r = client_for(cast.board).post(decision_url(change_id, neighbour, "approve"), {}, format="json")

    assert r.status_code == 404
    assert PayoutAccountChange.objects.get().outcome == "pending"


@pytest.mark.parametrize("role", ["vendor_user", "volunteer", "board", "officer", "admin"])
def test_it_shows_the_history_to_whoever_sees_the_vendor(cast, role):
    first = request_change(cast.volunteer, cast.vendor).json()["id"]
    client_for(cast.board).post(decision_url(first, cast.vendor, "reject"), {"reason": "Sai"}, format="json")
    second = request_change(cast.vendor_user, cast.vendor, account_number="0111222333").json()["id"]

    r = client_for(getattr(cast, role)).get(changes_url(cast.vendor))

    assert r.status_code == 200
    assert [c["id"] for c in r.json()["results"]] == [second, first]
    assert [c["outcome"] for c in r.json()["results"]] == ["pending", "rejected"]


def test_it_documents_the_payout_change_endpoints(cast):
    schema = client_for(cast.admin).get("/api/v1/schema/?format=json").json()

    paths = schema["paths"]
    base = "/api/v1/vendors/{id}/payout-changes/"
    assert "post" in paths[base] and "get" in paths[base]
    for action in ("approve", "reject", "cancel"):
        assert "post" in paths[f"{base}{{change_id}}/{action}/"]
