"""Vendors API, onboarding: who may register a vendor, and the checks a
volunteer meets at a stall (phone, bank, account, duplicates, names); nothing half-saved.
"""

from __future__ import annotations

import pytest

from chopay.identifiers import is_valid_merchant_code
from tests.conftest import client_for
from tests.vendors.support import local, new_vendor
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


# --- onboarding --------------------------------------------------------------

CREATE_STATUS = {
    "admin": 201,
    "officer": 201,
    "board": 201,
    "volunteer": 201,
    # A vendor can see their market but not register others in it.
    "vendor_user": 403,
    # Markets outside one's scope do not exist as far as the caller knows.
    "other_board": 400,
    "far_officer": 400,
    "outsider": 400,
}


@pytest.mark.parametrize("role", sorted(CREATE_STATUS))
def test_it_lets_only_onboarding_roles_create_a_vendor(cast, role):
    before = Vendor.objects.count()

    r = client_for(getattr(cast, role)).post("/api/v1/vendors/", new_vendor(cast.market), format="json")

    assert r.status_code == CREATE_STATUS[role], r.content
    if r.status_code == 201:
        assert Vendor.objects.count() == before + 1
    else:
        assert Vendor.objects.count() == before
        assert r.json()["error"]["code"] in {"permission_denied", "does_not_exist"}


def test_it_onboards_a_pending_vendor_as_a_volunteer(cast):
    r = client_for(cast.volunteer).post("/api/v1/vendors/", new_vendor(cast.market), format="json")

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["market"] == cast.market.pk
    assert body["full_name"] == "Lê Văn Tám"
    assert body["phone"] == "+84987654321"
    assert body["account_name"] == "LE VAN TAM"
    assert body["bank_bin"] == "970422"
    assert body["status"] == "pending"
    assert body["onboarded_by"] == "volunteer"
    assert body["onboarded_at"]
    code = body["merchant_code"]
    assert len(code) == 8 and code.isdigit() and is_valid_merchant_code(code)
    vendor = Vendor.objects.get(pk=body["id"])
    assert vendor.onboarded_by == cast.volunteer
    assert vendor.merchant_code == code


def test_it_hides_a_market_the_volunteer_is_not_assigned_to(cast):
    before = Vendor.objects.count()
    client = client_for(cast.volunteer)

    r_other = client.post("/api/v1/vendors/", new_vendor(cast.other_market), format="json")
    r_missing = client.post("/api/v1/vendors/", new_vendor(cast.market, market=987654), format="json")

    assert r_other.status_code == r_missing.status_code == 400
    other, missing = r_other.json()["error"], r_missing.json()["error"]
    assert "market" in other["fields"]
    # Same answer for a market that exists elsewhere and one that does not.
    assert other["code"] == missing["code"]
    assert other["message"].replace(str(cast.other_market.pk), "N") == missing["message"].replace("987654", "N")
    assert Vendor.objects.count() == before


@pytest.mark.parametrize(
    "raw",
    [
        "12345",  # short number
        "024 3825 1234",  # Hà Nội landline
        "0168 123 4567",  # pre-2018 11-digit mobile
        "0912 345 67",  # one digit short
        "091234567890",  # too long
        "not a phone",
    ],
)
def test_it_refuses_an_invalid_phone(cast, raw):
    before = Vendor.objects.count()

    r = client_for(cast.volunteer).post("/api/v1/vendors/", new_vendor(cast.market, phone=raw), format="json")

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_phone"
    assert "phone" in error["message"]
    assert list(error["fields"]) == ["phone"]
    assert Vendor.objects.count() == before


def test_it_refuses_an_unknown_bank_bin(cast):
    before = Vendor.objects.count()

    r = client_for(cast.volunteer).post("/api/v1/vendors/", new_vendor(cast.market, bank_bin="999999"), format="json")

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "unknown_bank"
    assert "bank_bin" in error["message"]
    assert "999999" in error["message"]
    assert Vendor.objects.count() == before


@pytest.mark.parametrize("account", ["12345", "1" * 20, "1234-5678", "0987.654.321", "12345678!"])
def test_it_refuses_a_malformed_account_number(cast, account):
    before = Vendor.objects.count()

    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/", new_vendor(cast.market, account_number=account), format="json"
    )

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_account_number"
    assert "account_number" in error["message"]
    assert Vendor.objects.count() == before


@pytest.mark.parametrize("account", ["123456", "1" * 19, "VCB0012345", "0987 654 321"])
def test_it_accepts_a_well_formed_account_number(cast, account):
    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/", new_vendor(cast.market, account_number=account), format="json"
    )

    assert r.status_code == 201, r.content
    assert r.json()["account_number"] == account.replace(" ", "")


def test_it_names_the_existing_vendor_on_a_duplicate_phone(cast):
    before = Vendor.objects.count()

    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/", new_vendor(cast.market, phone=local(cast.vendor.phone)), format="json"
    )

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "duplicate_phone"
    assert "phone" in error["message"]
    assert "Nguyễn Thị Hoà" in error["message"]
    assert Vendor.objects.count() == before


def test_it_names_the_existing_vendor_on_a_duplicate_account(cast):
    before = Vendor.objects.count()

    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/",
        new_vendor(cast.market, bank_bin=cast.vendor.bank_id, account_number=cast.vendor.account_number),
        format="json",
    )

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "duplicate_account"
    assert "account_number" in error["message"]
    assert "Nguyễn Thị Hoà" in error["message"]
    assert Vendor.objects.count() == before


def test_it_allows_the_same_account_at_another_bank(cast):
    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/",
        new_vendor(cast.market, bank_bin="970415", account_number=cast.vendor.account_number),
        format="json",
    )

    assert r.status_code == 201, r.content


def test_it_allows_the_same_phone_in_another_market(cast):
    # A trader with stalls in two markets is two vendors. (The same ACCOUNT in
    # another market needs the trader's or the holding board's confirmation:
    # tests/vendors/test_account_claims.py.)
    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/", new_vendor(cast.market, phone=cast.other_vendor.phone), format="json"
    )

    assert r.status_code == 201, r.content
    assert Vendor.objects.filter(phone=cast.other_vendor.phone).count() == 2


def test_it_stores_the_account_name_as_banks_show_it(cast):
    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/", new_vendor(cast.market, account_name="  Nguyễn   Thị Hoà "), format="json"
    )

    assert r.status_code == 201, r.content
    assert Vendor.objects.get(pk=r.json()["id"]).account_name == "NGUYEN THI HOA"


def test_it_folds_d_with_stroke_in_the_account_name(cast):
    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/", new_vendor(cast.market, account_name="Đặng Đức Đạt"), format="json"
    )

    assert r.status_code == 201, r.content
    assert r.json()["account_name"] == "DANG DUC DAT"


def test_it_keeps_diacritics_in_the_full_name(cast):
    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/", new_vendor(cast.market, full_name="  Đặng   Thị Phượng "), format="json"
    )

    assert r.status_code == 201, r.content
    assert r.json()["full_name"] == "Đặng Thị Phượng"


@pytest.mark.parametrize("raw", ["0912 345 678", "+84912345678", "84912345678", "0912.345.678", "+84 912-345-678"])
def test_it_stores_the_phone_normalised(cast, raw):
    r = client_for(cast.volunteer).post("/api/v1/vendors/", new_vendor(cast.market, phone=raw), format="json")

    assert r.status_code == 201, r.content
    assert Vendor.objects.get(pk=r.json()["id"]).phone == "+84912345678"


def test_it_treats_two_spellings_of_one_phone_as_a_duplicate(cast):
    client = client_for(cast.volunteer)
    first = client.post("/api/v1/vendors/", new_vendor(cast.market, phone="0912 345 678"), format="json")

    second = client.post(
        "/api/v1/vendors/",
        new_vendor(cast.market, phone="+84912345678", bank_bin="970415", full_name="Người khác"),
        format="json",
    )

    assert first.status_code == 201
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "duplicate_phone"
    assert "Lê Văn Tám" in second.json()["error"]["message"]


def test_it_refuses_missing_fields_naming_them(cast):
    before = Vendor.objects.count()

    r = client_for(cast.volunteer).post("/api/v1/vendors/", {"market": cast.market.pk}, format="json")

    assert r.status_code == 400
    fields = r.json()["error"]["fields"]
    assert {"full_name", "phone", "bank_bin", "account_number", "account_name"} <= set(fields)
    assert Vendor.objects.count() == before
