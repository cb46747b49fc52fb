"""payOS: POST /api/v1/webhooks/payos/ with the signature inside the body."""

from __future__ import annotations

import pytest
from django.test import Client

from payments.bank_credits.providers import payos
from payments.models import Payment, WebhookDelivery
from tests.payments.bank_credits.webhooks_support import (
    PAYOS_KEY,
    payos_body,
    payos_post,
    provider_keys,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("provider_keys")


def test_it_signs_like_the_payos_sdk() -> None:
    # payOSHQ/payos-lib-python tests/_crypto/testCases.json, case "webhook".
    data = {
        "accountNumber": "0123456789",
        "amount": 20000,
        "description": "thanh toan",
        "reference": "FT-REFERENCE",
        "transactionDateTime": "2025-12-12 09:00:00",
        "virtualAccountNumber": "",
        "counterAccountBankId": "01202001",
        "counterAccountBankName": "",
        "counterAccountName": "NGUYEN VAN A",
        "counterAccountNumber": "9876543210",
        "virtualAccountName": "",
        "currency": "VND",
        "orderCode": 0,
        "paymentLinkId": "payment-link-id",
        "code": "00",
        "desc": "success",
    }

    assert payos.signature("test_checksum_key", data) == (
        "302b3becca1672dff99daafae2965f40e48ea3ca39453e4bf37fbcc26807a0e8"
    )


def test_it_writes_nulls_booleans_and_arrays_as_the_sdk_does() -> None:
    # Same file, case "paid payment link with 1 transaction" (nulls, nested array).
    data = {
        "id": "payment-link-id",
        "orderCode": 0,
        "amount": 2000,
        "amountPaid": 2000,
        "amountRemaining": 0,
        "status": "PAID",
        "createdAt": "2025-12-12T09:00:00+07:00",
        "transactions": [
            {
                "accountNumber": "0123456789",
                "amount": 2000,
                "counterAccountBankId": "01202001",
                "counterAccountBankName": None,
                "counterAccountName": "NGUYEN VAN A",
                "counterAccountNumber": "9876543210",
                "description": "TRANSACTION DESCRIPTION",
                "reference": "FT-REFERENCE",
                "transactionDateTime": "2025-12-12T09:00:00+07:00",
                "virtualAccountName": None,
                "virtualAccountNumber": None,
            }
        ],
        "canceledAt": None,
        "cancellationReason": None,
    }

    assert payos.signature("test_checksum_key", data) == (
        "6af5e2c9a28256c140169ed624114b43295915d7b6e2fa6278b17a7c43aadefd"
    )
    assert payos.signing_string({"b": True, "a": None, "c": 1.0}) == "a=&b=true&c=1"


def test_it_records_a_signed_credit_and_answers_in_payos_format(cast, client: Client) -> None:
    body = payos_body(description=f"CHO40 {cast.vendor.merchant_code}", amount=70_000, order_code=42)

    response = payos_post(client, body)

    assert response.status_code == 200
    assert response.json() == {"error": 0, "message": "Ok", "data": None}
    payment = Payment.objects.get()
    assert (payment.vendor, payment.amount) == (cast.vendor, 70_000)
    assert (payment.source, payment.provider_txn_id) == ("payos", "42:FT25060777777")
    assert payment.payer_masked == "LE VAN HUNG ••••7654"


def test_it_refuses_a_changed_amount(cast, client: Client) -> None:
    body = payos_body(description=f"CHO40 {cast.vendor.merchant_code}", amount=10_000)
    body["data"]["amount"] = 10_000_000

    response = payos_post(client, body)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.REJECTED


def test_it_refuses_a_signature_made_with_another_key(cast, client: Client) -> None:
    response = payos_post(client, payos_body(description="x", key="someone-else"))

    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_it_refuses_an_unsigned_body(cast, client: Client) -> None:
    body = payos_body(description="x")
    del body["signature"]

    response = payos_post(client, body)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_signature"
    assert not Payment.objects.exists()


def test_it_answers_503_without_a_checksum_key(cast, client: Client, settings) -> None:
    settings.PAYOS_CHECKSUM_KEY = ""

    response = payos_post(client, payos_body(description="x"))

    assert response.status_code == 503
    assert not Payment.objects.exists()


def test_it_acknowledges_but_ignores_a_failed_transfer(cast, client: Client) -> None:
    response = payos_post(client, payos_body(description=f"CHO40 {cast.vendor.merchant_code}", code="01"))

    assert response.status_code == 200
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.IGNORED


def test_it_acknowledges_the_url_confirmation_sample_without_recording_it(cast, client: Client) -> None:
    data = {
        "orderCode": 123,
        "amount": 3000,
        "description": "VQRIO123",
        "accountNumber": "12345678",
        "reference": "TF230204212323",
        "transactionDateTime": "2023-02-04 18:25:00",
        "currency": "VND",
        "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
        "code": "00",
        "desc": "Thành công",
        "counterAccountBankId": "",
        "counterAccountBankName": "",
        "counterAccountName": "",
        "counterAccountNumber": "",
        "virtualAccountName": "",
        "virtualAccountNumber": "",
    }
    body = {
        "code": "00",
        "desc": "success",
        "success": True,
        "data": data,
        "signature": payos.signature(PAYOS_KEY, data),
    }

    response = payos_post(client, body)

    assert response.status_code == 200
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.IGNORED
