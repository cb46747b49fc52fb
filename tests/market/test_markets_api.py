"""Markets API: every role against list, retrieve, create and update."""

from __future__ import annotations

import pytest

from market.models import Market
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PHAN_DINH_PHUNG = "05443"  # Phường Phan Đình Phùng, Thái Nguyên (19)
CHO_DON = "02020"  # Xã Chợ Đồn, Thái Nguyên (19), formerly Bắc Kạn


def _hanoi_ward() -> str:
    from market.models import Ward

    return Ward.objects.filter(province_id="01").order_by("code").values_list("code", flat=True)[0]


# role -> names of the cast markets it sees
VISIBLE = {
    "admin": {"market", "other_market", "far_market"},
    "officer": {"market", "other_market"},
    "far_officer": {"far_market"},
    "board": {"market"},
    "other_board": {"other_market"},
    "volunteer": {"market"},
    "vendor_user": {"market"},
    "outsider": set(),
}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_it_lists_exactly_the_markets_in_scope(cast, role):
    r = client_for(getattr(cast, role)).get("/api/v1/markets/")

    assert r.status_code == 200, r.content
    body = r.json()
    expected = {getattr(cast, name).code for name in VISIBLE[role]}
    assert {m["code"] for m in body["results"]} == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize("role", sorted(VISIBLE))
@pytest.mark.parametrize("which", ["market", "other_market", "far_market"])
def test_it_retrieves_a_market_only_within_scope(cast, role, which):
    market = getattr(cast, which)

    r = client_for(getattr(cast, role)).get(f"/api/v1/markets/{market.pk}/")

    if which in VISIBLE[role]:
        assert r.status_code == 200, r.content
        assert r.json()["code"] == market.code
    else:
        assert r.status_code == 404, r.content
        assert r.json()["error"]["code"] == "not_found"


def test_it_shows_ward_province_and_legacy_province(cast):
    cast.market.legacy_province_id = "06"
    cast.market.save()

    body = client_for(cast.board).get(f"/api/v1/markets/{cast.market.pk}/").json()

    assert body["province"]["code"] == "19"
    assert body["ward"]["province"] == "19"
    assert body["legacy_province"] == {"code": "06", "name": "Tỉnh Bắc Kạn"}
    assert body["stall_count"] == cast.market.stall_count


def test_it_filters_markets_by_province_for_a_superuser(cast):
    r = client_for(cast.admin).get("/api/v1/markets/", {"province": "01"})

    assert [m["code"] for m in r.json()["results"]] == [cast.far_market.code]


@pytest.mark.parametrize("path", ["/api/v1/markets/", "/api/v1/markets/1/"])
def test_it_refuses_anonymous_callers(api, cast, path):
    r = api.get(path)

    assert r.status_code == 401
    assert r.json()["error"]["code"] == "not_authenticated"
    assert r.json()["error"]["message"]


def test_it_refuses_an_anonymous_create(api, cast):
    before = Market.objects.count()

    r = api.post("/api/v1/markets/", {"name": "Chợ X", "code": "X", "ward": PHAN_DINH_PHUNG}, format="json")

    assert r.status_code == 401
    assert Market.objects.count() == before


CREATE_STATUS = {
    "admin": 201,
    "officer": 201,
    "far_officer": 403,
    "board": 403,
    "other_board": 403,
    "volunteer": 403,
    "vendor_user": 403,
    "outsider": 403,
}


@pytest.mark.parametrize("role", sorted(CREATE_STATUS))
def test_it_lets_only_the_province_create_a_market(cast, role):
    before = Market.objects.count()

    r = client_for(getattr(cast, role)).post(
        "/api/v1/markets/",
        {"name": "Chợ Túc Duyên", "code": "tn-tucduyen", "ward": PHAN_DINH_PHUNG, "stall_count": 180},
        format="json",
    )

    assert r.status_code == CREATE_STATUS[role], r.content
    if r.status_code == 201:
        body = r.json()
        assert body["code"] == "TN-TUCDUYEN"
        # The province is derived from the ward, never sent by the client.
        assert body["province"]["code"] == "19"
        assert Market.objects.get(code="TN-TUCDUYEN").province_id == "19"
    else:
        assert r.json()["error"]["code"] == "permission_denied"
        assert Market.objects.count() == before


def test_it_refuses_an_officer_creating_in_another_province(cast):
    r = client_for(cast.officer).post(
        "/api/v1/markets/", {"name": "Chợ Hà Nội", "code": "HN-X", "ward": _hanoi_ward()}, format="json"
    )

    assert r.status_code == 403
    assert not Market.objects.filter(code="HN-X").exists()


def test_it_names_the_ward_when_it_is_unknown(cast):
    before = Market.objects.count()

    r = client_for(cast.officer).post(
        "/api/v1/markets/", {"name": "Chợ X", "code": "TN-X", "ward": "99999"}, format="json"
    )

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "does_not_exist"
    assert "ward" in error["message"]
    assert "ward" in error["fields"]
    assert Market.objects.count() == before


def test_it_refuses_a_duplicate_market_code(cast):
    before = Market.objects.count()

    r = client_for(cast.officer).post(
        "/api/v1/markets/", {"name": "Chợ Khác", "code": cast.market.code.lower(), "ward": CHO_DON}, format="json"
    )

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "duplicate_market_code"
    assert "code" in r.json()["error"]["message"]
    assert Market.objects.count() == before


@pytest.mark.parametrize("field", ["ward", "legacy_province"])
def test_it_refuses_a_code_holding_a_nul_character(cast, field):
    # Found by the schemathesis drill: PostgreSQL cannot take NUL in text, and the
    # ward lookup answered 500. JSON with a NUL is refused by the parser already
    # (invalid_characters, tests/common/test_parsers.py); a form body reaches the field.
    body = {"name": "Chợ Khác", "code": "NEW-1", "ward": CHO_DON, field: "02\x00020"}

    r = client_for(cast.officer).post("/api/v1/markets/", body, format="multipart")

    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == "does_not_exist"
    assert not Market.objects.filter(code="NEW-1").exists()


@pytest.mark.parametrize("role", ["board", "volunteer", "vendor_user", "outsider"])
def test_it_tells_no_one_who_may_not_create_markets_which_codes_exist(cast, role):
    # Found by the role matrix drill: the duplicate check ran before the role
    # check, so any login learned whether a market code exists (400 vs 403).
    taken = client_for(getattr(cast, role)).post(
        "/api/v1/markets/", {"name": "Chợ Khác", "code": cast.far_market.code, "ward": CHO_DON}, format="json"
    )
    free = client_for(getattr(cast, role)).post(
        "/api/v1/markets/", {"name": "Chợ Khác", "code": "FREE-CODE", "ward": CHO_DON}, format="json"
    )

    assert (taken.status_code, free.status_code) == (403, 403)
    assert taken.json() == free.json()


def test_it_tells_a_volunteer_nothing_of_other_codes_on_update(cast):
    r = client_for(cast.volunteer).patch(
        f"/api/v1/markets/{cast.market.pk}/", {"code": cast.far_market.code}, format="json"
    )

    assert r.status_code == 403
    cast.market.refresh_from_db()
    assert cast.market.code == "TN-DQ"


def test_it_accepts_bac_kan_as_legacy_province_in_thai_nguyen(cast):
    r = client_for(cast.officer).post(
        "/api/v1/markets/",
        {"name": "Chợ Bằng Lũng", "code": "BK-BANGLUNG", "ward": CHO_DON, "legacy_province": "06"},
        format="json",
    )

    assert r.status_code == 201, r.content
    assert r.json()["legacy_province"]["code"] == "06"


def test_it_refuses_a_legacy_province_that_was_not_merged_into_the_wards_province(cast):
    before = Market.objects.count()

    # Hà Giang (02) was merged into Tuyên Quang, not Thái Nguyên.
    r = client_for(cast.officer).post(
        "/api/v1/markets/",
        {"name": "Chợ X", "code": "TN-X", "ward": CHO_DON, "legacy_province": "02"},
        format="json",
    )

    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "legacy_province_mismatch"
    assert "legacy_province" in error["message"]
    assert Market.objects.count() == before


UPDATE_STATUS = {
    "admin": 200,
    "officer": 200,
    "board": 200,
    "volunteer": 403,
    "vendor_user": 403,
    "other_board": 404,
    "far_officer": 404,
    "outsider": 404,
}


@pytest.mark.parametrize("role", sorted(UPDATE_STATUS))
def test_it_lets_only_the_board_and_province_update_a_market(cast, role):
    r = client_for(getattr(cast, role)).patch(f"/api/v1/markets/{cast.market.pk}/", {"stall_count": 321}, format="json")

    assert r.status_code == UPDATE_STATUS[role], r.content
    cast.market.refresh_from_db()
    if r.status_code == 200:
        assert r.json()["stall_count"] == 321
        assert cast.market.stall_count == 321
    else:
        assert "error" in r.json()
        assert cast.market.stall_count == 100


def test_it_refuses_an_anonymous_update(api, cast):
    r = api.patch(f"/api/v1/markets/{cast.market.pk}/", {"stall_count": 1}, format="json")

    assert r.status_code == 401
    cast.market.refresh_from_db()
    assert cast.market.stall_count == 100


def test_it_refuses_a_negative_stall_count(cast):
    r = client_for(cast.board).patch(f"/api/v1/markets/{cast.market.pk}/", {"stall_count": -1}, format="json")

    assert r.status_code == 400
    assert "stall_count" in r.json()["error"]["fields"]


def test_it_refuses_moving_a_market_into_another_province(cast):
    r = client_for(cast.board).patch(f"/api/v1/markets/{cast.market.pk}/", {"ward": _hanoi_ward()}, format="json")

    assert r.status_code == 403
    cast.market.refresh_from_db()
    assert cast.market.province_id == "19"


def test_it_keeps_the_province_in_step_with_the_ward(cast):
    r = client_for(cast.admin).patch(f"/api/v1/markets/{cast.market.pk}/", {"ward": _hanoi_ward()}, format="json")

    assert r.status_code == 200, r.content
    assert r.json()["province"]["code"] == "01"


def test_it_refuses_taking_another_markets_code_on_update(cast):
    r = client_for(cast.officer).patch(
        f"/api/v1/markets/{cast.market.pk}/", {"code": cast.other_market.code}, format="json"
    )

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "duplicate_market_code"


def test_it_keeps_its_own_code_on_a_full_update(cast):
    r = client_for(cast.board).put(
        f"/api/v1/markets/{cast.market.pk}/",
        {"name": "Chợ Đồng Quang mới", "code": cast.market.code, "ward": cast.market.ward_id, "stall_count": 250},
        format="json",
    )

    assert r.status_code == 200, r.content
    assert r.json()["name"] == "Chợ Đồng Quang mới"
