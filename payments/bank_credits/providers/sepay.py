"""SePay (sepay.vn): one POST per bank transaction, in or out.

Body::

    {"id": 92704, "gateway": "Vietcombank", "transactionDate": "2023-03-25 14:02:37",
     "accountNumber": "0123499999", "subAccount": null, "code": null,
     "content": "CHO40 12345674 rau", "transferType": "in", "transferAmount": 2277000,
     "accumulated": 19077000, "referenceCode": "MBVCB.3278907687", "description": "..."}

Authentication, whichever the webhook was created with in SePay:

- API key: ``Authorization: Apikey <SEPAY_API_KEY>``;
- HMAC-SHA256: ``X-SePay-Timestamp: <unix seconds>`` and
  ``X-SePay-Signature: sha256=<hex>``, the hex HMAC-SHA256 with
  ``SEPAY_WEBHOOK_SECRET`` over ``"<timestamp>.<raw body>"``; a timestamp more
  than 5 minutes from our clock is refused.

SePay expects ``{"success": true}`` with HTTP 200/201 and otherwise retries
(up to 7 times over about 33 minutes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone

from payments.bank_credits.providers.base import (
    BadSignature,
    BankCredit,
    MalformedPayload,
    MissingCredentials,
    NotConfigured,
    as_amount,
    as_int_id,
    as_text,
    bank_time,
    check_freshness,
    require_object,
    same_digest,
    signed_at,
)

SOURCE = "sepay"
SUCCESS_REPLY: dict[str, Any] = {"success": True}


def hmac_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of ``X-SePay-Signature`` for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(*, headers: Mapping[str, str], body: bytes, payload: Any, now: dt.datetime) -> None:
    api_key: str = settings.SEPAY_API_KEY
    secret: str = settings.SEPAY_WEBHOOK_SECRET
    if not api_key and not secret:
        raise NotConfigured("SePay webhooks are not configured (SEPAY_API_KEY / SEPAY_WEBHOOK_SECRET).")

    signature = headers.get("X-SePay-Signature", "")
    if signature and secret:
        timestamp = headers.get("X-SePay-Timestamp", "").strip()
        if not timestamp:
            raise MissingCredentials("X-SePay-Timestamp is missing.")
        check_freshness(signed_at(timestamp), now)
        received = signature.strip()
        if received.lower().startswith("sha256="):
            received = received[len("sha256=") :]
        expected = hmac_signature(secret, timestamp, body)[len("sha256=") :]
        if not same_digest(expected, received):
            raise BadSignature("The SePay signature does not match.")
        return

    authorization = headers.get("Authorization", "")
    if authorization and api_key:
        scheme, _, key = authorization.strip().partition(" ")
        if scheme.lower() != "apikey" or not hmac.compare_digest(key.strip().encode(), api_key.encode()):
            raise BadSignature("The SePay API key does not match.")
        return

    accepted = " or ".join(
        name for name, on in (("Authorization: Apikey", api_key), ("X-SePay-Signature", secret)) if on
    )
    raise MissingCredentials(f"SePay deliveries must carry {accepted}.")


def parse(payload: Any, *, received_at: dt.datetime | None = None) -> BankCredit:
    data = require_object(payload, "body")
    direction = as_text(data.get("transferType"), 8).lower()
    if direction not in ("in", "out"):
        raise MalformedPayload("transferType must be 'in' or 'out'.")
    amount = as_amount(data.get("transferAmount"), "transferAmount")
    if amount <= 0:
        raise MalformedPayload("transferAmount must be positive.")
    extra = " ".join(t for t in (as_text(data.get("code"), 64), as_text(data.get("description"), 500)) if t)
    occurred_at, unreadable_time = bank_time(
        data.get("transactionDate"), "transactionDate", received_at=received_at or timezone.now()
    )
    return BankCredit(
        source=SOURCE,
        provider_txn_id=as_int_id(data.get("id"), "id"),
        direction="in" if direction == "in" else "out",
        amount=amount,
        account_number=as_text(data.get("accountNumber"), 32),
        sub_account=as_text(data.get("subAccount"), 32),
        bank=as_text(data.get("gateway"), 64),
        content=as_text(data.get("content"), 255),
        extra_text=extra,
        provider_reference=as_text(data.get("referenceCode"), 64),
        occurred_at=occurred_at,
        unreadable_time=unreadable_time,
        ignore_reason="" if direction == "in" else "outgoing debit",
    )
