"""What every provider module turns a delivery into, and how it says no.

A provider module (``sepay``, ``casso``, ``payos``) knows one aggregator's wire
format and signature scheme and nothing about our models: it verifies a raw
request and parses it into a :class:`BankCredit`. The ingest service
(``payments.bank_credits.ingest``) does the storing, de-duplication and attribution.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import re
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
    # Set by the ingest service when the delivery was refused before its
    # signature was proven (it then counts against the sender's address).
    unverified = False

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


class PayloadTooLarge(WebhookError):
    """Larger than any delivery a provider sends (``WEBHOOK_MAX_BODY_BYTES``):
    refused before it is read, and not stored."""

    status = 413
    code = "payload_too_large"


class TooManyRefusals(WebhookError):
    """This address has had too many deliveries refused lately, and this one
    fails verification too: answered without being stored."""

    status = 429
    code = "too_many_refusals"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)  # slots: half the cost of making one (one per delivery)
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
    # The provider's transaction time as sent, when it could not be read or is
    # no plausible time: ``occurred_at`` is then the time we received it, and
    # the payment is flagged for the board (never refused: the money arrived).
    unreadable_time: str = ""

    @property
    def search_text(self) -> str:
        return f"{self.content} {self.extra_text}" if self.extra_text else self.content


class Provider(Protocol):
    """The interface of a provider module."""

    SOURCE: str
    SUCCESS_REPLY: dict[str, Any]

    def verify(self, *, headers: Mapping[str, str], body: bytes, payload: Any, now: dt.datetime) -> None: ...

    def parse(self, payload: Any, *, received_at: dt.datetime | None = None) -> BankCredit: ...


# --- helpers shared by the provider modules -------------------------------------


def load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"Body is not JSON: {exc}") from None
    except RecursionError:  # arrays or objects nested thousands deep
        raise MalformedPayload("Body is not JSON: nested too deeply.") from None


# What PostgreSQL cannot keep in a text or jsonb column (NUL), and what cannot
# be written as UTF-8 at all (a lone surrogate, which JSON can spell "\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """``text`` with every character no database column can hold (NUL, lone
    surrogates) replaced by U+FFFD, the Unicode replacement character."""
    if text.isascii() and "\x00" not in text:  # nearly every field: no regex pass
        return text
    return _UNSTORABLE.sub("\ufffd", text)


def require_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} must be a JSON object.")
    return value


def same_digest(expected: str, received: str) -> bool:
    """Constant-time comparison of two hex digests (case-insensitive)."""
    return hmac.compare_digest(expected.lower().encode(), received.strip().lower().encode())


def as_text(value: Any, limit: int) -> str:
    """A provider string field: None becomes "", numbers become text, cut to
    ``limit``; characters no column can hold are replaced (``storable``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return storable(str(value).strip()[:limit])


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


# The transaction ids SePay and Casso document as integers, and payOS's
# orderCode, are positive and fit a signed 64-bit integer.
MAX_ID = 2**63 - 1


def as_int_id(value: Any, field: str) -> str:
    """A transaction id the provider documents as an integer, in its one
    canonical spelling (decimal digits, no sign, no leading zero), so that one
    transaction is one (source, provider_txn_id) however it was written.

    The same number in another JSON form is the same transaction and is
    normalised: ``123``, ``123.0`` (JavaScript has one number type), ``"123"``,
    ``" 123 "`` and ``"0123"`` are all ``"123"``. Anything that is not a whole
    number from 1 to 2**63-1 (a fraction, a sign, a boolean, NaN, other digits
    than ASCII, text, a list…) is refused: it is no id the provider sends.
    """
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 40:
            number = int(text)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise MalformedPayload(f"{field} is required.")
    if number is None or not 0 < number <= MAX_ID:
        raise MalformedPayload(f"{field} must be a positive whole number.")
    return str(number)


# A bank credit's time is taken as given when it lies in this span; otherwise
# (and when it is not a time at all) the time it reached us stands in for it.
EARLIEST_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FUTURE_TOLERANCE = dt.timedelta(days=1)


def parse_local_time(value: Any, field: str) -> dt.datetime:
    """``"2024-05-25 21:11:00"`` (Vietnam wall-clock time, as banks report it)
    or an ISO time with an offset → aware UTC datetime. ``MalformedPayload``
    when it is not a time or lies outside what a datetime can hold."""
    if not isinstance(value, str) or not value.strip():
        raise MalformedPayload(f"{field} is required.")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=VIETNAM)
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise MalformedPayload(f"{field} is not a date and time: {value!r}.") from None


def bank_time(value: Any, field: str, *, received_at: dt.datetime) -> tuple[dt.datetime, str]:
    """The transaction time of a credit, and "" — or, when ``value`` is
    missing, unreadable or no plausible time (before 2000, or more than a day
    after ``received_at``), ``received_at`` and the value as sent (as storable
    text, at most 64 characters), for the board to look at."""
    try:
        moment = parse_local_time(value, field)
    except MalformedPayload:
        moment = None
    if moment is not None and EARLIEST_TIME <= moment <= received_at + FUTURE_TOLERANCE:
        return moment, ""
    try:
        shown = value if isinstance(value, str) else json.dumps(value)
    except (ValueError, TypeError, RecursionError):
        shown = type(value).__name__
    return received_at, storable(shown[:64]) or "(empty)"


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
