"""Casso (casso.vn), webhook v2: one POST per bank transaction.

Body::

    {"error": 0, "data": {"id": 0, "reference": "FT24277…", "description": "CHO40 12345674",
     "amount": 599000, "runningBalance": 25000000, "transactionDateTime": "2024-10-03 15:06:37",
     "accountNumber": "88888888", "bankName": "VPBank", "bankAbbreviation": "VPB",
     "virtualAccountNumber": "", "virtualAccountName": "", "counterAccountName": "NGUYEN VAN A",
     "counterAccountNumber": "8888888888", "counterAccountBankId": "970415",
     "counterAccountBankName": "VietinBank"}}

``amount`` is negative for money leaving the account.

Signature: ``X-Casso-Signature: t=<ms since epoch>,v1=<hex>`` where ``v1`` is the
hex HMAC-SHA512 with ``CASSO_CHECKSUM_KEY`` over ``t + "." + JSON(body)``, the
JSON having every object's keys sorted (recursively) and no spaces. Casso's own
samples differ on non-ASCII text (their Python sample escapes it as ``\\uXXXX``,
JavaScript does not), so both spellings are accepted; either proves the key.
A ``t`` more than 5 minutes from our clock is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

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

SOURCE = "casso"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SUCCESS_REPLY: dict[str, Any] = {"success": True}


def _canonical(value: Any) -> Any:
    """Sort object keys at every level; write whole floats as integers, as
    JavaScript's JSON.stringify (Casso's side) does."""
    if isinstance(value, dict):
        return {key: _canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _message(timestamp: str, payload: Any, *, ensure_ascii: bool) -> bytes:
    body = json.dumps(_canonical(payload), separators=(",", ":"), ensure_ascii=ensure_ascii)
    # A lone surrogate (JSON can spell one, "\ud800") has no UTF-8 form;
    # JavaScript's JSON.stringify writes it as its escape, and so do we.
    body = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)
    return f"{timestamp}.{body}".encode()


def signature(key: str, timestamp: str, payload: Any) -> str:
    """The hex ``v1`` for ``payload`` signed at ``timestamp`` (ms)."""
    return hmac.new(key.encode(), _message(timestamp, payload, ensure_ascii=False), hashlib.sha512).hexdigest()


def signature_header(key: str, timestamp: str, payload: Any) -> str:
    return f"t={timestamp},v1={signature(key, timestamp, payload)}"


def _parse_header(value: str) -> tuple[str, str]:
    parts: dict[str, str] = {}
    for item in value.split(","):
        name, _, val = item.strip().partition("=")
        parts[name.strip()] = val.strip()
    timestamp, v1 = parts.get("t", ""), parts.get("v1", "")
    if not (timestamp.isascii() and timestamp.isdigit()) or not v1:
        raise BadSignature("X-Casso-Signature must look like t=<ms>,v1=<hex>.")
    return timestamp, v1


def verify(*, headers: Mapping[str, str], body: bytes, payload: Any, now: dt.datetime) -> None:
    key: str = settings.CASSO_CHECKSUM_KEY
    if not key:
        raise NotConfigured("Casso webhooks are not configured (CASSO_CHECKSUM_KEY).")
    header = headers.get("X-Casso-Signature", "")
    if not header:
        raise MissingCredentials("Casso deliveries must carry X-Casso-Signature.")
    timestamp, received = _parse_header(header)
    check_freshness(signed_at(timestamp, per_second=1000), now)
    candidates = [_message(timestamp, payload, ensure_ascii=False)]
    if not candidates[0].isascii():
        candidates.append(_message(timestamp, payload, ensure_ascii=True))
    for message in candidates:
        if same_digest(hmac.new(key.encode(), message, hashlib.sha512).hexdigest(), received):
            return
    raise BadSignature("The Casso signature does not match.")


def parse(payload: Any, *, received_at: dt.datetime | None = None) -> BankCredit:
    body = require_object(payload, "body")
    data = body.get("data")
    if isinstance(data, list):
        raise MalformedPayload("This is a Casso webhook v1 body (data is a list); configure webhook v2.")
    data = require_object(data, "data")
    signed_amount = as_amount(data.get("amount"), "data.amount")
    if signed_amount == 0:
        raise MalformedPayload("data.amount must not be zero.")
    direction: Literal["in", "out"] = "in" if signed_amount > 0 else "out"
    occurred_at, unreadable_time = bank_time(
        data.get("transactionDateTime"), "data.transactionDateTime", received_at=received_at or timezone.now()
    )
    return BankCredit(
        source=SOURCE,
        provider_txn_id=as_int_id(data.get("id"), "data.id"),
        direction=direction,
        amount=abs(signed_amount),
        account_number=as_text(data.get("accountNumber"), 32),
        sub_account=as_text(data.get("virtualAccountNumber"), 32),
        bank=as_text(data.get("bankAbbreviation") or data.get("bankName"), 64),
        content=as_text(data.get("description"), 255),
        provider_reference=as_text(data.get("reference"), 64),
        occurred_at=occurred_at,
        unreadable_time=unreadable_time,
        payer_name=as_text(data.get("counterAccountName"), 64),
        payer_account=as_text(data.get("counterAccountNumber"), 32),
        ignore_reason="" if direction == "in" else "outgoing debit",
    )
