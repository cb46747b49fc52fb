"""The vendor admin shows the payout-account history and no longer edits
where a vendor's money goes."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import VendorFactory
from tests.vendors.support import NEW_ACCOUNT, qr_account, request_change
from tests.vendors.test_vendor_admin import change_url, form_data, staff_client
from vendors.models import PayoutAccountChange, Vendor

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["board", "volunteer", "officer", "admin"])
def test_it_refuses_a_direct_edit_of_the_payout_account(cast, role):
    before = Vendor.objects.get(pk=cast.vendor.pk)
    client = staff_client(getattr(cast, role))

    page = client.get(change_url(cast.vendor)).content.decode()
    r = client.post(
        change_url(cast.vendor),
        form_data(
            cast.vendor, bank="970422", account_number=NEW_ACCOUNT, account_name="Tran Van Lua", stall_label="B-2"
        ),
    )

    assert 'name="account_number"' not in page and 'name="bank"' not in page and 'name="account_name"' not in page
    assert r.status_code == 302, r.content.decode()[:2000]
    after = Vendor.objects.get(pk=cast.vendor.pk)
    assert after.stall_label == "B-2"  # the rest of the form still saves
    assert (after.bank_id, after.account_number, after.account_name) == (
        before.bank_id,
        before.account_number,
        before.account_name,
    )
    assert qr_account(cast.vendor) == (before.bank_id, before.account_number)


@pytest.mark.parametrize("role", ["board", "volunteer", "vendor_user", "admin"])
def test_it_shows_the_payout_history_read_only(cast, role):
    first = request_change(cast.volunteer, cast.vendor, reason="Sổ cũ bị mất").json()["id"]
    client_for(cast.board).post(
        f"/api/v1/vendors/{cast.vendor.pk}/payout-changes/{first}/reject/", {"reason": "Sai tên"}, format="json"
    )
    request_change(cast.vendor_user, cast.vendor, account_number="0111222333", reason="Mở tài khoản mới")
    client = staff_client(getattr(cast, role))

    page = client.get(change_url(cast.vendor)).content.decode()

    assert "Đổi tài khoản nhận tiền" in page  # the inline's heading, in Vietnamese
    for text in ("Sổ cũ bị mất", "Sai tên", "Mở tài khoản mới", NEW_ACCOUNT, "0111222333", "Bị từ chối", "Đang chờ"):
        assert text in page, text
    assert 'name="payout_changes-0-outcome"' not in page  # nothing editable
    assert "payout_changes-0-DELETE" not in page


def test_it_ignores_history_rows_posted_with_the_form(cast):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    data = form_data(cast.vendor)
    data.update({"payout_changes-0-id": change_id, "payout_changes-0-outcome": "approved"})

    r = staff_client(cast.board).post(change_url(cast.vendor), data)

    assert r.status_code == 302, r.content.decode()[:2000]
    assert PayoutAccountChange.objects.get(pk=change_id).outcome == "pending"
    assert Vendor.objects.get(pk=cast.vendor.pk).account_number != NEW_ACCOUNT


CHANGES = "/admin/vendors/payoutaccountchange/"

# role -> whose payout changes it sees in the admin's list
CHANGES_VISIBLE = {
    "admin": {"vendor", "other_vendor", "neighbour"},
    "officer": {"vendor", "other_vendor", "neighbour"},
    "board": {"vendor", "neighbour"},
    "other_board": {"other_vendor"},
    "volunteer": {"vendor", "neighbour"},
    "vendor_user": {"vendor"},  # not the neighbour's, though in the same market
}


@pytest.mark.parametrize("role", sorted(CHANGES_VISIBLE))
def test_it_lists_payout_changes_in_scope_only(cast, role):
    neighbour = VendorFactory(market=cast.market)
    vendors = {"vendor": cast.vendor, "other_vendor": cast.other_vendor, "neighbour": neighbour}
    reasons = {}
    for name, vendor in vendors.items():
        requester = cast.vendor_user if name == "vendor" else cast.admin
        reasons[name] = f"Lý do {name} {vendor.pk}"
        # The admin's own request is applied at once; the vendor's waits.
        r = request_change(requester, vendor, reason=reasons[name], account_number=f"0777{vendor.pk:06d}")
        assert r.status_code == 201, r.content

    r = staff_client(getattr(cast, role)).get(CHANGES + "?outcome=pending")
    page = staff_client(getattr(cast, role)).get(CHANGES).content.decode()

    assert r.status_code == 200
    for name, vendor in vendors.items():
        assert (vendor.merchant_code in page) == (name in CHANGES_VISIBLE[role]), name


def test_it_does_not_let_anyone_edit_or_delete_a_payout_change(cast):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    client = staff_client(cast.admin)

    page = client.get(f"{CHANGES}{change_id}/change/")
    edited = client.post(f"{CHANGES}{change_id}/change/", {"outcome": "approved", "new_account_number": "1"})
    deleted = client.post(f"{CHANGES}{change_id}/delete/", {"post": "yes"})
    added = client.get(f"{CHANGES}add/")

    assert page.status_code == 200 and 'name="outcome"' not in page.content.decode()
    assert edited.status_code == 403
    assert deleted.status_code == 403
    assert added.status_code == 403
    change = PayoutAccountChange.objects.get(pk=change_id)
    assert (change.outcome, change.new_account_number) == ("pending", NEW_ACCOUNT)
