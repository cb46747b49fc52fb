"""SePay: POST /api/v1/webhooks/sepay/ with ``Authorization: Apikey`` or the HMAC variant."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.test import Client

from payments.bank_credits.providers import sepay
from payments.bank_credits.providers.base import BadSignature
from payments.models import Channel, Payment, WebhookDelivery
from tests.payments.bank_credits.webhooks_support import (
    SEPAY_API_KEY,
    encode,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)

pytestmark = pytest.mark.usefixtures("provider_keys")


def test_it_records_a_stall_qr_credit_and_answers_sepay_success(cast, client: Client) -> None:
    body = sepay_body(content=f"CHO40 {cast.vendor.merchant_code} rau muong", amount=35_000, txn_id=92704)

    response = sepay_post(client, body)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    payment = Payment.objects.get()
    assert (payment.vendor, payment.market) == (cast.vendor, cast.market)
    assert payment.amount == 35_000
    assert payment.channel == Channel.STATIC_QR
    assert payment.attribution == Payment.Attribution.MERCHANT_CODE
    assert (payment.source, payment.provider_txn_id) == ("sepay", "92704")
    assert payment.provider_reference == "FT25060123456"
    assert payment.status == Payment.Status.SUCCEEDED
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert delivery.payment == payment
    assert json.loads(delivery.body) == body


def test_it_reads_the_bank_time_as_vietnam_time(cast, client: Client) -> None:
    body = sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", when="2025-03-01 06:30:00")

    sepay_post(client, body)

    payment = Payment.objects.get()
    assert payment.occurred_at == dt.datetime(2025, 2, 28, 23, 30, tzinfo=dt.UTC)
    assert payment.local_date == dt.date(2025, 3, 1)


def test_it_never_stores_the_api_key(cast, client: Client) -> None:
    sepay_post(client, sepay_body(content="x"))
    sepay_post(client, sepay_body(content="x"), key="a-wrong-key")

    for delivery in WebhookDelivery.objects.all():
        assert SEPAY_API_KEY not in json.dumps(delivery.headers)
        assert "a-wrong-key" not in json.dumps(delivery.headers)
        assert delivery.headers["Authorization"] == "Apikey [redacted]"


def test_it_accepts_the_hmac_signed_variant(cast, client: Client) -> None:
    response = sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"), auth="hmac")

    assert response.status_code == 200
    assert Payment.objects.get().vendor == cast.vendor


# An HMAC computed outside the project, so that the check is not the project's
# own function agreeing with itself:
#   printf '%s' '1733300000.{"id":92704,"gateway":"Vietcombank","transferAmount":64000}' \
#     | openssl dgst -sha256 -hmac 'sepay-vector-secret'
VECTOR_SECRET = "sepay-vector-secret"
VECTOR_TIMESTAMP = "1733300000"
VECTOR_BODY = b'{"id":92704,"gateway":"Vietcombank","transferAmount":64000}'
VECTOR_HMAC = "ccf8aa5aa2e46b40f76f083115790515e8a1b0ed7618ae0536fb1b4d6762fc30"


def test_it_signs_like_an_independent_hmac_sha256(settings) -> None:
    assert sepay.hmac_signature(VECTOR_SECRET, VECTOR_TIMESTAMP, VECTOR_BODY) == f"sha256={VECTOR_HMAC}"


@pytest.mark.parametrize("signature,accepted", [(VECTOR_HMAC, True), (VECTOR_HMAC[:-1] + "1", False)])
def test_it_verifies_the_independent_vector_and_nothing_else(settings, signature, accepted) -> None:
    settings.SEPAY_API_KEY = ""
    settings.SEPAY_WEBHOOK_SECRET = VECTOR_SECRET
    headers = {"X-SePay-Signature": f"sha256={signature}", "X-SePay-Timestamp": VECTOR_TIMESTAMP}
    sent_at = dt.datetime.fromtimestamp(int(VECTOR_TIMESTAMP), tz=dt.UTC)

    def verify() -> None:
        sepay.verify(headers=headers, body=VECTOR_BODY, payload=json.loads(VECTOR_BODY), now=sent_at)

    if accepted:
        verify()
    else:
        with pytest.raises(BadSignature):
            verify()


def test_it_refuses_a_wrong_api_key_and_records_no_payment(cast, client: Client) -> None:
    response = sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"), key="guessed")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert not Payment.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.REJECTED
    assert "bad_signature" in delivery.error


def test_it_refuses_an_unsigned_delivery(cast, client: Client) -> None:
    response = sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"), auth="none")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.REJECTED


def test_it_refuses_a_body_changed_after_hmac_signing(cast, client: Client) -> None:
    body = sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=10_000)
    ts = str(int(time.time()))
    from payments.bank_credits.providers import sepay

    signature = sepay.hmac_signature("test-sepay-hmac-secret", ts, encode(body))
    tampered = encode({**body, "transferAmount": 10_000_000})

    response = client.post(
        "/api/v1/webhooks/sepay/",
        data=tampered,
        content_type="application/json",
        headers={"X-SePay-Timestamp": ts, "X-SePay-Signature": signature},
    )

    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_it_refuses_a_stale_hmac_timestamp(cast, client: Client) -> None:
    old = int(time.time()) - 6 * 60

    response = sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"), auth="hmac", timestamp=old)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "stale_signature"
    assert not Payment.objects.exists()


def test_it_answers_503_when_no_key_is_configured(cast, client: Client, settings) -> None:
    settings.SEPAY_API_KEY = ""
    settings.SEPAY_WEBHOOK_SECRET = ""

    response = sepay_post(client, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"), key="")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "webhook_not_configured"
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.REJECTED


def test_it_stores_and_ignores_outgoing_debits(cast, client: Client) -> None:
    body = sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", transfer_type="out", txn_id=555)

    response = sepay_post(client, body)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert not Payment.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.IGNORED
    assert delivery.provider_txn_id == "555"


def test_it_answers_400_for_a_body_that_is_not_json(cast, client: Client) -> None:
    response = sepay_post(client, None, raw=b'{"id": 1, "transferAmount": ')

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_payload"
    assert not Payment.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert delivery.body == '{"id": 1, "transferAmount": '


@pytest.mark.parametrize(
    "change",
    [
        {"transferAmount": None},
        {"transferAmount": "12.5"},
        {"transferAmount": -100},
        {"transferType": "sideways"},
        {"id": None},
        {"id": "12a"},  # not the integer SePay documents: refused, never another spelling of an id
        {"id": -5},
        {"id": 1.5},
        {"id": True},
        {"id": "١٢٣"},  # digits to str.isdigit(), not to SePay
        {"transferAmount": "²"},  # a digit to str.isdigit(), not to a bank
        {"transferAmount": 10**16},
        {"transferAmount": 1e300},
        {"transferAmount": "9" * 40},
    ],
)
def test_it_answers_400_for_missing_or_wrong_fields(cast, client: Client, change) -> None:
    body = {**sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"), **change}

    response = sepay_post(client, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_payload"
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.FAILED


@pytest.mark.parametrize(
    ("timestamp", "code"),
    [("²", "bad_signature"), ("12a", "bad_signature"), ("-5", "bad_signature"),
     ("99999999999999999999", "stale_signature"), ("0", "stale_signature")],
)  # fmt: skip
def test_it_refuses_a_timestamp_no_clock_could_show_without_a_server_error(cast, client: Client, timestamp, code):
    body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"))

    response = client.post(
        "/api/v1/webhooks/sepay/",
        data=body,
        content_type="application/json",
        headers={"X-SePay-Timestamp": timestamp, "X-SePay-Signature": "sha256=00"},
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == code
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.REJECTED


@pytest.mark.parametrize("provider", ["sepay", "casso", "payos"])
def test_it_keeps_and_refuses_an_empty_delivery(cast, client: Client, provider) -> None:
    response = client.post(f"/api/v1/webhooks/{provider}/", data=b"", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_payload"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.source, delivery.body, delivery.status) == (provider, "", WebhookDelivery.Status.FAILED)
