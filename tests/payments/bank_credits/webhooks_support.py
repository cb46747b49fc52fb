"""Signed deliveries in each aggregator's real format, for the webhook tests.

Each ``*_post`` signs exactly as the provider documents it (see
``docs/webhooks.md``) and posts the raw JSON bytes through the test client.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from django.test import Client

from payments.bank_credits.providers import casso, payos, sepay

SEPAY_API_KEY = "test-sepay-api-key"
SEPAY_SECRET = "test-sepay-hmac-secret"
CASSO_KEY = "test-casso-checksum-key"
PAYOS_KEY = "test-payos-checksum-key"

SEPAY_URL = "/api/v1/webhooks/sepay/"
CASSO_URL = "/api/v1/webhooks/casso/"
PAYOS_URL = "/api/v1/webhooks/payos/"

_ids = itertools.count(900_001)


@pytest.fixture
def provider_keys(settings: Any) -> None:
    settings.SEPAY_API_KEY = SEPAY_API_KEY
    settings.SEPAY_WEBHOOK_SECRET = SEPAY_SECRET
    settings.CASSO_CHECKSUM_KEY = CASSO_KEY
    settings.PAYOS_CHECKSUM_KEY = PAYOS_KEY


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


# --- SePay ---------------------------------------------------------------------


def sepay_body(
    *,
    content: str,
    amount: int = 50_000,
    account: str = "0000000000",
    txn_id: int | None = None,
    transfer_type: str = "in",
    when: str = "2025-03-01 08:15:00",
    gateway: str = "Vietcombank",
) -> dict[str, Any]:
    return {
        "id": txn_id if txn_id is not None else next(_ids),
        "gateway": gateway,
        "transactionDate": when,
        "accountNumber": account,
        "subAccount": None,
        "code": None,
        "content": content,
        "transferType": transfer_type,
        "transferAmount": amount,
        "accumulated": 10_000_000,
        "referenceCode": "FT25060123456",
        "description": f"BankAPINotify {content}",
    }


def sepay_post(
    client: Client,
    body: Any,
    *,
    auth: str = "apikey",
    key: str = SEPAY_API_KEY,
    secret: str = SEPAY_SECRET,
    timestamp: int | None = None,
    raw: bytes | None = None,
) -> Any:
    data = raw if raw is not None else encode(body)
    headers: dict[str, str] = {}
    if auth == "apikey":
        headers["Authorization"] = f"Apikey {key}"
    elif auth == "hmac":
        ts = str(timestamp if timestamp is not None else int(time.time()))
        headers["X-SePay-Timestamp"] = ts
        headers["X-SePay-Signature"] = sepay.hmac_signature(secret, ts, data)
    return client.post(SEPAY_URL, data=data, content_type="application/json", headers=headers)


# --- Casso ---------------------------------------------------------------------


def casso_body(
    *,
    description: str,
    amount: int = 50_000,
    account: str = "0000000000",
    txn_id: int | None = None,
    when: str = "2025-03-01 08:15:00",
) -> dict[str, Any]:
    return {
        "error": 0,
        "data": {
            "id": txn_id if txn_id is not None else next(_ids),
            "reference": "FT25060999999",
            "description": description,
            "amount": amount,
            "runningBalance": 25_000_000,
            "transactionDateTime": when,
            "accountNumber": account,
            "bankName": "Vietcombank",
            "bankAbbreviation": "VCB",
            "virtualAccountNumber": "",
            "virtualAccountName": "",
            "counterAccountName": "TRAN THI MAI",
            "counterAccountNumber": "0451000123456",
            "counterAccountBankId": "970415",
            "counterAccountBankName": "VietinBank",
        },
    }


def casso_post(
    client: Client,
    body: Any,
    *,
    key: str = CASSO_KEY,
    t_ms: int | None = None,
    header: str | None = None,
    raw: bytes | None = None,
) -> Any:
    data = raw if raw is not None else encode(body)
    if header is None:
        ts = str(t_ms if t_ms is not None else int(time.time() * 1000))
        header = casso.signature_header(key, ts, body)
    headers = {"X-Casso-Signature": header} if header else {}
    return client.post(CASSO_URL, data=data, content_type="application/json", headers=headers)


# --- payOS -----------------------------------------------------------------------


def payos_body(
    *,
    description: str,
    amount: int = 50_000,
    account: str = "0000000000",
    order_code: int | None = None,
    reference: str = "FT25060777777",
    when: str = "2025-03-01 08:15:00",
    key: str = PAYOS_KEY,
    code: str = "00",
) -> dict[str, Any]:
    data = {
        "orderCode": order_code if order_code is not None else next(_ids),
        "amount": amount,
        "description": description,
        "accountNumber": account,
        "reference": reference,
        "transactionDateTime": when,
        "currency": "VND",
        "paymentLinkId": "b6f0e1f5a7c84d4f9d1b0c3e2a4f5d6e",
        "code": code,
        "desc": "Thành công",
        "counterAccountBankId": "970418",
        "counterAccountBankName": "BIDV",
        "counterAccountName": "LE VAN HUNG",
        "counterAccountNumber": "21510000987654",
        "virtualAccountName": "",
        "virtualAccountNumber": "",
    }
    return {
        "code": code,
        "desc": "success",
        "success": code == "00",
        "data": data,
        "signature": payos.signature(key, data),
    }


def payos_post(client: Client, body: Any, *, raw: bytes | None = None) -> Any:
    data = raw if raw is not None else encode(body)
    return client.post(PAYOS_URL, data=data, content_type="application/json")
