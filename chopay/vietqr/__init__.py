"""VietQR codec: NAPAS 247 QR, the Vietnamese profile of EMVCo merchant-presented QR.

Pure Python, no Django import, so it can run in API views, Celery workers,
management commands and the benchmark alike.

A payload is a run of TLV fields (2-digit id, 2-digit length, value); the
templates 38 (merchant account) and 62 (additional data) nest the same rule.
The last field is always ``63`` holding a CRC-16/CCITT-FALSE over every UTF-8
byte before it, including the literal ``6304``.

``encode`` folds Vietnamese text to ASCII, validates every field and emits the
canonical layout. ``decode`` is strict: it checks TLV lengths at every nesting
level, verifies the CRC and the NAPAS GUID, and raises ``VietQRError`` with a
machine-readable ``code``. A few quirks that bank apps still accept are decoded
with a note in ``VietQR.warnings`` instead of an error.

Import everything from ``chopay.vietqr``; the private modules only split the
code: ``_fields`` (tags, limits, ``VietQR``, ``VietQRError``, CRC, field
checks), ``_decode`` (``decode`` and the strict parser), ``_decode_fast``
(the fast path for canonical payloads). ``encode`` is here.
"""

from __future__ import annotations

import binascii
import re
from typing import Final

from chopay.text import fold_ascii
from chopay.vietqr._decode import decode
from chopay.vietqr._fields import (
    _LEN,
    COUNTRY_VN,
    CURRENCY_VND,
    DYNAMIC,
    ERROR_CODES,
    MAX_ACCOUNT_LEN,
    MAX_ADDITIONAL_LEN,
    MAX_AMOUNT,
    MAX_CITY_LEN,
    MAX_NAME_LEN,
    MAX_TLV_LEN,
    NAPAS_GUID,
    SERVICE_CODES,
    STATIC,
    ErrorCode,
    VietQR,
    VietQRError,
    _check_account,
    _check_bin,
    _check_country,
    _check_currency,
    _check_mcc,
    _service_error,
    _too_long,
    crc16_ccitt_false,
    crc16_ccitt_table,
)

__all__ = [
    "COUNTRY_VN",
    "CURRENCY_VND",
    "DYNAMIC",
    "ERROR_CODES",
    "MAX_ACCOUNT_LEN",
    "MAX_ADDITIONAL_LEN",
    "MAX_AMOUNT",
    "MAX_CITY_LEN",
    "MAX_NAME_LEN",
    "MAX_TLV_LEN",
    "NAPAS_GUID",
    "SERVICE_CODES",
    "STATIC",
    "ErrorCode",
    "VietQR",
    "VietQRError",
    "crc16_ccitt_false",
    "crc16_ccitt_table",
    "decode",
    "encode",
    "fit_purpose",
]


# --------------------------------------------------------------------------
# Text fields


def fit_purpose(text: str) -> str:
    """Fold ``text``, collapse whitespace and cut it to the 25-character limit.

    For callers that prefer a shortened transfer content to a
    ``field_too_long`` error. May return "" (e.g. for an emoji-only input);
    pass ``None`` as the purpose in that case.
    """
    return " ".join(fold_ascii(text).split())[:MAX_ADDITIONAL_LEN].rstrip()


# --------------------------------------------------------------------------
# Encoding


def _text_tlv(tag: str, value: str, field: str, limit: int) -> str:
    """Fold ``value`` to ASCII, check its length and return it as a TLV."""
    if not (value.isascii() and value.isprintable()):
        value = fold_ascii(value)
    if not value:
        # A zero-length TLV is invalid, and silently dropping what the caller
        # asked for would hide a bug; None is the way to say "no value".
        raise VietQRError("invalid_field", f"{field} is empty (after folding to ASCII)", field=field)
    if len(value) > limit:
        raise _too_long(field, value, limit)
    return tag + _LEN[len(value)] + value


# Tag 38's sub-field 02 for each service code; a miss is an invalid code.
_SERVICE_TLV: Final = {code: "02" + _LEN[len(code)] + code for code in SERVICE_CODES}
# Bank BIN and account number checked in one call: "970403|0011012345678".
# "|" matches neither side, so this is exactly _check_bin and _check_account.
_valid_bin_and_account = re.compile(f"[0-9]{{6}}\\|[0-9A-Za-z]{{1,{MAX_ACCOUNT_LEN}}}").fullmatch
# Upper-case hex of a byte: two lookups format a CRC for a fraction of the
# cost of f"{crc:04X}".
_HEX2: Final = tuple(f"{n:02X}" for n in range(256))
_crc_hqx = binascii.crc_hqx


def encode(qr: VietQR) -> str:
    """Build the canonical payload for ``qr``, CRC included.

    Text fields are folded to ASCII before their limits are checked; over-long
    values are refused (``field_too_long``), never cut. ``qr.warnings`` is
    ignored. Raises ``VietQRError``.
    """
    # Hot path: each check is one inline test, and the _check_* helpers run
    # only to raise the precise error, in the documented order.
    bank_bin = qr.bank_bin
    account = qr.account_number
    if _valid_bin_and_account(bank_bin + "|" + account) is None:
        _check_bin(bank_bin)
        _check_account(account)
    service = _SERVICE_TLV.get(qr.service_code)
    if service is None:
        raise _service_error(qr.service_code)
    if qr.currency != CURRENCY_VND:
        _check_currency(qr.currency)
    if qr.country != COUNTRY_VN:
        _check_country(qr.country)

    # 38 = "0010" GUID (14) "01"LL (4) beneficiary (14 + account) service TLV.
    size = len(account)
    amount = qr.amount
    body = (
        f"{'000201010211' if amount is None else '000201010212'}38{_LEN[size + 32 + len(service)]}"
        f"0010{NAPAS_GUID}01{_LEN[size + 14]}0006{bank_bin}01{_LEN[size]}{account}{service}"
    )
    if qr.mcc is not None:
        _check_mcc(qr.mcc)
        body += "5204" + qr.mcc
    if amount is None:
        body += "53037045802VN"
    else:
        # type() rather than isinstance(): bool is an int and True is not 1 đồng.
        if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
            raise VietQRError(
                "invalid_amount",
                f"amount must be a whole number of dong from 1 to {MAX_AMOUNT}, got {amount!r}",
                field="amount",
            )
        text = str(amount)  # never "1000.0": amounts are ints by construction
        body += f"530370454{_LEN[len(text)]}{text}5802VN"
    if qr.merchant_name is not None:
        body += _text_tlv("59", qr.merchant_name, "merchant_name", MAX_NAME_LEN)
    if qr.merchant_city is not None:
        body += _text_tlv("60", qr.merchant_city, "merchant_city", MAX_CITY_LEN)

    # Unrolled (rather than a loop over _ADDITIONAL_FIELDS with getattr):
    # most of the six are None and a test of each costs next to nothing.
    additional = ""
    if qr.bill_number is not None:
        additional += _text_tlv("01", qr.bill_number, "bill_number", MAX_ADDITIONAL_LEN)
    if qr.mobile_number is not None:
        additional += _text_tlv("02", qr.mobile_number, "mobile_number", MAX_ADDITIONAL_LEN)
    if qr.store_label is not None:
        additional += _text_tlv("03", qr.store_label, "store_label", MAX_ADDITIONAL_LEN)
    if qr.reference_label is not None:
        additional += _text_tlv("05", qr.reference_label, "reference_label", MAX_ADDITIONAL_LEN)
    if qr.terminal_label is not None:
        additional += _text_tlv("07", qr.terminal_label, "terminal_label", MAX_ADDITIONAL_LEN)
    if qr.purpose is not None:
        additional += _text_tlv("08", qr.purpose, "purpose", MAX_ADDITIONAL_LEN)
    if additional:
        if len(additional) > MAX_TLV_LEN:
            # Six sub-fields of 25 characters do not fit in one template.
            raise VietQRError(
                "field_too_long",
                f"additional data (tag 62) totals {len(additional)} characters, at most {MAX_TLV_LEN} fit",
                field="62",
            )
        body += "62" + _LEN[len(additional)] + additional

    body += "6304"
    crc = _crc_hqx(body.encode(), 0xFFFF)  # ASCII by now: every field is checked or folded
    # In-place appends: CPython grows a string nothing else refers to.
    body += _HEX2[crc >> 8]
    body += _HEX2[crc & 0xFF]
    return body
