"""Payout-account changes: a vendor edit cannot move money, and the new
account is checked as at registration, again at approval.
"""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import VendorFactory
from tests.vendors.support import NEW_ACCOUNT, NEW_BANK, OLD_BANK, decision_url, qr_account, request_change
from vendors.models import PayoutAccountChange, Vendor

pytestmark = pytest.mark.django_db


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
