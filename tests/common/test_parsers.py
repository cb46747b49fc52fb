"""The API's JSON parser refuses text no field may hold (common/parsers.py).
Both cases were found by the abuse drill's odd-text sweep."""

from __future__ import annotations

import json
from typing import Any

import pytest

from common.parsers import unstorable
from market.models import Market
from payments.models import PaymentRequest
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.mark.postgres
def test_a_nul_in_a_related_key_is_a_400_not_a_500(cast: Any) -> None:
    # Before: the ward's code went to PostgreSQL with its NUL ("text fields cannot contain NUL"), 500.
    answer = post(client_for(cast.admin), "/api/v1/markets/", {"name": "Chợ Mới", "code": "TN-MOI", "ward": "a\x00b"})

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_characters"
    assert not Market.objects.filter(code="TN-MOI").exists()


def test_a_bidi_override_in_a_sale_note_is_refused_and_not_stored(cast: Any) -> None:
    # Before: 201, and the stall page showed "ễn…" reordered.
    path = f"/api/v1/vendors/{cast.vendor.pk}/payment-requests/"

    refused = post(client_for(cast.vendor_user), path, {"amount": 20000, "note": "rau \u202e000.05"})
    plain = post(client_for(cast.vendor_user), path, {"amount": 20000, "note": "rau muống"})

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_characters"
    assert plain.status_code == 201
    assert list(PaymentRequest.objects.values_list("note", flat=True)) == ["rau muống"]


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        ("Nguyễn Thị Hoà", False),
        ({"a": ["b", {"c": "d\u2066"}]}, True),
        ({"k\x00": 1}, True),
        ([1, 2.5, None, True, "x\ud800"], True),
        ("‎ א", False),  # a left-to-right mark and Hebrew are text, not controls that reorder it
    ],
)
def test_it_looks_into_keys_and_nested_values(value: Any, refused: bool) -> None:
    assert unstorable(value) is refused
