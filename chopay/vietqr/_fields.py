"""The VietQR data model: tags and limits, the error type, the ``VietQR``
value, the CRC and the field checks that ``encode`` and ``decode`` share.

Part of ``chopay.vietqr``; import from there.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from typing import Final, Literal, get_args

ErrorCode = Literal[
    "crc_mismatch",
    "malformed_tlv",
    "not_vietqr",
    "field_too_long",
    "missing_field",
    "invalid_amount",
    "unsupported_currency",
    "unsupported_country",
    "invalid_field",
]
ERROR_CODES: Final[frozenset[str]] = frozenset(get_args(ErrorCode))

NAPAS_GUID: Final = "A000000727"
SERVICE_CODES: Final[frozenset[str]] = frozenset({"QRIBFTTA", "QRIBFTTC", "QRPUSH", "QRCASH"})
CURRENCY_VND: Final = "704"
COUNTRY_VN: Final = "VN"

STATIC: Final = "11"
DYNAMIC: Final = "12"

MAX_AMOUNT: Final = 10**13 - 1  # 13 digits, the width of tag 54
MAX_ACCOUNT_LEN: Final = 19  # the longest card number (PAN)
MAX_NAME_LEN: Final = 25
MAX_CITY_LEN: Final = 15
MAX_ADDITIONAL_LEN: Final = 25  # every sub-field of 62, purpose included
MAX_TLV_LEN: Final = 99  # a 2-digit length cannot say more

# Top-level tags in the order NAPAS prints them. Since this is also ascending
# numeric order, "in order" simply means "each id greater than the last".
_TOP_ORDER: Final = ("00", "01", "38", "52", "53", "54", "58", "59", "60", "62", "63")
_KNOWN_TOP: Final = frozenset(_TOP_ORDER)
_KNOWN_38: Final = frozenset({"00", "01", "02"})
_KNOWN_38_01: Final = frozenset({"00", "01"})
# 62 sub-tags mapped to the VietQR attribute that carries them. 04 (loyalty)
# and 06 (customer label) exist in EMVCo but are not used by VietQR, so they
# decode as unknown tags with a warning.
_ADDITIONAL_FIELDS: Final = (
    ("01", "bill_number"),
    ("02", "mobile_number"),
    ("03", "store_label"),
    ("05", "reference_label"),
    ("07", "terminal_label"),
    ("08", "purpose"),
)
_ADDITIONAL_TAGS: Final = dict(_ADDITIONAL_FIELDS)
_KNOWN_62: Final = frozenset(_ADDITIONAL_TAGS)

# "00".."99", indexed by number: cheaper than formatting f"{n:02d}" per field.
_LEN: Final = tuple(f"{n:02d}" for n in range(100))
# Every valid 4-character TLV header ("3857") -> (id, length). One slice and
# one dict lookup per field both validate and split the header, about 30%
# faster than checking id and length apart; the table costs about 1.4 MB.
# (str.isdigit() and int() would also accept non-ASCII digits such as "٣".)
_HEADERS: Final[dict[str, tuple[str, int]]] = {
    tag + _LEN[length]: (tag, length) for tag in _LEN for length in range(1, 100)
}


class VietQRError(ValueError):
    """A payload or a VietQR value that cannot be encoded or decoded.

    ``code`` is one of ``ERROR_CODES`` and is stable for API clients;
    ``message`` is English for humans; ``field`` names the offending VietQR
    attribute (``"purpose"``) or, when there is none, the tag (``"62"``).
    """

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message
        self.field = field

    def __reduce__(self) -> tuple[object, ...]:
        # Exceptions pickle as cls(*args) by default, which would not match
        # this signature; Celery's pickle serializer and multiprocessing need it.
        return (_rebuild_error, (self.code, self.message, self.field))


def _rebuild_error(code: ErrorCode, message: str, field: str | None) -> VietQRError:
    return VietQRError(code, message, field=field)


@dataclass(frozen=True)
class VietQR:
    """The content of one VietQR payload.

    The point of initiation is not stored: a code is dynamic exactly when it
    carries an amount (see ``initiation``), so a static payload that carries
    an amount anyway decodes as dynamic, with the warning "amount_on_static".
    Amounts are whole đồng. Text fields hold what was decoded, or what the
    caller passed; ``encode`` folds them to ASCII. Nothing is validated until
    ``encode``. ``warnings`` is filled by ``decode`` for tolerated quirks.
    """

    bank_bin: str
    account_number: str
    service_code: str = "QRIBFTTA"
    amount: int | None = None
    bill_number: str | None = None
    mobile_number: str | None = None
    store_label: str | None = None
    reference_label: str | None = None
    terminal_label: str | None = None
    purpose: str | None = None
    mcc: str | None = None
    merchant_name: str | None = None
    merchant_city: str | None = None
    currency: str = CURRENCY_VND
    country: str = COUNTRY_VN
    warnings: tuple[str, ...] = ()

    @property
    def initiation(self) -> Literal["static", "dynamic"]:
        return "static" if self.amount is None else "dynamic"


# --------------------------------------------------------------------------
# CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final XOR.


def _make_crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE: Final = _make_crc_table()


def crc16_ccitt_table(data: bytes) -> int:
    """CRC-16/CCITT-FALSE with a 256-entry table, in pure Python.

    The reference implementation; the tests check ``crc16_ccitt_false``
    against it. It needs one Python loop step per byte: measured at 30-75
    times the cost of ``binascii.crc_hqx`` on a 130-byte payload, more than
    the whole rest of an encode and a decode together, hence the C path.
    """
    crc = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFF00) ^ table[(crc >> 8) ^ byte]
    return crc


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data``; ``crc16_ccitt_false(b"123456789") == 0x29B1``.

    ``binascii.crc_hqx`` is the same CRC (poly 0x1021, MSB first, no final
    XOR) written in C in the standard library; seeding it with 0xFFFF gives the
    CCITT-FALSE variant at a fraction of the cost of the table loop.
    """
    return binascii.crc_hqx(data, 0xFFFF)


# --------------------------------------------------------------------------
# Validation shared by encode and decode


def _check_bin(value: str) -> None:
    # isdigit() alone would accept non-ASCII digits such as "٣".
    if len(value) != 6 or not value.isdigit() or not value.isascii():
        raise VietQRError("invalid_field", f"bank BIN must be 6 digits, got {value!r}", field="bank_bin")


def _check_account(value: str) -> None:
    if 0 < len(value) <= MAX_ACCOUNT_LEN and value.isalnum() and value.isascii():
        return
    if not value:
        raise VietQRError("missing_field", "account number is empty", field="account_number")
    if len(value) > MAX_ACCOUNT_LEN:
        raise VietQRError(
            "field_too_long",
            f"account number has {len(value)} characters, at most {MAX_ACCOUNT_LEN} allowed",
            field="account_number",
        )
    raise VietQRError(
        "invalid_field", f"account number must be letters and digits only, got {value!r}", field="account_number"
    )


def _check_service(value: str) -> None:
    if value not in SERVICE_CODES:
        raise _service_error(value)


def _service_error(value: str) -> VietQRError:
    return VietQRError(
        "invalid_field",
        f"service code must be one of {', '.join(sorted(SERVICE_CODES))}, got {value!r}",
        field="service_code",
    )


def _check_mcc(value: str) -> None:
    if len(value) != 4 or not value.isdigit() or not value.isascii():
        raise VietQRError("invalid_field", f"MCC must be 4 digits, got {value!r}", field="mcc")


def _check_currency(value: str) -> None:
    if value != CURRENCY_VND:
        raise VietQRError("unsupported_currency", f"currency must be 704 (VND), got {value!r}", field="currency")


def _check_country(value: str) -> None:
    if value != COUNTRY_VN:
        raise VietQRError("unsupported_country", f"country must be VN, got {value!r}", field="country")


def _too_long(field: str, value: str, limit: int) -> VietQRError:
    return VietQRError(
        "field_too_long", f"{field} has {len(value)} characters, at most {limit} allowed: {value!r}", field=field
    )
