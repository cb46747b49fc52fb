"""Decoding VietQR payloads: ``decode``, and the strict field-by-field parser
it uses for whatever the fast path (``_decode_fast``) leaves to it.

Part of ``chopay.vietqr``; import ``decode`` from there.
"""

from __future__ import annotations

import binascii

from chopay.vietqr._decode_fast import _BLANK, _decode_fast, _new_object, _set_attr
from chopay.vietqr._fields import (
    _ADDITIONAL_TAGS,
    _HEADERS,
    _KNOWN_38,
    _KNOWN_38_01,
    _KNOWN_62,
    _KNOWN_TOP,
    _LEN,
    COUNTRY_VN,
    CURRENCY_VND,
    DYNAMIC,
    MAX_ADDITIONAL_LEN,
    MAX_CITY_LEN,
    MAX_NAME_LEN,
    NAPAS_GUID,
    STATIC,
    VietQR,
    VietQRError,
    _check_account,
    _check_bin,
    _check_country,
    _check_currency,
    _check_mcc,
    _check_service,
    _too_long,
)


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
