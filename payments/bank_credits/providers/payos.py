"""payOS (payos.vn): one POST per paid transfer, signed inside the body.

Body::

    {"code": "00", "desc": "success", "success": true,
     "data": {"orderCode": 123, "amount": 3000, "description": "CHO40 12345674",
              "accountNumber": "12345678", "reference": "TF230204212323",
              "transactionDateTime": "2023-02-04 18:25:00", "currency": "VND",
              "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18", "code": "00", "desc": "Thành công",
              "counterAccountBankId": "", "counterAccountBankName": "", "counterAccountName": "",
              "counterAccountNumber": "", "virtualAccountName": "", "virtualAccountNumber": ""},
     "signature": "<hex>"}

``signature`` is the hex HMAC-SHA256 with ``PAYOS_CHECKSUM_KEY`` over ``data``
written as ``key=value`` pairs sorted by key and joined with ``&``. Values are
written as payOS's own SDK (payos-lib-node, ``convertObjToQueryStr``) writes
them, because that is what their server signs with:

- ``null`` (and the strings ``"null"``/``"undefined"``) → empty string;
- booleans → ``true``/``false``; numbers → JavaScript's spelling (``2000``, ``1.5``);
- arrays → compact JSON, each object inside with its top-level keys sorted,
  non-ASCII text unescaped;
- a nested object → ``[object Object]`` (JavaScript's string of an object;
  payOS's webhook data has none);
- strings as they are, not URL-encoded.

There is no timestamp: a replayed delivery is harmless because the payment it
carries is recorded once per (source, provider transaction id).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
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
    as_txn_id,
    bank_time,
    require_object,
    same_digest,
    storable,
)

SOURCE = "payos"
SUCCESS_REPLY: dict[str, Any] = {"error": 0, "message": "Ok", "data": None}

# The sample transaction payOS posts when a webhook URL is registered
# ("confirm webhook"); answered with success, recorded as ignored.
_SAMPLE_PAYMENT_LINK_ID = "124c33293c43417ab7879e14c8d9eb18"


def _js_value(value: Any) -> Any:
    """Whole floats as integers, as JavaScript numbers print."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_js_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _js_value(item) for key, item in value.items()}
    return value


def _field(value: Any) -> str:
    if value is None or value in ("null", "undefined"):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [
            {key: item[key] for key in sorted(item)} if isinstance(item, dict) else item for item in _js_value(value)
        ]
        return json.dumps(items, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, dict):
        return "[object Object]"
    return str(_js_value(value))


def signing_string(data: Mapping[str, Any]) -> str:
    return "&".join(f"{key}={_field(data[key])}" for key in sorted(data))


def signature(key: str, data: Mapping[str, Any]) -> str:
    # A lone surrogate (JSON can spell one, "\ud800") has no UTF-8 form; Node,
    # where payOS signs, writes it as U+FFFD, and so do we.
    message = storable(signing_string(data)).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def verify(*, headers: Mapping[str, str], body: bytes, payload: Any, now: dt.datetime) -> None:
    key: str = settings.PAYOS_CHECKSUM_KEY
    if not key:
        raise NotConfigured("payOS webhooks are not configured (PAYOS_CHECKSUM_KEY).")
    envelope = require_object(payload, "body")
    received = envelope.get("signature")
    if not isinstance(received, str) or not received:
        raise MissingCredentials("payOS deliveries must carry a signature in the body.")
    data = require_object(envelope.get("data"), "data")
    if not same_digest(signature(key, data), received):
        raise BadSignature("The payOS signature does not match.")


def _whole(value: Any) -> Any:
    """A whole float as the integer it is (so that 7.0 and 7 read alike)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def parse(payload: Any, *, received_at: dt.datetime | None = None) -> BankCredit:
    envelope = require_object(payload, "body")
    data = require_object(envelope.get("data"), "data")
    currency = as_text(data.get("currency"), 8).upper()
    if currency and currency != "VND":
        raise MalformedPayload(f"Only VND is supported, got {currency}.")
    amount = as_amount(data.get("amount"), "data.amount")
    if amount <= 0:
        raise MalformedPayload("data.amount must be positive.")
    # orderCode is an integer in payOS's API (normalised: 42, 42.0, "42" and
    # "042" are one order); the bank reference is text (surrounding spaces dropped).
    order_code = as_int_id(data.get("orderCode"), "data.orderCode")
    reference = as_text(_whole(data.get("reference")), 64)
    link = as_text(_whole(data.get("paymentLinkId")), 64)
    # The bank reference identifies the transfer; the order code keeps two
    # banks' references apart. Retries of one transfer carry the same pair.
    txn_id = as_txn_id(f"{order_code}:{reference}" if reference else f"{order_code}:{link}", "data.reference")
    occurred_at, unreadable_time = bank_time(
        data.get("transactionDateTime"), "data.transactionDateTime", received_at=received_at or timezone.now()
    )
    ignore = ""
    if as_text(envelope.get("code"), 8) not in ("", "00") or as_text(data.get("code"), 8) not in ("", "00"):
        ignore = "payOS reports the transfer as not successful"
    elif link == _SAMPLE_PAYMENT_LINK_ID:
        ignore = "payOS sample delivery (webhook URL confirmation)"
    return BankCredit(
        source=SOURCE,
        provider_txn_id=txn_id,
        direction="in",
        amount=amount,
        account_number=as_text(data.get("accountNumber"), 32),
        sub_account=as_text(data.get("virtualAccountNumber"), 32),
        content=as_text(data.get("description"), 255),
        provider_reference=reference,
        occurred_at=occurred_at,
        unreadable_time=unreadable_time,
        payer_name=as_text(data.get("counterAccountName"), 64),
        payer_account=as_text(data.get("counterAccountNumber"), 32),
        ignore_reason=ignore,
    )
