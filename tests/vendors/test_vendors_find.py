"""Vendors API, finding: filters, search and pagination, kept inside the
caller's scope and telling nothing of ids outside it.
"""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.vendors.support import new_vendor, vendor_ids
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


# --- finding -----------------------------------------------------------------------


def test_it_filters_vendors(cast, crowd):
    client = client_for(cast.officer)
    son, mai, yen = crowd

    assert vendor_ids(client.get("/api/v1/vendors/", {"status": "pending"})) == {son.pk}
    assert vendor_ids(client.get("/api/v1/vendors/", {"status": "suspended"})) == {mai.pk}
    assert vendor_ids(client.get("/api/v1/vendors/", {"bank_bin": "970405"})) == {mai.pk}
    assert vendor_ids(client.get("/api/v1/vendors/", {"goods_category": "fish"})) == {mai.pk, yen.pk}
    assert vendor_ids(client.get("/api/v1/vendors/", {"market": cast.other_market.pk})) == {cast.other_vendor.pk}
    assert vendor_ids(client.get("/api/v1/vendors/", {"market": cast.market.pk, "status": "active"})) == {
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
    assert vendor_ids(client_for(cast.other_board).get("/api/v1/vendors/", {"market": cast.market.pk})) == set()


def test_it_searches_vendors_by_name_and_merchant_code(cast, crowd):
    client = client_for(cast.officer)
    son = crowd[0]

    assert vendor_ids(client.get("/api/v1/vendors/", {"search": "Hoàng Văn"})) == {son.pk}
    assert vendor_ids(client.get("/api/v1/vendors/", {"search": son.merchant_code})) == {son.pk}
    assert vendor_ids(client.get("/api/v1/vendors/", {"search": "Trần Văn Bình"})) == {cast.other_vendor.pk}


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

    assert vendor_ids(r) == {onboarded["id"]}


def test_it_refuses_a_non_numeric_market_filter(cast):
    r = client_for(cast.board).get("/api/v1/vendors/", {"market": "abc"})

    assert r.status_code == 400
    assert "market" in r.json()["error"]["fields"]


def test_it_lets_a_vendor_who_also_volunteers_see_both(cast):
    from market.models import VolunteerAssignment

    VolunteerAssignment.objects.create(user=cast.vendor_user, market=cast.other_market)

    r = client_for(cast.vendor_user).get("/api/v1/vendors/")

    assert vendor_ids(r) == {cast.vendor.pk, cast.other_vendor.pk}
