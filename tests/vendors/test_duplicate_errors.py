"""A duplicate phone or account is refused with the same code for everyone,
but names the existing vendor only to someone who may see that vendor
(security issue, hole 8): a vendor editing their own record must not learn
who another trader is by typing their phone."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import VendorFactory
from tests.vendors.support import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def neighbour(cast):
    return VendorFactory(market=cast.market, full_name="Phạm Thị Lan", bank_id="970415")


def assert_names_nobody(body: str, vendor) -> None:
    for secret in (vendor.full_name, vendor.merchant_code, f"#{vendor.pk}", vendor.phone):
        assert secret not in body


def test_a_vendor_typing_another_traders_phone_learns_nothing_about_them(cast, neighbour):
    r = client_for(cast.vendor_user).patch(
        f"/api/v1/vendors/{cast.vendor.pk}/", {"phone": local(neighbour.phone)}, format="json"
    )

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "duplicate_phone"
    assert_names_nobody(r.content.decode(), neighbour)


def test_a_vendor_typing_another_traders_account_learns_nothing_about_them(cast, neighbour):
    # The account is changed only through a payout-change request (hole 2).
    r = client_for(cast.vendor_user).post(
        f"/api/v1/vendors/{cast.vendor.pk}/payout-changes/",
        {
            "bank_bin": "970415",
            "account_number": neighbour.account_number,
            "account_name": cast.vendor.account_name,
            "reason": "new account",
        },
        format="json",
    )

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "duplicate_account"
    assert_names_nobody(r.content.decode(), neighbour)


@pytest.mark.parametrize("role", ["volunteer", "board", "officer"])
def test_staff_of_the_market_are_still_told_who_it_is(cast, neighbour, role):
    r = client_for(getattr(cast, role)).patch(
        f"/api/v1/vendors/{cast.vendor.pk}/", {"phone": local(neighbour.phone)}, format="json"
    )

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "duplicate_phone"
    assert "Phạm Thị Lan" in r.json()["error"]["message"]
