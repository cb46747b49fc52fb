"""Reference data loaded by migrations, and the public read-only API over it."""

from __future__ import annotations

import pytest

from market.models import Bank, LegacyProvince, Province, Ward

pytestmark = pytest.mark.django_db


def test_it_lists_the_34_current_provinces(api):
    r = api.get("/api/v1/provinces/")

    assert r.status_code == 200
    provinces = r.json()
    assert len(provinces) == 34
    by_code = {p["code"]: p for p in provinces}
    assert by_code["19"]["name"] == "Tỉnh Thái Nguyên"
    assert by_code["01"]["name"] == "Thành phố Hà Nội"
    # Bắc Kạn is no longer a current unit.
    assert "06" not in by_code


def test_it_lists_the_wards_of_thai_nguyen(api):
    r = api.get("/api/v1/provinces/19/wards/", {"page_size": 500})

    assert r.status_code == 200
    body = r.json()
    names = {w["name"] for w in body["results"]}
    assert body["count"] == len(names) == Ward.objects.filter(province_id="19").count()
    assert {"Phường Phan Đình Phùng", "Xã Chợ Đồn"} <= names
    assert all(w["province"] == "19" for w in body["results"])


def test_it_paginates_and_searches_wards(api):
    first = api.get("/api/v1/provinces/19/wards/").json()
    assert first["count"] > len(first["results"]) and first["next"]

    found = api.get("/api/v1/provinces/19/wards/", {"search": "Chợ Đồn"}).json()
    assert [w["code"] for w in found["results"]] == ["02020"]


def test_it_reports_an_unknown_province_as_not_found(api):
    r = api.get("/api/v1/provinces/99/wards/")

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert r.json()["error"]["message"]


def test_it_lists_the_napas_banks(api):
    r = api.get("/api/v1/banks/")

    assert r.status_code == 200
    banks = {b["bin"]: b for b in r.json()}
    assert len(banks) == 48
    assert banks["970436"]["short_name"] == "Vietcombank"
    assert banks["970436"]["code"] == "VCB"
    assert banks["970436"]["name"]
    assert all(len(b) == 6 and b.isdigit() for b in banks)


def test_it_keeps_bac_kan_as_a_legacy_province_of_thai_nguyen():
    bac_kan = LegacyProvince.objects.get(code="06")

    assert bac_kan.name == "Tỉnh Bắc Kạn"
    assert bac_kan.merged_into_id == "19"
    assert LegacyProvince.objects.count() == 63


def test_it_loads_reference_data_idempotently():
    from django.core.management import call_command

    before = (Province.objects.count(), Ward.objects.count(), LegacyProvince.objects.count(), Bank.objects.count())
    call_command("load_reference_data", verbosity=0)
    after = (Province.objects.count(), Ward.objects.count(), LegacyProvince.objects.count(), Bank.objects.count())

    assert before == after
    assert 3000 < before[1] < 3500  # about 3,300 wards and communes


def test_it_needs_no_login_for_reference_data(api):
    for path in ("/api/v1/provinces/", "/api/v1/provinces/19/wards/", "/api/v1/banks/"):
        assert api.get(path).status_code == 200, path
