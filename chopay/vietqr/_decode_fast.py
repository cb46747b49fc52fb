"""Decoding VietQR payloads, fast path: canonical payloads in one regular
expression and a short loop; anything unusual is left to the strict parser.

Part of ``chopay.vietqr``; import ``decode`` from there.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import MISSING
from dataclasses import fields as dataclass_fields
from typing import Final

from chopay.vietqr._fields import (
    _ADDITIONAL_FIELDS,
    _LEN,
    DYNAMIC,
    MAX_ACCOUNT_LEN,
    MAX_ADDITIONAL_LEN,
    MAX_CITY_LEN,
    MAX_NAME_LEN,
    MAX_TLV_LEN,
    NAPAS_GUID,
    STATIC,
    VietQR,
)

# Attribute defaults, copied for each decoded value (see the end of decode).
_BLANK: Final[dict[str, object]] = {
    f.name: None if f.default is MISSING else f.default for f in dataclass_fields(VietQR)
}
_new_object = object.__new__
_set_attr = object.__setattr__
# Upper-case hex of a byte (as ``encode`` writes the CRC).
_HEX2: Final = tuple(f"{n:02X}" for n in range(256))
_crc_hqx = binascii.crc_hqx


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
# strict path's by construction. tests/chopay/test_vietqr_fast_path.py checks that
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
