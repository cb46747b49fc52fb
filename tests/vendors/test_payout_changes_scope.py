"""Payout-account changes: hidden outside one's scope (404), the history shown
to whoever sees the vendor, the endpoints documented.
"""

from __future__ import annotations

import pytest

from tests.conftest import client_for
from tests.factories import VendorFactory
from tests.vendors.support import changes_url, decision_url, new_account, request_change
from vendors.models import PayoutAccountChange

pytestmark = pytest.mark.django_db


# --- scope -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["other_board", "far_officer", "outsider"])
def test_it_hides_payout_changes_outside_ones_scope(cast, role):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    client = client_for(getattr(cast, role))

    answers = [
        client.get(changes_url(cast.vendor)),
        client.post(changes_url(cast.vendor), new_account(account_number="0111222333"), format="json"),
        client.get(f"{changes_url(cast.vendor)}{change_id}/"),
        client.post(decision_url(change_id, cast.vendor, "approve"), {}, format="json"),
        client.post(decision_url(change_id, cast.vendor, "reject"), {"reason": "x"}, format="json"),
        client.post(decision_url(change_id, cast.vendor, "cancel"), {}, format="json"),
    ]

    assert [r.status_code for r in answers] == [404] * 6
    assert PayoutAccountChange.objects.get().outcome == "pending"


def test_it_answers_404_for_a_change_under_another_vendors_id(cast):
    change_id = request_change(cast.volunteer, cast.vendor).json()["id"]
    neighbour = VendorFactory(market=cast.market)

    r = client_for(cast.board).post(decision_url(change_id, neighbour, "approve"), {}, format="json")

    assert r.status_code == 404
    assert PayoutAccountChange.objects.get().outcome == "pending"


@pytest.mark.parametrize("role", ["vendor_user", "volunteer", "board", "officer", "admin"])
def test_it_shows_the_history_to_whoever_sees_the_vendor(cast, role):
    first = request_change(cast.volunteer, cast.vendor).json()["id"]
    client_for(cast.board).post(decision_url(first, cast.vendor, "reject"), {"reason": "Sai"}, format="json")
    second = request_change(cast.vendor_user, cast.vendor, account_number="0111222333").json()["id"]

    r = client_for(getattr(cast, role)).get(changes_url(cast.vendor))

    assert r.status_code == 200
    assert [c["id"] for c in r.json()["results"]] == [second, first]
    assert [c["outcome"] for c in r.json()["results"]] == ["pending", "rejected"]


def test_it_documents_the_payout_change_endpoints(cast):
    schema = client_for(cast.admin).get("/api/v1/schema/?format=json").json()

    paths = schema["paths"]
    base = "/api/v1/vendors/{id}/payout-changes/"
    assert "post" in paths[base] and "get" in paths[base]
    for action in ("approve", "reject", "cancel"):
        assert "post" in paths[f"{base}{{change_id}}/{action}/"]
