"""The odd inputs that gave a 500 on the payment path, through every lane
(Django view, WSGI lane, the ASGI intake): a signed credit carrying them is
recorded (text made storable, the raw body kept exactly); anything else is a
4xx with its delivery row marked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from payments.models import Payment, PaymentEvent, WebhookDelivery
from tests.payments.bank_credits.webhook_fuzz import dumps, sign
from tests.payments.bank_credits.webhooks_support import (
    CASSO_URL,
    PAYOS_KEY,
    PAYOS_URL,
    SEPAY_URL,
    casso_body,
    payos_body,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
)

pytestmark = [pytest.mark.usefixtures("provider_keys"), pytest.mark.postgres]

LANES = [
    pytest.param("view", marks=pytest.mark.django_db),
    pytest.param("wsgi", marks=pytest.mark.django_db),
    pytest.param("intake", marks=pytest.mark.django_db(transaction=True)),
]
Status = WebhookDelivery.Status


def _post(client: Any, url: str, raw: bytes, headers: dict[str, str]) -> Any:
    return client.post(url, data=raw, content_type="application/json", headers=headers)


def _sepay(content: str, **fields: Any) -> tuple[str, bytes, dict[str, str]]:
    from payments.bank_credits.providers import sepay

    raw = dumps({**sepay_body(content=content), **fields})
    return SEPAY_URL, raw, sign(sepay, raw, hmac_mode=True)


def _casso(description: str) -> tuple[str, bytes, dict[str, str]]:
    from payments.bank_credits.providers import casso

    raw = dumps(casso_body(description=description))
    return CASSO_URL, raw, sign(casso, raw)


def _payos(description: str, when: str = "2025-03-01 08:15:00") -> tuple[str, bytes, dict[str, str]]:
    return PAYOS_URL, dumps(payos_body(description=description, when=when, key=PAYOS_KEY)), {}


@pytest.mark.parametrize("lane", LANES)
@pytest.mark.parametrize(
    ("make", "stored_content"),
    [
        (lambda code: _sepay(f"CHO40 {code}\x00 rau"), "CHO40 {code}\ufffd rau"),  # NUL: no PostgreSQL text holds it
        (lambda code: _casso(f"CHO40 {code} \ud800"), "CHO40 {code} \ufffd"),  # a lone surrogate: no UTF-8 form
        (lambda code: _payos(f"CHO40 {code} \udfff\x00"), "CHO40 {code} \ufffd\ufffd"),
    ],
    ids=["sepay-nul", "casso-lone-surrogate", "payos-both"],
)
def test_a_signed_credit_with_unstorable_text_is_recorded(cast, lane_client, lane, make, stored_content) -> None:
    url, raw, headers = make(cast.vendor.merchant_code)

    answer = _post(lane_client, url, raw, headers)

    assert answer.status_code == 200, answer.content
    payment = Payment.objects.get()
    assert payment.vendor == cast.vendor
    assert payment.content == stored_content.format(code=cast.vendor.merchant_code)
    assert WebhookDelivery.objects.get().raw_body == raw


@pytest.mark.parametrize("lane", LANES)
@pytest.mark.parametrize("when", ["0001-01-01 00:00:00", "9999-12-31T23:59:59-12:00"])
def test_a_signed_credit_with_a_time_out_of_range_is_recorded_and_flagged(cast, lane_client, lane, when) -> None:
    answer = _post(lane_client, *_payos(f"CHO40 {cast.vendor.merchant_code}", when=when))

    assert answer.status_code == 200, answer.content
    payment = Payment.objects.get()
    assert PaymentEvent.objects.get(payment=payment).kind == "unreadable_transaction_time"
    assert payment.occurred_at.year >= 2025


@pytest.mark.parametrize("lane", LANES)
@pytest.mark.parametrize(
    "raw",
    [b"[" * 15_000 + b"]" * 15_000, b'{"id": "\\u0000", "\xff\xfe": 1}', b"\x00\x00"],
    ids=["nested-deep", "invalid-utf8", "nul-bytes"],
)
def test_an_unsigned_odd_body_is_refused_4xx_and_kept_exactly(lane_client, lane, raw: bytes) -> None:
    answer = _post(lane_client, SEPAY_URL, raw, {"X-Odd": "a\x00b"} if lane != "intake" else {})

    assert answer.status_code in (400, 401)
    assert answer.json()["error"]["code"] in ("malformed_payload", "missing_signature")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status in (Status.FAILED, Status.REJECTED)
    assert delivery.raw_body == raw
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_a_body_that_is_text_is_kept_as_text(client) -> None:
    raw = json.dumps({"content": "Chợ Đồng Quang"}, ensure_ascii=False).encode()

    client.post(SEPAY_URL, data=raw, content_type="application/json")

    delivery = WebhookDelivery.objects.get()
    assert (delivery.body, delivery.body_encoding) == (raw.decode(), "")
