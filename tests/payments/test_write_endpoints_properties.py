"""Property test over the write endpoints around payments (offline sync,
confirm, sale QRs, the VietQR codec, USSD) and vendors/markets create and
update: whatever JSON body hypothesis makes of their fields — types swapped,
odd Unicode (NUL, lone surrogates), huge numbers, NaN, nesting, fields
missing or extra — the answer is never a 5xx. Fixed seed, bounded examples."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import client_for
from tests.payments.bank_credits.webhook_fuzz import MISSING, json_values

pytestmark = pytest.mark.postgres

PROPERTY = settings(
    derandomize=True,
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# (name, method, path(cast), actor(cast), a valid body(cast), headers)
Endpoint = tuple[str, str, Callable[[Any], str], Callable[[Any], Any], Callable[[Any], dict[str, Any]], dict[str, str]]
ENDPOINTS: list[Endpoint] = [
    (
        "offline-sync",
        "post",
        lambda c: "/api/v1/payments/offline-sync/",
        lambda c: c.vendor_user,
        lambda c: {
            "confirmations": [
                {
                    "client_uuid": str(uuid.uuid4()),
                    "code": "123456",
                    "amount": 20000,
                    "captured_at": "2025-03-01T08:15:00+07:00",
                }
            ]
        },
        {},
    ),
    (
        "confirm",
        "post",
        lambda c: "/api/v1/payments/confirm/",
        lambda c: c.vendor_user,
        lambda c: {"merchant_code": c.vendor.merchant_code, "code": "123456", "amount": 20000},
        {},
    ),
    (
        "payment-request",
        "post",
        lambda c: f"/api/v1/vendors/{c.vendor.pk}/payment-requests/",
        lambda c: c.vendor_user,
        lambda c: {"amount": 20000, "note": "rau", "expires_in": 600},
        {},
    ),
    (
        "vietqr-encode",
        "post",
        lambda c: "/api/v1/vietqr/encode/",
        lambda c: c.board,
        lambda c: {"bank_bin": "970436", "account_number": "0011001234567", "amount": 20000, "purpose": "CHO40"},
        {},
    ),
    (
        "vietqr-decode",
        "post",
        lambda c: "/api/v1/vietqr/decode/",
        lambda c: c.board,
        lambda c: {"payload": "000201010211"},
        {},
    ),
    (
        "ussd",
        "post",
        lambda c: "/api/v1/ussd/",
        lambda c: None,
        lambda c: {"sessionId": "s1", "serviceCode": "*123#", "phoneNumber": "0912345678", "text": "1"},
        {"X-Ussd-Secret": "fuzz-secret"},
    ),
    (
        "vendor-create",
        "post",
        lambda c: "/api/v1/vendors/",
        lambda c: c.board,
        lambda c: {
            "market": c.market.pk,
            "full_name": "Nguyễn Thị Hoa",
            "phone": "0912345678",
            "stall_label": "A1",
            "goods_category": "vegetables",
            "bank_bin": "970436",
            "account_number": "0011001234567",
            "account_name": "NGUYEN THI HOA",
        },
        {},
    ),
    (
        "vendor-update",
        "patch",
        lambda c: f"/api/v1/vendors/{c.vendor.pk}/",
        lambda c: c.board,
        lambda c: {"full_name": "Nguyễn Thị Hoa", "phone": "0912345678", "stall_label": "A2"},
        {},
    ),
    (
        "market-create",
        "post",
        lambda c: "/api/v1/markets/",
        lambda c: c.officer,
        lambda c: {
            "name": "Chợ Mới",
            "code": "TN-MOI",
            "ward": c.market.ward_id,
            "address": "1 Đường",
            "stall_count": 10,
            "cashless_since": "2025-01-01",
        },
        {},
    ),
    (
        "market-update",
        "patch",
        lambda c: f"/api/v1/markets/{c.market.pk}/",
        lambda c: c.officer,
        lambda c: {"name": "Chợ Đồng Quang", "stall_count": 12, "cashless_since": "2025-01-01"},
        {},
    ),
]


def _fuzzed(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    fields = [*base, "surprise"]
    dates = st.sampled_from(["0001-01-01", "9999-12-31T23:59:59", "0001-01-01T00:00:00", "0001-01-01T00:00:00Z"])
    odd = st.one_of(json_values, dates)
    changes = st.dictionaries(st.sampled_from(fields), st.one_of(odd, st.just(MISSING)), max_size=len(fields))
    changes = st.one_of(st.just({}), changes)
    nested = st.fixed_dictionaries(
        {}, optional={"captured_at": st.one_of(dates, odd), "client_uuid": odd, "code": odd, "amount": odd, "x": odd}
    )

    def apply(change: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
        body = dict(base)
        for name, value in change.items():
            if value is MISSING:
                body.pop(name, None)
            else:
                body[name] = value
        items = body.get("confirmations")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            body["confirmations"] = [{**items[0], **inner}]  # odd values inside an upload item too
        return body

    return st.builds(apply, changes, nested)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_no_write_endpoint_answers_5xx_whatever_the_body(cast, endpoint: Endpoint, settings: Any) -> None:
    name, method, path, actor, valid, headers = endpoint
    settings.USSD_SHARED_SECRET = "fuzz-secret"
    base = valid(cast)

    @PROPERTY
    @given(body=_fuzzed(base))
    def check(body: dict[str, Any]) -> None:
        user = actor(cast)
        client = client_for(user) if user is not None else client_for(None)
        raw = json.dumps(body, ensure_ascii=True)  # lone surrogates travel as JSON escapes

        answer = getattr(client, method)(path(cast), data=raw, content_type="application/json", headers=headers)

        assert answer.status_code < 500, (name, body, answer.content[:300])

    check()
