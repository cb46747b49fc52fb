"""Casso webhook v2: POST /api/v1/webhooks/casso/ signed with X-Casso-Signature."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from payments.bank_credits.providers import casso
from payments.models import Channel, Payment, WebhookDelivery
from tests.payments.bank_credits.webhooks_support import (
    CASSO_KEY,
    casso_body,
    casso_post,
    provider_keys,  # noqa: F401  (fixture)
)

pytestmark = pytest.mark.usefixtures("provider_keys")


def test_it_signs_like_cassos_published_sample() -> None:
    # github.com/CassoHQ/casso-webhook-v2-verify-signature (python.py): body, key, header.
    body = {
        "error": 0,
        "data": {
            "id": 0,
            "reference": "MA_GIAO_DICH_THU_NGHIEM",
            "description": "giao dich thu nghiem",
            "amount": 599000,
            "runningBalance": 25000000,
            "transactionDateTime": "2024-10-03 15:06:37",
            "accountNumber": "88888888",
            "bankName": "VPBank",
            "bankAbbreviation": "VPB",
            "virtualAccountNumber": "",
            "virtualAccountName": "",
            "counterAccountName": "NGUYEN VAN A",
            "counterAccountNumber": "8888888888",
            "counterAccountBankId": "970415",
            "counterAccountBankName": "VietinBank",
        },
    }
    key = "mgExMrjj4i7a1p8Cs6LmFbpCd8lbw4sSX4LZXPag7TKazeIogtR90tvWYTkwQbvs"

    assert casso.signature(key, "1727948258788", body) == (
        "ed0a4bd2e826d5cb69988cdb141e6c1a080e21f3b57eb72cd78192220042b9e7"
        "dde0868fc667faea8e224900fa7904e7c88dfa098032fb2d6b6996856e8b7ff3"
    )


def test_it_records_a_signed_credit_with_the_payer_masked(cast, client: Client) -> None:
    body = casso_body(description=f"CHO40 {cast.vendor.merchant_code} Chuyển tiền rau", amount=120_000, txn_id=4711)

    response = casso_post(client, body)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    payment = Payment.objects.get()
    assert payment.vendor == cast.vendor
    assert payment.channel == Channel.STATIC_QR
    assert (payment.source, payment.provider_txn_id, payment.amount) == ("casso", "4711", 120_000)
    assert payment.payer_masked == "TRAN THI MAI ••••3456"
    assert "0451000123456" not in payment.payer_masked
    assert payment.content.startswith("CHO40 ")


def test_it_accepts_the_ascii_escaped_spelling_of_vietnamese_text(cast, client: Client) -> None:
    # Casso's Python sample signs json.dumps' default (\\uXXXX escapes).
    import hashlib
    import hmac
    import json

    body = casso_body(description=f"CHO40 {cast.vendor.merchant_code} Chợ Đồng Quang")
    t = str(int(time.time() * 1000))
    message = f"{t}.{json.dumps(casso._canonical(body), separators=(',', ':'))}".encode()
    v1 = hmac.new(CASSO_KEY.encode(), message, hashlib.sha512).hexdigest()

    response = casso_post(client, body, header=f"t={t},v1={v1}")

    assert response.status_code == 200
    assert Payment.objects.count() == 1


def test_it_ignores_money_leaving_the_account(cast, client: Client) -> None:
    response = casso_post(client, casso_body(description="chuyen di", amount=-200_000))

    assert response.status_code == 200
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.IGNORED


@pytest.mark.parametrize("minutes", [-6, 6])
def test_it_refuses_a_timestamp_more_than_five_minutes_away(cast, client: Client, minutes: int) -> None:
    t_ms = int((time.time() + minutes * 60) * 1000)

    response = casso_post(client, casso_body(description=f"CHO40 {cast.vendor.merchant_code}"), t_ms=t_ms)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "stale_signature"
    assert not Payment.objects.exists()


def test_it_refuses_a_signature_made_with_another_key(cast, client: Client) -> None:
    response = casso_post(client, casso_body(description=f"CHO40 {cast.vendor.merchant_code}"), key="not-the-key")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert not Payment.objects.exists()
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.REJECTED


def test_it_refuses_a_body_changed_after_signing(cast, client: Client) -> None:
    body = casso_body(description=f"CHO40 {cast.vendor.merchant_code}", amount=10_000)
    header = casso.signature_header(CASSO_KEY, str(int(time.time() * 1000)), body)
    body["data"]["amount"] = 9_000_000

    response = casso_post(client, body, header=header)

    assert response.status_code == 403
    assert not Payment.objects.exists()


@pytest.mark.parametrize("header", ["", "v1=abc", "t=soon,v1=abc"])
def test_it_refuses_a_missing_or_garbled_signature_header(cast, client: Client, header: str) -> None:
    response = casso_post(client, casso_body(description=f"CHO40 {cast.vendor.merchant_code}"), header=header)

    assert response.status_code == (401 if header == "" else 403)
    assert not Payment.objects.exists()


def test_it_answers_503_without_a_checksum_key(cast, client: Client, settings) -> None:
    settings.CASSO_CHECKSUM_KEY = ""

    response = casso_post(client, casso_body(description="x"))

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "webhook_not_configured"


def test_it_answers_400_for_a_webhook_v1_body(cast, client: Client) -> None:
    body = {"error": 0, "data": [casso_body(description="x")["data"]]}

    response = casso_post(client, body)

    assert response.status_code == 400
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.FAILED
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("header", "code"),
    [("t=²,v1=ab", "bad_signature"), ("t=99999999999999999999,v1=ab", "stale_signature")],
)
def test_it_refuses_a_timestamp_no_clock_could_show_without_a_server_error(cast, client, header, code) -> None:
    response = casso_post(client, casso_body(description=f"CHO40 {cast.vendor.merchant_code}"), header=header)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == code
    assert not Payment.objects.exists()
