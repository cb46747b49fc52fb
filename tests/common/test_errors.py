"""Every API error leaves as ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def test_it_answers_an_unknown_api_path_with_json(api):
    r = api.get("/api/v1/nope/")

    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")
    assert r.json()["error"]["code"] == "not_found"
    assert r.json()["error"]["message"]


def test_it_keeps_html_404s_for_web_pages(api):
    r = api.get("/nope/")

    assert r.status_code == 404
    assert not r["Content-Type"].startswith("application/json")


def test_it_answers_a_malformed_json_body_with_parse_error(cast):
    before = Vendor.objects.count()

    r = client_for(cast.volunteer).post("/api/v1/vendors/", data='{"market": 1,', content_type="application/json")

    assert r.status_code == 400
    assert r.json()["error"]["code"] == "parse_error"
    assert r.json()["error"]["message"]
    assert Vendor.objects.count() == before


def test_it_answers_an_unsupported_media_type(cast):
    r = client_for(cast.volunteer).post("/api/v1/vendors/", data="<xml/>", content_type="application/xml")

    assert r.status_code == 415
    assert r.json()["error"]["code"] == "unsupported_media_type"


def test_it_answers_a_wrong_method(cast):
    r = client_for(cast.board).delete(f"/api/v1/vendors/{cast.vendor.pk}/")

    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert Vendor.objects.filter(pk=cast.vendor.pk).exists()


def test_it_lists_every_invalid_field(cast):
    r = client_for(cast.volunteer).post("/api/v1/vendors/", {"market": cast.market.pk}, format="json")

    error = r.json()["error"]
    assert r.status_code == 400
    assert error["code"] == "required"
    assert error["message"].split(":")[0] in error["fields"]
    for errors in error["fields"].values():
        assert all(set(e) == {"code", "message"} for e in errors)


def test_it_answers_a_bad_page_number_with_not_found(cast):
    r = client_for(cast.board).get("/api/v1/vendors/", {"page": 99})

    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
