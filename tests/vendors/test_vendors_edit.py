"""Vendors API, editing: who may edit a vendor in scope, phone and bank
checks on edit, no payout account change through an edit.
"""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import VendorFactory
from tests.vendors.support import local
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


# --- editing -------------------------------------------------------------------

UPDATE_STATUS = {
    "admin": 200,
    "officer": 200,
    "board": 200,
    "volunteer": 200,
    "vendor_user": 200,  # their own record
    "other_board": 404,
    "far_officer": 404,
    "outsider": 404,
}


@pytest.mark.parametrize("role", sorted(UPDATE_STATUS))
def test_it_lets_only_roles_in_scope_edit_a_vendor(cast, role):
    r = client_for(getattr(cast, role)).patch(
        f"/api/v1/vendors/{cast.vendor.pk}/", {"stall_label": "C-07"}, format="json"
    )

    assert r.status_code == UPDATE_STATUS[role], r.content
    cast.vendor.refresh_from_db()
    assert cast.vendor.stall_label == ("C-07" if r.status_code == 200 else "A-12")


def test_it_lets_a_vendor_edit_only_their_own_record(cast):
    neighbour = VendorFactory(market=cast.market, stall_label="A-13")

    r = client_for(cast.vendor_user).patch(f"/api/v1/vendors/{neighbour.pk}/", {"stall_label": "X"}, format="json")

    assert r.status_code == 404
    neighbour.refresh_from_db()
    assert neighbour.stall_label == "A-13"


def test_it_does_not_let_a_vendor_change_their_status(cast):
    cast.vendor.status = Vendor.Status.SUSPENDED
    cast.vendor.save()
    client = client_for(cast.vendor_user)

    via_edit = client.patch(f"/api/v1/vendors/{cast.vendor.pk}/", {"status": "active"}, format="json")
    via_status = client.post(f"/api/v1/vendors/{cast.vendor.pk}/status/", {"status": "active"}, format="json")

    # Status is not an editable field: ignored by the edit, refused by the status endpoint.
    assert via_edit.status_code == 200
    assert via_edit.json()["status"] == "suspended"
    assert via_status.status_code == 403
    cast.vendor.refresh_from_db()
    assert cast.vendor.status == Vendor.Status.SUSPENDED


def test_it_normalises_a_phone_on_edit(cast):
    r = client_for(cast.board).patch(f"/api/v1/vendors/{cast.vendor.pk}/", {"phone": "0388 123 456"}, format="json")

    assert r.status_code == 200, r.content
    cast.vendor.refresh_from_db()
    assert cast.vendor.phone == "+84388123456"


def test_it_refuses_an_invalid_phone_on_edit(cast):
    old = cast.vendor.phone

    r = client_for(cast.board).patch(f"/api/v1/vendors/{cast.vendor.pk}/", {"phone": "024 3825 1234"}, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_phone"
    cast.vendor.refresh_from_db()
    assert cast.vendor.phone == old


def test_it_refuses_taking_a_neighbours_phone_on_edit(cast):
    neighbour = VendorFactory(market=cast.market, full_name="Phạm Thị Lan")
    old = cast.vendor.phone

    r = client_for(cast.board).patch(
        f"/api/v1/vendors/{cast.vendor.pk}/", {"phone": local(neighbour.phone), "stall_label": "Z-1"}, format="json"
    )

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "duplicate_phone"
    assert "Phạm Thị Lan" in r.json()["error"]["message"]
    cast.vendor.refresh_from_db()
    assert (cast.vendor.phone, cast.vendor.stall_label) == (old, "A-12")


def test_it_refuses_an_unknown_bank_on_edit(cast):
    r = client_for(cast.board).patch(f"/api/v1/vendors/{cast.vendor.pk}/", {"bank_bin": "123456"}, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "unknown_bank"
    cast.vendor.refresh_from_db()
    assert cast.vendor.bank_id == "970436"


def test_it_refuses_a_bank_bin_holding_a_nul_character(cast):
    # Found by the schemathesis drill: PostgreSQL cannot take NUL in text, and the
    # bank lookup answered 500. JSON with a NUL is refused by the parser already
    # (invalid_characters, tests/common/test_parsers.py); a form body reaches the field.
    r = client_for(cast.board).put(
        f"/api/v1/vendors/{cast.vendor.pk}/",
        {"full_name": "Nguyễn Thị Hoà", "bank_bin": "9704\x0036"},
        format="multipart",
    )

    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == "unknown_bank"
    cast.vendor.refresh_from_db()
    assert cast.vendor.bank_id == "970436"


def test_it_refuses_a_new_account_on_edit_and_points_to_payout_changes(cast):
    # The account checks of an edit now live in the payout-change request
    # (tests/vendors/test_payout_changes.py); an edit refuses any new account.
    old = cast.vendor.account_number

    r = client_for(cast.board).patch(f"/api/v1/vendors/{cast.vendor.pk}/", {"account_number": "12-34"}, format="json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "payout_change_required"
    cast.vendor.refresh_from_db()
    assert cast.vendor.account_number == old


def test_it_keeps_its_own_phone_on_edit(cast):
    r = client_for(cast.vendor_user).patch(
        f"/api/v1/vendors/{cast.vendor.pk}/", {"phone": local(cast.vendor.phone), "stall_label": "A-12b"}, format="json"
    )

    assert r.status_code == 200, r.content
