"""What every provider module turns a delivery into, and how it says no.

A provider module (``sepay``, ``casso``, ``payos``) knows one aggregator's wire
format and signature scheme and nothing about our models: it verifies a raw
request and parses it into a :class:`BankCredit`. The ingest service
(``payments.services.ingest``) does the storing, de-duplication and attribution.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

# Aggregators report bank times as naive local wall-clock time ("2024-05-25 21:11:00").
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
# Signed timestamps further than this from our clock are refused (replays).
SIGNATURE_TOLERANCE = dt.timedelta(minutes=5)


class WebhookError(Exception):
    """A delivery we refuse; ``status`` and ``code`` become the HTTP answer."""

    status = 400
    code = "invalid_webhook"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotConfigured(WebhookError):
    """The provider's key is not set: refuse everything rather than trust anyone."""

    status = 503
    code = "webhook_not_configured"


class MissingCredentials(WebhookError):
    status = 401
    code = "missing_signature"


class BadSignature(WebhookError):
    status = 403
    code = "bad_signature"


class StaleSignature(BadSignature):
    code = "stale_signature"


class MalformedPayload(WebhookError):
    status = 400
    code = "malformed_payload"


@dataclass(frozen=True)
class BankCredit:
    """One bank transaction as an aggregator reported it, in our terms."""

    source: str
    provider_txn_id: str
    direction: Literal["in", "out"]
    amount: int  # đồng, always positive; ``direction`` says which way it went
    account_number: str  # the account that received (or sent) the money
    content: str  # the transfer content the payer typed or the QR carried
    occurred_at: dt.datetime  # aware, UTC
    provider_reference: str = ""  # the bank's own reference (FT…)
    bank: str = ""  # bank name or code as the provider spells it, if it says
    sub_account: str = ""  # virtual account, if any
    payer_name: str = ""
    payer_account: str = ""
    # Other text the provider sends that may carry a reference (SePay's detected
    # ``code``, the bank's full description); searched, never stored as content.
    extra_text: str = ""
    ignore_reason: str = ""  # set when the delivery is genuine but carries no credit to record

    @property
    def search_text(self) -> str:
        return f"{self.content} {self.extra_text}" if self.extra_text else self.content


class Provider(Protocol):
    """The interface of a provider module."""

    SOURCE: str
    SUCCESS_REPLY: dict[str, Any]

    def verify(self, *, headers: Mapping[str, str], body: bytes, payload: Any, now: dt.datetime) -> None: ...

    def parse(self, payload: Any) -> BankCredit: ...


# --- helpers shared by the provider modules -------------------------------------


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"Body is not JSON: {exc}") from None


def require_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} must be a JSON object.")
    return value


def same_digest(expected: str, received: str) -> bool:
    """Constant-time comparison of two hex digests (case-insensitive)."""
    return hmac.compare_digest(expected.lower().encode(), received.strip().lower().encode())


def as_text(value: Any, limit: int) -> str:
    """A provider string field: None becomes "", numbers become text, cut to ``limit``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).strip()[:limit]


# No bank transfer comes near this (a quadrillion đồng); past it a number is
# an error, and it would not fit the database's bigint anyway.
MAX_AMOUNT = 10**15


def as_amount(value: Any, field: str) -> int:
    """An amount in đồng. Providers send JSON numbers; a float with a fraction
    or a non-number is refused rather than rounded (money is never guessed)."""
    amount: int | None = None
    if isinstance(value, bool):
        raise MalformedPayload(f"{field} must be a number of đồng.")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float) and value.is_integer():
        amount = int(value)
    elif isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:
            amount = int(text)
    if amount is None:
        raise MalformedPayload(f"{field} must be a whole number of đồng, got {value!r}."[:300])
    if abs(amount) >= MAX_AMOUNT:
        raise MalformedPayload(f"{field} is not a plausible amount of đồng.")
    return amount


def as_txn_id(value: Any, field: str) -> str:
    text = as_text(value, 1000)
    if not text:
        raise MalformedPayload(f"{field} is required.")
    if len(text) > 64:
        raise MalformedPayload(f"{field} is longer than 64 characters.")
    return text


def parse_local_time(value: Any, field: str) -> dt.datetime:
    """``"2024-05-25 21:11:00"`` (Vietnam wall-clock time, as banks report it)
    or an ISO time with an offset → aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(f"{field} is required.")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise MalformedPayload(f"{field} is not a date and time: {value!r}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(dt.UTC)


def signed_at(timestamp: str, *, per_second: int = 1) -> dt.datetime:
    """The instant of a signature's Unix timestamp (seconds; milliseconds with
    ``per_second=1000``). Not plain ASCII digits: refused as a bad signature;
    a number no clock could show: refused as stale."""
    text = timestamp.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        raise BadSignature("The signature timestamp is not a Unix time.")
    try:
        return dt.datetime.fromtimestamp(int(text) / per_second, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise StaleSignature("The signature timestamp is more than 5 minutes away from our clock.") from None


def check_freshness(signed_at: dt.datetime, now: dt.datetime) -> None:
    if abs(now - signed_at) > SIGNATURE_TOLERANCE:
        raise StaleSignature("The signature timestamp is more than 5 minutes away from our clock.")
