"""Vendors API: every role against list, retrieve, create, update and status;
the onboarding checks a volunteer meets at a stall; nothing half-saved."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from chopay.identifiers import is_valid_merchant_code
from tests.conftest import client_for, needs_postgres
from tests.factories import VendorFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def new_vendor(market_obj, **overrides):
    data = {
        "market": market_obj.pk,
        "full_name": "Lê Văn Tám",
        "phone": "0987 654 321",
        "stall_label": "B-03",
        "goods_category": "vegetables",
        "bank_bin": "970422",
        "account_number": "0987654321",
        "account_name": "Lê Văn Tám",
    }
    data.update(overrides)
    return data


def local(e164: str) -> str:
    """``+84912345678`` → ``0912 345 678``, as a volunteer would type it."""
    n = "0" + e164[3:]
    return f"{n[:4]} {n[4:7]} {n[7:]}"


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


# --- status ---------------------------------------------------------------------

STATUS_STATUS = {
    "admin": 200,
    "officer": 200,
    "board": 200,
    "volunteer": 403,
    "vendor_user": 403,
    "other_board": 404,
    "far_officer": 404,
    "outsider": 404,
}


@pytest.mark.parametrize("role", sorted(STATUS_STATUS))
def test_it_lets_only_the_board_and_province_change_status(cast, role):
    r = client_for(getattr(cast, role)).post(
        f"/api/v1/vendors/{cast.vendor.pk}/status/", {"status": "suspended"}, format="json"
    )

    assert r.status_code == STATUS_STATUS[role], r.content
    cast.vendor.refresh_from_db()
    assert cast.vendor.status == ("suspended" if r.status_code == 200 else "active")


def test_it_walks_a_vendor_through_its_statuses(cast):
    vendor = VendorFactory(market=cast.market, status=Vendor.Status.PENDING)
    client = client_for(cast.board)

    seen = []
    for status in ("active", "suspended", "active"):
        r = client.post(f"/api/v1/vendors/{vendor.pk}/status/", {"status": status}, format="json")
        assert r.status_code == 200, r.content
        seen.append(r.json()["status"])

    assert seen == ["active", "suspended", "active"]
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.ACTIVE


@pytest.mark.parametrize("start", ["active", "suspended"])
def test_it_refuses_an_illegal_transition(cast, start):
    cast.vendor.status = start
    cast.vendor.save()

    r = client_for(cast.board).post(f"/api/v1/vendors/{cast.vendor.pk}/status/", {"status": "pending"}, format="json")

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_transition"
    assert "status" in error["message"]
    cast.vendor.refresh_from_db()
    assert cast.vendor.status == start


def test_it_refuses_an_unknown_status(cast):
    r = client_for(cast.board).post(f"/api/v1/vendors/{cast.vendor.pk}/status/", {"status": "closed"}, format="json")

    assert r.status_code == 400
    assert "status" in r.json()["error"]["fields"]


# --- finding -----------------------------------------------------------------------


@pytest.fixture
def crowd(cast):
    """Three more vendors in cast.market with distinct status, bank and goods."""
    return [
        VendorFactory(
            market=cast.market,
            full_name="Hoàng Văn Sơn",
            status=Vendor.Status.PENDING,
            bank_id="970415",
            goods_category="meat",
        ),
        VendorFactory(
            market=cast.market,
            full_name="Đỗ Thị Mai",
            status=Vendor.Status.SUSPENDED,
            bank_id="970405",
            goods_category="fish",
        ),
        VendorFactory(market=cast.market, full_name="Lường Thị Yến", goods_category="fish"),
    ]


def _ids(r):
    assert r.status_code == 200, r.content
    return {v["id"] for v in r.json()["results"]}


def test_it_filters_vendors(cast, crowd):
    client = client_for(cast.officer)
    son, mai, yen = crowd

    assert _ids(client.get("/api/v1/vendors/", {"status": "pending"})) == {son.pk}
    assert _ids(client.get("/api/v1/vendors/", {"status": "suspended"})) == {mai.pk}
    assert _ids(client.get("/api/v1/vendors/", {"bank_bin": "970405"})) == {mai.pk}
    assert _ids(client.get("/api/v1/vendors/", {"goods_category": "fish"})) == {mai.pk, yen.pk}
    assert _ids(client.get("/api/v1/vendors/", {"market": cast.other_market.pk})) == {cast.other_vendor.pk}
    assert _ids(client.get("/api/v1/vendors/", {"market": cast.market.pk, "status": "active"})) == {
        cast.vendor.pk,
        yen.pk,
    }


@pytest.mark.parametrize("market", ["99999999999999999999999999", "1.5", "²", "-1"])
def test_it_answers_a_bad_market_filter_with_a_400(cast, market):
    r = client_for(cast.officer).get("/api/v1/vendors/", {"market": market})

    assert r.status_code == 400, r.content
    assert "market" in r.json()["error"]["fields"]


def test_it_keeps_filters_inside_the_scope(cast, crowd):
    # The board of the other market filters on this market: nothing leaks.
    assert _ids(client_for(cast.other_board).get("/api/v1/vendors/", {"market": cast.market.pk})) == set()


def test_it_searches_vendors_by_name_and_merchant_code(cast, crowd):
    client = client_for(cast.officer)
    son = crowd[0]

    assert _ids(client.get("/api/v1/vendors/", {"search": "Hoàng Văn"})) == {son.pk}
    assert _ids(client.get("/api/v1/vendors/", {"search": son.merchant_code})) == {son.pk}
    assert _ids(client.get("/api/v1/vendors/", {"search": "Trần Văn Bình"})) == {cast.other_vendor.pk}


def test_it_paginates_vendors(cast, crowd):
    client = client_for(cast.admin)

    first = client.get("/api/v1/vendors/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    last = client.get(second["next"]).json()

    assert first["count"] == 5
    assert len(first["results"]) == len(second["results"]) == 2
    assert len(last["results"]) == 1
    assert last["next"] is None
    seen = [v["id"] for page in (first, second, last) for v in page["results"]]
    assert sorted(seen) == sorted(Vendor.objects.values_list("pk", flat=True))


def test_it_lets_a_superuser_see_and_do_everything(cast):
    client = client_for(cast.admin)

    assert _ids(client.get("/api/v1/vendors/")) == {cast.vendor.pk, cast.other_vendor.pk}
    assert client.get(f"/api/v1/vendors/{cast.other_vendor.pk}/").status_code == 200
    r = client.post("/api/v1/vendors/", new_vendor(cast.far_market), format="json")
    assert r.status_code == 201, r.content
    assert r.json()["onboarded_by"] == "admin"
    assert (
        client.post(f"/api/v1/vendors/{r.json()['id']}/status/", {"status": "active"}, format="json").status_code == 200
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


# --- races ---------------------------------------------------------------------------


def _race(users, payloads):
    """POST the payloads at the same moment, one thread per user."""
    barrier = threading.Barrier(len(users))
    results: list = [None] * len(users)

    def register(index):
        try:
            client = client_for(users[index])
            barrier.wait()
            results[index] = client.post("/api/v1/vendors/", payloads[index], format="json")
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("clash", "code"),
    [("phone", "duplicate_phone"), ("account", "duplicate_account")],
)
def test_it_registers_one_vendor_when_two_volunteers_race(cast, clash, code):
    needs_postgres()
    from tests.factories import make_volunteer

    second_volunteer = make_volunteer(cast.market, "volunteer2")
    # Several rounds: the requests overlap differently each time, so both the
    # checked path and the database-constraint path get exercised.
    for round_ in range(5):
        before = Vendor.objects.count()
        same_phone = f"0977 000 {round_:03d}"
        same_account = f"77700000{round_:02d}"
        payloads = [
            new_vendor(
                cast.market,
                full_name=f"Người {round_}-{i}",
                phone=same_phone if clash == "phone" else f"0966 {round_:03d} 00{i}",
                account_number=same_account if clash == "account" else f"8880{round_:02d}000{i}",
            )
            for i in range(2)
        ]

        results = _race([cast.volunteer, second_volunteer], payloads)

        statuses = sorted(r.status_code for r in results)
        assert statuses == [201, 400], [r.content for r in results]
        refused = next(r for r in results if r.status_code == 400)
        assert refused.json()["error"]["code"] == code
        assert "Người" in refused.json()["error"]["message"]  # names the winner
        assert Vendor.objects.count() == before + 1


@pytest.mark.parametrize("param", ["market", "onboarded_by"])
def test_it_does_not_tell_which_ids_exist_through_filters(cast, param):
    client = client_for(cast.other_board)
    existing = cast.market.pk if param == "market" else cast.volunteer.pk

    in_other_scope = client.get("/api/v1/vendors/", {param: existing})
    missing = client.get("/api/v1/vendors/", {param: 987654})

    assert in_other_scope.status_code == missing.status_code == 200
    assert in_other_scope.json() == missing.json()


def test_it_filters_by_the_onboarding_volunteer(cast):
    onboarded = client_for(cast.volunteer).post("/api/v1/vendors/", new_vendor(cast.market), format="json").json()

    r = client_for(cast.board).get("/api/v1/vendors/", {"onboarded_by": cast.volunteer.pk})

    assert _ids(r) == {onboarded["id"]}


def test_it_refuses_a_non_numeric_market_filter(cast):
    r = client_for(cast.board).get("/api/v1/vendors/", {"market": "abc"})

    assert r.status_code == 400
    assert "market" in r.json()["error"]["fields"]


def test_it_lets_a_vendor_who_also_volunteers_see_both(cast):
    from market.models import VolunteerAssignment

    VolunteerAssignment.objects.create(user=cast.vendor_user, market=cast.other_market)

    r = client_for(cast.vendor_user).get("/api/v1/vendors/")

    assert _ids(r) == {cast.vendor.pk, cast.other_vendor.pk}
