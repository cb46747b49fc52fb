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
"""

from __future__ import annotations

import binascii
import re
from dataclasses import MISSING, dataclass
from dataclasses import fields as dataclass_fields
from typing import Final, Literal, get_args

from chopay.text import fold_ascii

__all__ = [
    "ERROR_CODES",
    "NAPAS_GUID",
    "SERVICE_CODES",
    "ErrorCode",
    "VietQR",
    "VietQRError",
    "crc16_ccitt_false",
    "crc16_ccitt_table",
    "decode",
    "encode",
    "fit_purpose",
]

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
# Text fields


def fit_purpose(text: str) -> str:
    """Fold ``text``, collapse whitespace and cut it to the 25-character limit.

    For callers that prefer a shortened transfer content to a
    ``field_too_long`` error. May return "" (e.g. for an emoji-only input);
    pass ``None`` as the purpose in that case.
    """
    return " ".join(fold_ascii(text).split())[:MAX_ADDITIONAL_LEN].rstrip()


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


# --------------------------------------------------------------------------
# Decoding


def _parse_tlv(data: str, where: str) -> tuple[dict[str, str], bool]:
    """Split ``data`` into {id: value}; also report whether the ids ascend.

    Every id and length must be two ASCII digits, every length at least 1,
    no id may repeat, and the fields must cover ``data`` exactly: this is what
    catches a payload whose CRC matches but whose lengths lie.
    """
    fields: dict[str, str] = {}
    in_order = True
    highest = ""
    pos = 0
    end = len(data)
    headers = _HEADERS
    tag = ""
    start = length = 0
    while pos < end:
        header = headers.get(data[pos : pos + 4])
        if header is None:
            raise _tlv_header_error(data, pos, where)
        tag, length = header
        if tag > highest:
            highest = tag
        else:
            # Only an id not above the highest so far can be a repeat.
            if tag in fields:
                raise VietQRError("malformed_tlv", f"{where}: tag {tag} appears twice", field=where)
            in_order = False
        start = pos + 4
        pos = start + length
        fields[tag] = data[start:pos]
    if pos != end:
        raise VietQRError(
            "malformed_tlv",
            f"{where}: tag {tag} declares {length} characters but only {end - start} remain",
            field=where,
        )
    return fields, in_order


def _tlv_header_error(data: str, pos: int, where: str) -> VietQRError:
    header = data[pos : pos + 4]
    if len(header) < 4:
        reason = f"truncated field header {header!r}"
    elif header[:2] not in _LEN:
        reason = f"tag id must be 2 digits, got {header[:2]!r}"
    elif header[2:] == "00":
        reason = f"tag {header[:2]} has length 00"
    else:
        reason = f"length of tag {header[:2]} must be 2 digits, got {header[2:]!r}"
    return VietQRError("malformed_tlv", f"{where}: {reason} at offset {pos}", field=where)


def _sub(where: str, tag: str) -> str:
    return tag if where == "payload" else f"{where}.{tag}"


def _note_quirks(
    fields: dict[str, str], in_order: bool, known: frozenset[str], where: str, warnings: list[str]
) -> None:
    if not in_order:
        warnings.append("tags_out_of_order" if where == "payload" else f"tags_out_of_order:{where}")
    if not known.issuperset(fields):
        warnings.extend(f"unknown_tag:{_sub(where, tag)}" for tag in fields if tag not in known)


def _missing(tag: str, where: str, field: str, what: str) -> VietQRError:
    return VietQRError("missing_field", f"{what} (tag {_sub(where, tag)}) is missing", field=field)


def _canonical_merchant(text: str) -> tuple[str, str, str] | None:
    """(BIN, account, service) when tag 38 has exactly the canonical layout.

    "0010A000000727" "01"LL{"0006"BIN "01"LL account} "02"LL service, every
    length matching. Anything else returns None and goes through the generic
    parser, which accepts the canonical layout with the same result and
    reports any other precisely; this shortcut only saves two ``_parse_tlv``
    calls (about a sixth of a decode) on the common case.
    """
    headers = _HEADERS
    beneficiary_header = headers.get(text[14:18])
    if text[:14] != "0010" + NAPAS_GUID or beneficiary_header is None or beneficiary_header[0] != "01":
        return None
    beneficiary_end = 18 + beneficiary_header[1]
    beneficiary = text[18:beneficiary_end]
    account_header = headers.get(beneficiary[10:14])
    if (
        beneficiary[:4] != "0006"
        or account_header is None
        or account_header[0] != "01"
        or account_header[1] != len(beneficiary) - 14
    ):
        return None
    service_header = headers.get(text[beneficiary_end : beneficiary_end + 4])
    if service_header is None or service_header[0] != "02" or service_header[1] != len(text) - beneficiary_end - 4:
        return None
    return beneficiary[4:10], beneficiary[14:], text[beneficiary_end + 4 :]


def _parse_merchant(text: str, warnings: list[str]) -> tuple[str, str, str]:
    """(BIN, account, service) from tag 38 in any layout, or a precise error."""
    merchant, in_order = _parse_tlv(text, "38")
    guid = merchant.get("00")
    if guid != NAPAS_GUID:
        raise VietQRError("not_vietqr", f"tag 38 GUID is {guid!r}, NAPAS uses {NAPAS_GUID}", field="38.00")
    _note_quirks(merchant, in_order, _KNOWN_38, "38", warnings)
    beneficiary_text = merchant.get("01")
    if beneficiary_text is None:
        raise _missing("01", "38", "38.01", "beneficiary organisation")
    beneficiary, in_order = _parse_tlv(beneficiary_text, "38.01")
    _note_quirks(beneficiary, in_order, _KNOWN_38_01, "38.01", warnings)
    bank_bin = beneficiary.get("00")
    if bank_bin is None:
        raise _missing("00", "38.01", "bank_bin", "acquirer BIN")
    account_number = beneficiary.get("01")
    if account_number is None:
        raise _missing("01", "38.01", "account_number", "account number")
    service_code = merchant.get("02")
    if service_code is None:
        raise _missing("02", "38", "service_code", "service code")
    return bank_bin, account_number, service_code


# Attribute defaults, copied for each decoded value (see the end of decode).
_BLANK: Final[dict[str, object]] = {
    f.name: None if f.default is MISSING else f.default for f in dataclass_fields(VietQR)
}
_new_object = object.__new__
_set_attr = object.__setattr__


# --------------------------------------------------------------------------
# Decoding, fast path
#
# Nearly every payload met in practice has the canonical layout ``encode``
# writes: known tags only, in ascending order, tag 38 as NAPAS prints it, an
# upper-case CRC. ``_decode_fast`` reads such a payload with less work than
# the strict path: one regular expression splits and checks everything up to
# the country (tags 00 to 58, whose values are digits or fixed words), in C,
# and a short loop reads the rest (59, 60, 62 and 63), whose free text a
# regular expression could only split by guessing.
#
# A regular expression cannot read lengths, so it only proposes a split and
# ``_decode_fast`` checks every declared length against what was captured.
# TLV parsing is deterministic (each length says where the next field
# starts), so a split whose lengths all agree IS the strict parser's split;
# the patterns also enforce every check the strict path makes on the values.
# Whenever anything disagrees or is unusual (unknown or unordered tags, a
# lower-case CRC, a wrong length, a bad CRC...), the fast path returns None
# and ``_decode_strict`` decides from scratch, so errors and warnings are the
# strict path's by construction. tests/payments/test_vietqr.py checks that
# the two agree on valid and mutated payloads.

_L: Final = "([0-9]{2})"  # a declared length, compared with its value after the match

_FAST_HEAD: Final = re.compile(
    "0002010102(1[12])"
    f"38{_L}0010{NAPAS_GUID}01{_L}0006([0-9]{{6}})01{_L}([0-9A-Za-z]{{1,{MAX_ACCOUNT_LEN}}})"
    "02(?:08(QRIBFTT[AC])|06(QRPUSH|QRCASH))"
    "(?:5204([0-9]{4}))?"
    "5303704"
    f"(?:54{_L}([1-9][0-9]{{0,12}}))?"
    "5802VN"
)
_fast_head = _FAST_HEAD.match
# Declared length for a value of n characters; "" where no 2-digit length can
# match (0, and anything over 99), so that the comparison simply fails.
_FAST_LEN: Final = ("", *_LEN[1:], *("",) * 200)
# Every header allowed after tag 58 -> (attribute, length, rank): known tags
# only, values within their limits, and the rank, which must grow from one
# field to the next, enforces the canonical order. 62 has no attribute of its
# own; its sub-fields follow in the second table.
_FAST_TAIL: Final[dict[str, tuple[str | None, int, int]]] = {
    tag + _LEN[length]: (attr, length, rank)
    for rank, (tag, attr, limit) in enumerate(
        (("59", "merchant_name", MAX_NAME_LEN), ("60", "merchant_city", MAX_CITY_LEN), ("62", None, MAX_TLV_LEN)), 1
    )
    for length in range(1, limit + 1)
}
_FAST_62: Final[dict[str, tuple[str, int, int]]] = {
    tag + _LEN[length]: (attr, length, rank)
    for rank, (tag, attr) in enumerate(_ADDITIONAL_FIELDS, 1)
    for length in range(1, MAX_ADDITIONAL_LEN + 1)
}


def _decode_fast(payload: str) -> VietQR | None:
    """The VietQR of a canonical payload, or None to let ``_decode_strict`` decide."""
    match = _fast_head(payload)
    if match is None:
        return None
    (
        initiation,
        length_38,
        length_38_01,
        bank_bin,
        length_account,
        account_number,
        service_code,
        service_code_6,
        mcc,
        length_amount,
        amount_text,
    ) = match.groups()
    lengths = _FAST_LEN
    if service_code is None:
        service_code = service_code_6
    size = len(account_number)
    # Tag 38 holds "0010" GUID "01"LL ("0006" BIN "01"LL account) "02"LL service.
    if (
        length_account != lengths[size]
        or length_38_01 != lengths[size + 14]
        or length_38 != lengths[size + 36 + len(service_code)]
    ):
        return None

    # Filled in place: cheaper than building a dict and assigning __dict__.
    qr: VietQR = _new_object(VietQR)
    result = qr.__dict__
    result.update(_BLANK)
    result["bank_bin"] = bank_bin
    result["account_number"] = account_number
    result["service_code"] = service_code
    if mcc is not None:
        result["mcc"] = mcc
    if amount_text is None:
        if initiation == DYNAMIC:
            result["warnings"] = ("dynamic_without_amount",)
    else:
        if length_amount != lengths[len(amount_text)]:
            return None
        result["amount"] = int(amount_text)
        if initiation == STATIC:
            result["warnings"] = ("amount_on_static",)

    # 59, 60, 62 (each optional, in this order) must end exactly where
    # "6304" and the CRC, the last field, begin.
    end = len(payload) - 8
    if payload[end : end + 4] != "6304":
        return None
    headers = _FAST_TAIL
    rank = 0
    pos = match.end()
    while pos < end:
        header = headers.get(payload[pos : pos + 4])
        if header is None or header[2] <= rank:
            return None
        attr, length, rank = header
        start = pos + 4
        pos = start + length
        if attr is not None:
            result[attr] = payload[start:pos]
        elif pos == end:
            # Tag 62: its sub-fields fill the rest.
            sub_headers = _FAST_62
            rank = 0
            pos = start
            while pos < end:
                header = sub_headers.get(payload[pos : pos + 4])
                if header is None or header[2] <= rank:
                    return None
                attr, length, rank = header
                start = pos + 4
                pos = start + length
                result[attr] = payload[start:pos]
    if pos != end:
        return None
    try:
        prefix = payload[:-4].encode()
    except UnicodeEncodeError:
        return None
    # Upper-case hex only, as encode writes it; a lower-case CRC is the strict
    # path's to accept with a warning.
    crc = _crc_hqx(prefix, 0xFFFF)
    if _HEX2[crc >> 8] + _HEX2[crc & 0xFF] != payload[-4:]:
        return None
    return qr


def decode(payload: str | bytes) -> VietQR:
    """Parse and validate a VietQR payload.

    ``bytes`` are taken as UTF-8 (what a QR scanner hands over). The payload
    must be exact: surrounding whitespace counts as garbage. Raises
    ``VietQRError``; tolerated quirks are listed in the result's ``warnings``:
    ``amount_on_static``, ``dynamic_without_amount``, ``crc_lowercase``,
    ``tags_out_of_order`` (``tags_out_of_order:38`` etc. inside templates)
    and ``unknown_tag:NN`` (``unknown_tag:62.06`` inside templates). Unknown
    tags are dropped from the result.
    """
    if not isinstance(payload, str):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VietQRError("malformed_tlv", f"payload is not UTF-8: {exc.reason}") from None
    # Two passes at worst, and only for unusual payloads (see _decode_fast).
    return _decode_fast(payload) or _decode_strict(payload)


def _decode_strict(payload: str) -> VietQR:
    """``decode`` of a str, field by field: every check, every warning, every error."""
    # Hot path for the payloads the fast path leaves: most checks below are
    # inline comparisons that call a helper only to build the error once they
    # have failed, since every Python call costs a visible share of a decode.
    if not payload:
        raise VietQRError("malformed_tlv", "payload is empty")

    top, top_in_order = _parse_tlv(payload, "payload")
    warnings: list[str] = []

    # The CRC comes first: nothing else in a damaged payload can be trusted.
    crc_text = top.get("63")
    # The last parsed id, not merely the last 8 characters: a value ending in
    # "6304XXXX" inside another field must not pass for the CRC.
    if crc_text is None or len(crc_text) != 4 or next(reversed(top)) != "63":
        if crc_text is None:
            raise _missing("63", "payload", "63", "CRC")
        raise VietQRError("malformed_tlv", "CRC (tag 63, length 04) must be the last field", field="63")
    try:
        prefix = payload[:-4].encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, only reachable from str input
        raise VietQRError("malformed_tlv", "payload contains text that cannot be UTF-8 encoded") from None
    expected = f"{binascii.crc_hqx(prefix, 0xFFFF):04X}"
    if crc_text != expected:
        if crc_text.isascii() and crc_text.upper() == expected:
            warnings.append("crc_lowercase")
        else:
            raise VietQRError("crc_mismatch", f"CRC is {crc_text!r}, the payload computes to {expected}", field="63")

    if top.get("00") != "01":
        value = top.get("00")
        if value is None:
            raise _missing("00", "payload", "00", "payload format indicator")
        raise VietQRError("invalid_field", f"payload format indicator must be 01, got {value!r}", field="00")

    # Scheme before currency and country: a Pix or PromptPay code should be
    # reported as "not a VietQR", not as "wrong currency".
    merchant_text = top.get("38")
    if merchant_text is None:
        others = sorted(t for t in top if "02" <= t <= "51")
        detail = f"; merchant account tags {', '.join(others)} belong to another scheme" if others else ""
        raise VietQRError("not_vietqr", f"no NAPAS merchant account information (tag 38){detail}", field="38")
    merchant = _canonical_merchant(merchant_text) or _parse_merchant(merchant_text, warnings)
    bank_bin, account_number, service_code = merchant
    _check_bin(bank_bin)
    _check_account(account_number)
    _check_service(service_code)

    initiation = top.get("01")
    if initiation != DYNAMIC and initiation != STATIC:
        if initiation is None:
            raise _missing("01", "payload", "01", "point of initiation method")
        raise VietQRError("invalid_field", f"point of initiation must be 11 or 12, got {initiation!r}", field="01")
    currency = top.get("53")
    if currency != CURRENCY_VND:
        if currency is None:
            raise _missing("53", "payload", "currency", "currency")
        _check_currency(currency)
    country = top.get("58")
    if country != COUNTRY_VN:
        if country is None:
            raise _missing("58", "payload", "country", "country code")
        _check_country(country)

    # Filled in place of calling VietQR(...): a frozen dataclass __init__ sets
    # each of its 16 fields through object.__setattr__, which cost about 5 µs,
    # as much as parsing the 38 and 62 templates together.
    result = _BLANK.copy()
    result["bank_bin"] = bank_bin
    result["account_number"] = account_number
    result["service_code"] = service_code

    mcc = top.get("52")
    if mcc is not None:
        _check_mcc(mcc)
        result["mcc"] = mcc
    amount_text = top.get("54")
    if amount_text is not None:
        # Canonical whole đồng only: no sign, no decimals (".0" is the classic
        # bug of generators that went through a float), no leading zero.
        if not amount_text.isdigit() or not amount_text.isascii() or amount_text[0] == "0" or len(amount_text) > 13:
            raise VietQRError(
                "invalid_amount",
                f"amount must be a positive whole number of at most 13 digits, got {amount_text!r}",
                field="amount",
            )
        result["amount"] = int(amount_text)
        if initiation == STATIC:
            warnings.append("amount_on_static")
    elif initiation == DYNAMIC:
        warnings.append("dynamic_without_amount")
    name = top.get("59")
    if name is not None:
        if len(name) > MAX_NAME_LEN:
            raise _too_long("merchant_name", name, MAX_NAME_LEN)
        result["merchant_name"] = name
    city = top.get("60")
    if city is not None:
        if len(city) > MAX_CITY_LEN:
            raise _too_long("merchant_city", city, MAX_CITY_LEN)
        result["merchant_city"] = city

    additional_text = top.get("62")
    if additional_text is not None:
        additional, in_order = _parse_tlv(additional_text, "62")
        if not in_order or not _KNOWN_62.issuperset(additional):
            _note_quirks(additional, in_order, _KNOWN_62, "62", warnings)
        for tag, value in additional.items():
            attr = _ADDITIONAL_TAGS.get(tag)
            if attr is not None:
                if len(value) > MAX_ADDITIONAL_LEN:
                    raise _too_long(attr, value, MAX_ADDITIONAL_LEN)
                result[attr] = value

    if not top_in_order or not _KNOWN_TOP.issuperset(top):
        _note_quirks(top, top_in_order, _KNOWN_TOP, "payload", warnings)
    if warnings:
        result["warnings"] = tuple(warnings)
    qr: VietQR = _new_object(VietQR)
    _set_attr(qr, "__dict__", result)
    return qr
