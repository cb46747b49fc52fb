"""Vendors API, reading: which vendors each role sees in the list and by id,
the documented fields, anonymous callers refused, a vendor's own record (``me``).
"""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import VendorFactory
from tests.vendors.support import new_vendor, vendor_ids
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


# role -> the cast vendors it sees
VISIBLE = {
    "admin": {"vendor", "other_vendor"},
    "officer": {"vendor", "other_vendor"},
    "far_officer": set(),
    "board": {"vendor"},
    "other_board": {"other_vendor"},
    "volunteer": {"vendor"},
    "vendor_user": {"vendor"},
    "outsider": set(),
}


# --- reading ---------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_it_lists_exactly_the_vendors_in_scope(cast, role):
    r = client_for(getattr(cast, role)).get("/api/v1/vendors/")

    assert r.status_code == 200, r.content
    expected = {getattr(cast, name).pk for name in VISIBLE[role]}
    assert {v["id"] for v in r.json()["results"]} == expected
    assert r.json()["count"] == len(expected)


def test_it_shows_a_vendor_user_only_themselves_even_with_neighbours(cast):
    VendorFactory(market=cast.market, full_name="Hàng xóm")

    r = client_for(cast.vendor_user).get("/api/v1/vendors/")

    assert [v["id"] for v in r.json()["results"]] == [cast.vendor.pk]


@pytest.mark.parametrize("role", sorted(VISIBLE))
@pytest.mark.parametrize("which", ["vendor", "other_vendor"])
def test_it_retrieves_a_vendor_only_within_scope(cast, role, which):
    vendor = getattr(cast, which)

    r = client_for(getattr(cast, role)).get(f"/api/v1/vendors/{vendor.pk}/")

    if which in VISIBLE[role]:
        assert r.status_code == 200, r.content
        assert r.json()["merchant_code"] == vendor.merchant_code
    else:
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"


def test_it_shows_the_documented_fields(cast):
    body = client_for(cast.board).get(f"/api/v1/vendors/{cast.vendor.pk}/").json()

    assert set(body) == {
        "id", "market", "full_name", "phone", "stall_label", "goods_category", "bank_bin",
        "account_number", "account_name", "merchant_code", "status", "onboarded_by", "onboarded_at",
    }  # fmt: skip
    assert body["full_name"] == "Nguyễn Thị Hoà"
    assert body["bank_bin"] == "970436"
    assert body["market"] == cast.market.pk
    # The confirmation-code secret never leaves the server.
    assert cast.vendor.code_secret not in repr(body)


@pytest.mark.parametrize(
    "path", ["/api/v1/vendors/", "/api/v1/vendors/1/", "/api/v1/vendors/me/", "/api/v1/vendors/1/status/"]
)
def test_it_refuses_anonymous_callers(api, cast, path):
    r = api.get(path) if not path.endswith("status/") else api.post(path, {"status": "active"}, format="json")

    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"


def test_it_refuses_an_anonymous_create(api, cast):
    before = Vendor.objects.count()

    r = api.post("/api/v1/vendors/", new_vendor(cast.market), format="json")

    assert r.status_code == 401
    assert Vendor.objects.count() == before


def test_it_lets_a_superuser_see_and_do_everything(cast):
    client = client_for(cast.admin)

    assert vendor_ids(client.get("/api/v1/vendors/")) == {cast.vendor.pk, cast.other_vendor.pk}
    assert client.get(f"/api/v1/vendors/{cast.other_vendor.pk}/").status_code == 200
    r = client.post("/api/v1/vendors/", new_vendor(cast.far_market), format="json")
    assert r.status_code == 201, r.content
    assert r.json()["onboarded_by"] == "admin"
    # Maker-checker binds a superuser too: their own submission waits for someone else.
    own = client.post(f"/api/v1/vendors/{r.json()['id']}/status/", {"status": "active"}, format="json")
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "own_submission"
    submitted = client_for(cast.volunteer).post(
        "/api/v1/vendors/", new_vendor(cast.market, phone="0977 111 222", account_number="5550001112"), format="json"
    )
    assert submitted.status_code == 201, submitted.content
    assert (
        client.post(
            f"/api/v1/vendors/{submitted.json()['id']}/status/", {"status": "active"}, format="json"
        ).status_code
        == 200
    )


# --- me ------------------------------------------------------------------------------


def test_it_shows_a_vendor_their_own_record(cast):
    r = client_for(cast.vendor_user).get("/api/v1/vendors/me/")

    assert r.status_code == 200
    assert r.json()["id"] == cast.vendor.pk
    assert r.json()["merchant_code"] == cast.vendor.merchant_code


@pytest.mark.parametrize("role", ["admin", "officer", "board", "volunteer", "outsider"])
def test_it_answers_me_with_not_found_for_non_vendors(cast, role):
    r = client_for(getattr(cast, role)).get("/api/v1/vendors/me/")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
