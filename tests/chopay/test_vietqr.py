"""Tests for the VietQR codec (chopay/vietqr/).

Pure Python: no database, no Django settings. Payloads built by hand here get
their CRC from ``_crc`` below, a bit-by-bit implementation written
independently of the module, so a wrong table or seed there cannot hide.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chopay.text import fold_ascii
from chopay.vietqr import (
    ERROR_CODES,
    SERVICE_CODES,
    VietQR,
    VietQRError,
    crc16_ccitt_false,
    crc16_ccitt_table,
    decode,
    encode,
    fit_purpose,
)
from chopay.vietqr._decode import _decode_strict
from chopay.vietqr._decode_fast import _decode_fast

# NAPAS spec §6.1.2–6.1.4, as printed in /work/shared/DOMAIN.md.
STATIC_CARD = "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52"
DYNAMIC_ACCOUNT = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"
)
DYNAMIC_CARD = (
    "00020101021238600010A00000072701300006970403011697040311012345670208QRIBFTTC"
    "530370454061800005802VN62340107NPS68690819thanh toan don hang6304A203"
)
SAMPLES = (STATIC_CARD, DYNAMIC_ACCOUNT, DYNAMIC_CARD)

CRC_FIELD = re.compile(r"6304[0-9A-F]{4}\Z")


def _crc(text: str) -> str:
    """CRC-16/CCITT-FALSE, bit by bit, as 4 upper-case hex digits."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return f"{crc:04X}"


def _tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def _sign(body: str) -> str:
    """Append a correct CRC field to ``body`` (which must not end in 6304)."""
    return body + "6304" + _crc(body + "6304")


def _resign(payload: str) -> str:
    """Recompute the CRC of an edited payload."""
    assert payload[-8:-4] == "6304"
    return _sign(payload[:-8])


def _napas_38(bank_bin: str = "970403", account: str = "0011012345678", service: str = "QRIBFTTA") -> str:
    return _tlv(
        "38", _tlv("00", "A000000727") + _tlv("01", _tlv("00", bank_bin) + _tlv("01", account)) + _tlv("02", service)
    )


def _error(payload: str | bytes) -> VietQRError:
    with pytest.raises(VietQRError) as info:
        decode(payload)
    return info.value


def _encode_error(qr: VietQR) -> VietQRError:
    with pytest.raises(VietQRError) as info:
        encode(qr)
    return info.value


# --------------------------------------------------------------------------
# The published samples


def test_it_finds_the_printed_sample_crcs_correct() -> None:
    for sample in SAMPLES:
        assert _crc(sample[:-4]) == sample[-4:]


def test_it_decodes_the_static_card_sample() -> None:
    qr = decode(STATIC_CARD)

    assert qr == VietQR(bank_bin="970403", account_number="9704031101234567", service_code="QRIBFTTC")
    assert qr.initiation == "static"
    assert qr.warnings == ()


def test_it_decodes_the_dynamic_account_sample() -> None:
    qr = decode(DYNAMIC_ACCOUNT)

    assert qr == VietQR(
        bank_bin="970403",
        account_number="0011012345678",
        service_code="QRIBFTTA",
        amount=180000,
        bill_number="NPS6869",
        purpose="thanh toan don hang",
    )
    assert qr.initiation == "dynamic"


def test_it_decodes_the_dynamic_card_sample() -> None:
    qr = decode(DYNAMIC_CARD)

    assert qr == VietQR(
        bank_bin="970403",
        account_number="9704031101234567",
        service_code="QRIBFTTC",
        amount=180000,
        bill_number="NPS6869",
        purpose="thanh toan don hang",
    )


@pytest.mark.parametrize("sample", SAMPLES)
def test_it_reencodes_the_samples_byte_for_byte(sample: str) -> None:
    assert encode(decode(sample)) == sample


@pytest.mark.parametrize("sample", SAMPLES)
def test_it_decodes_bytes_as_utf8(sample: str) -> None:
    assert decode(sample.encode("ascii")) == decode(sample)


# --------------------------------------------------------------------------
# CRC


def test_it_computes_the_crc_check_value() -> None:
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_table(b"123456789") == 0x29B1


def test_it_zero_pads_a_small_crc() -> None:
    assert crc16_ccitt_false(b"5605") == 0x000A

    # This input happens to have the CRC 0x00A9.
    payload = encode(VietQR(bank_bin="970436", account_number="1023456789", amount=74000, purpose="CHO4 RAU24"))

    assert payload.endswith("630400A9")
    assert decode(payload).purpose == "CHO4 RAU24"


@given(st.binary(max_size=300))
def test_it_agrees_with_the_table_crc(data: bytes) -> None:
    assert crc16_ccitt_false(data) == crc16_ccitt_table(data)


# --------------------------------------------------------------------------
# Round trips

VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxy"
    "àảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
    "AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY"
    "ÀẢÃÁẠẰẲẴẮẶẦẨẪẤẬÈẺẼÉẸỀỂỄẾỆÌỈĨÍỊÒỎÕÓỌỒỔỖỐỘỜỞỠỚỢÙỦŨÚỤỪỬỮỨỰỲỶỸÝỴ"
    "0123456789 .,-/#"
)
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _text(max_size: int) -> st.SearchStrategy[str | None]:
    return st.none() | st.text(VIETNAMESE, min_size=1, max_size=max_size)


vietqrs = st.builds(
    VietQR,
    bank_bin=st.text("0123456789", min_size=6, max_size=6),
    account_number=st.text(ALNUM, min_size=1, max_size=19),
    service_code=st.sampled_from(sorted(SERVICE_CODES)),
    amount=st.none() | st.integers(1, 10**13 - 1),
    bill_number=_text(25),
    mobile_number=st.none() | st.from_regex(r"\+?84[0-9]{9}", fullmatch=True),
    store_label=_text(25),
    reference_label=_text(25),
    terminal_label=_text(25),
    purpose=_text(25),
    mcc=st.none() | st.text("0123456789", min_size=4, max_size=4),
    merchant_name=_text(25),
    merchant_city=_text(15),
)

ADDITIONAL = ("bill_number", "mobile_number", "store_label", "reference_label", "terminal_label", "purpose")
TEXT_FIELDS = (*ADDITIONAL, "merchant_name", "merchant_city")


def _folded(qr: VietQR) -> VietQR:
    """What ``decode(encode(qr))`` should give: every text field folded."""
    changes: dict[str, Any] = {
        name: fold_ascii(value) for name in TEXT_FIELDS if (value := getattr(qr, name)) is not None
    }
    return replace(qr, **changes)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(vietqrs)
def test_it_round_trips_random_values(qr: VietQR) -> None:
    additional = sum(4 + len(fold_ascii(v)) for name in ADDITIONAL if (v := getattr(qr, name)) is not None)
    if additional > 99:
        # Six long sub-fields cannot all fit in tag 62.
        assert _encode_error(qr).code == "field_too_long"
        return

    payload = encode(qr)
    decoded = decode(payload)

    assert decoded == _folded(qr)
    assert decoded.warnings == ()
    assert decoded.initiation == ("static" if qr.amount is None else "dynamic")
    assert encode(decoded) == payload
    assert payload.isascii()
    assert CRC_FIELD.search(payload)
    assert payload[-4:] == _crc(payload[:-4])
    if qr.amount is not None:
        assert _tlv("54", str(qr.amount)) in payload


def test_it_emits_tags_in_canonical_order() -> None:
    qr = VietQR(
        bank_bin="970436",
        account_number="1023456789",
        amount=125000,
        bill_number="HD1",
        mobile_number="0912345678",
        store_label="Sap 12",
        reference_label="REF1",
        terminal_label="T1",
        purpose="CHO4 ABC123",
        mcc="5411",
        merchant_name="Co Lan rau cu",
        merchant_city="Ha Noi",
    )

    payload = encode(qr)

    assert payload == _sign(
        "000201010212"
        + _napas_38("970436", "1023456789")
        + "52045411530370454061250005802VN5913Co Lan rau cu6006Ha Noi"
        + _tlv("62", "0103HD1" + "02100912345678" + "0306Sap 12" + "0504REF1" + "0702T1" + "0811CHO4 ABC123")
    )


# --------------------------------------------------------------------------
# Refusals


def test_it_refuses_a_tampered_crc() -> None:
    tampered = DYNAMIC_ACCOUNT[:-1] + "F"

    error = _error(tampered)

    assert error.code == "crc_mismatch"
    assert error.field == "63"


def test_it_refuses_a_tampered_amount() -> None:
    assert _error(DYNAMIC_ACCOUNT.replace("5406180000", "5406980000")).code == "crc_mismatch"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("01270006970403", "01260006970403"),  # 38.01 says 26, holds 27
        ("01270006970403", "01280006970403"),  # 38.01 says 28, holds 27
        ("0113001101", "0112001101"),  # account inside 38.01 one short
        ("0113001101", "0114001101"),  # account inside 38.01 one long
        ("0010A000000727", "0011A000000727"),  # GUID length swallows a character
    ],
)
def test_it_refuses_a_wrong_length_inside_38_even_with_a_valid_crc(old: str, new: str) -> None:
    edited = _resign(DYNAMIC_ACCOUNT.replace(old, new))

    assert edited != DYNAMIC_ACCOUNT
    assert edited[-4:] == _crc(edited[:-4])  # the CRC alone would let it through
    assert _error(edited).code == "malformed_tlv"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("0107NPS6869", "0106NPS6869"),
        ("0107NPS6869", "0108NPS6869"),
        ("0819thanh", "0818thanh"),
        ("0819thanh", "0820thanh"),
    ],
)
def test_it_refuses_a_wrong_length_inside_62_even_with_a_valid_crc(old: str, new: str) -> None:
    edited = _resign(DYNAMIC_ACCOUNT.replace(old, new))

    assert _error(edited).code == "malformed_tlv"


def test_it_refuses_a_brazil_pix_payload() -> None:
    pix = _sign(
        "000201"
        + _tlv("26", _tlv("00", "br.gov.bcb.pix") + _tlv("01", "123e4567-e12b-12d1-a456-426655440000"))
        + "52040000"
        + "5303986"
        + "5802BR"
        + "5913Fulano de Tal"
        + "6008BRASILIA"
        + _tlv("62", "0503***")
    )

    error = _error(pix)

    assert error.code == "not_vietqr"
    assert "26" in error.message


def test_it_refuses_a_thai_promptpay_payload() -> None:
    promptpay = _sign("000201010211" + _tlv("29", "0016A000000677010111" + "01130066812345678") + "5303764" + "5802TH")

    assert _error(promptpay).code == "not_vietqr"


def test_it_refuses_another_guid_in_tag_38() -> None:
    other = _sign(
        "000201010211" + _tlv("38", "0010A000000999" + _tlv("01", "0006970403" + "010212")) + "5303704" + "5802VN"
    )

    error = _error(other)

    assert error.code == "not_vietqr"
    assert error.field == "38.00"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "https://vietqr.io/",
        "0002",
        "00020101",
        "0000",
        " " + STATIC_CARD,
        STATIC_CARD + "\n",
        STATIC_CARD + "0",
        STATIC_CARD[:-1],
        "\x00\xff\x13\x87garbage\x01",
        "٠٠٠٢٠١",  # Arabic-Indic digits pass str.isdigit() but are not TLV ids
    ],
)
def test_it_refuses_garbage_as_malformed(garbage: str) -> None:
    assert _error(garbage).code == "malformed_tlv"


@pytest.mark.parametrize("garbage", [b"", b"\xff\xfe\x00\x01", bytes(range(256)), b"\xc3("])
def test_it_refuses_garbage_bytes_as_malformed(garbage: bytes) -> None:
    assert _error(garbage).code == "malformed_tlv"


@settings(max_examples=500)
@given(st.text())
def test_it_never_raises_anything_but_its_own_error_on_text(text: str) -> None:
    try:
        decode(text)
    except VietQRError as error:
        assert error.code in ERROR_CODES
        assert error.message


@settings(max_examples=300)
@given(st.binary())
def test_it_never_raises_anything_but_its_own_error_on_bytes(data: bytes) -> None:
    try:
        decode(data)
    except VietQRError as error:
        assert error.code in ERROR_CODES


@settings(max_examples=500)
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 3), st.text(max_size=3)), min_size=1, max_size=3),
    st.booleans(),
)
def test_it_never_raises_anything_but_its_own_error_on_edited_payloads(
    sample: str, edits: list[tuple[int, int, str]], resign: bool
) -> None:
    payload = sample
    for at, cut, insert in edits:
        payload = payload[:at] + insert + payload[at + cut :]
    if resign and payload[-8:-4] == "6304":
        payload = _resign(payload)

    try:
        decode(payload)
    except VietQRError as error:
        assert error.code in ERROR_CODES


@settings(max_examples=500)
@given(st.sampled_from(SAMPLES), st.data())
def test_it_detects_every_single_character_change(sample: str, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(sample) - 1))
    char = data.draw(st.characters(codec="ascii").filter(lambda c: c != sample[at]))
    edited = sample[:at] + char + sample[at + 1 :]

    try:
        qr = decode(edited)
    except VietQRError as error:
        assert error.code in ("crc_mismatch", "malformed_tlv", "missing_field")
    else:
        # The only accepted change: a CRC digit in lower case.
        assert edited.upper() == sample
        assert qr.warnings == ("crc_lowercase",)


def test_it_refuses_a_missing_crc() -> None:
    error = _error("000201010211" + _napas_38() + "5303704" + "5802VN")

    assert error.code == "missing_field"
    assert error.field == "63"


def test_it_refuses_a_crc_that_is_not_the_last_field() -> None:
    body = "000201010211" + _napas_38() + "5303704" + "5802VN6304"
    # A value that ends like a CRC field must not be read as one.
    payload = body + _crc(body) + _tlv("99", "6304" + _crc(body))

    assert _error(payload).code == "malformed_tlv"


def test_it_refuses_a_repeated_tag() -> None:
    payload = _sign("000201010211" + _napas_38() + "5303704" + "5303704" + "5802VN")

    assert _error(payload).code == "malformed_tlv"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ("000202010211" + _napas_38() + "53037045802VN", "invalid_field", "00"),
        ("010211" + _napas_38() + "53037045802VN", "missing_field", "00"),
        ("000201010213" + _napas_38() + "53037045802VN", "invalid_field", "01"),
        ("000201" + _napas_38() + "53037045802VN", "missing_field", "01"),
        ("000201010211" + _napas_38() + "53038405802VN", "unsupported_currency", "currency"),
        ("000201010211" + _napas_38() + "5802VN", "missing_field", "currency"),
        ("000201010211" + _napas_38() + "53037045802TH", "unsupported_country", "country"),
        ("000201010211" + _napas_38() + "5303704", "missing_field", "country"),
        ("000201010211" + _napas_38(bank_bin="97040") + "53037045802VN", "invalid_field", "bank_bin"),
        ("000201010211" + _napas_38(bank_bin="97O403") + "53037045802VN", "invalid_field", "bank_bin"),
        ("000201010211" + _napas_38(account="0" * 20) + "53037045802VN", "field_too_long", "account_number"),
        ("000201010211" + _napas_38(account="001-101") + "53037045802VN", "invalid_field", "account_number"),
        ("000201010211" + _napas_38(service="QRFOO") + "53037045802VN", "invalid_field", "service_code"),
        ("000201010211" + _tlv("38", "0010A000000727" + "0208QRIBFTTA") + "53037045802VN", "missing_field", "38.01"),
        ("000201010211" + _tlv("38", "0010A000000727" + _tlv("01", "0006970403")) + "53037045802VN", "missing_field", "account_number"),
        ("000201010211" + _tlv("38", "0010A000000727" + _tlv("01", "0006970403" + "010212")) + "53037045802VN", "missing_field", "service_code"),
        ("000201010211" + _napas_38() + "5204541A53037045802VN", "invalid_field", "mcc"),
        ("000201010212" + _napas_38() + "53037045802VN" + _tlv("59", "N" * 26), "field_too_long", "merchant_name"),
        ("000201010212" + _napas_38() + "53037045802VN" + _tlv("60", "C" * 16), "field_too_long", "merchant_city"),
        ("000201010212" + _napas_38() + "53037045802VN" + _tlv("62", _tlv("08", "p" * 26)), "field_too_long", "purpose"),
        ("000201010212" + _napas_38() + "53037045802VN" + _tlv("62", _tlv("01", "b" * 26)), "field_too_long", "bill_number"),
    ],
)  # fmt: skip
def test_it_refuses_bad_fields_with_their_own_code(body: str, code: str, field: str) -> None:
    error = _error(_sign(body))

    assert (error.code, error.field) == (code, field)


@pytest.mark.parametrize("amount", ["0", "-100", "180000.0", "180000.00", "018000", "1,000", "12345678901234", "١٢٣"])
def test_it_refuses_a_bad_amount_when_decoding(amount: str) -> None:
    payload = _sign("000201010212" + _napas_38() + "5303704" + _tlv("54", amount) + "5802VN")

    error = _error(payload)

    assert error.code == "invalid_amount"
    assert error.field == "amount"


# --------------------------------------------------------------------------
# Quirks that decode with a warning


def test_it_accepts_an_amount_on_a_static_code_with_a_warning() -> None:
    payload = _resign(DYNAMIC_ACCOUNT.replace("010212", "010211", 1))

    qr = decode(payload)

    assert qr.amount == 180000
    assert qr.purpose == "thanh toan don hang"
    assert qr.warnings == ("amount_on_static",)


def test_it_accepts_a_dynamic_code_without_amount_with_a_warning() -> None:
    payload = _resign(STATIC_CARD.replace("010211", "010212", 1))

    qr = decode(payload)

    assert qr.amount is None
    assert qr.warnings == ("dynamic_without_amount",)


def test_it_accepts_tags_out_of_order_with_a_warning() -> None:
    payload = _sign(
        "010212"
        + "000201"
        + "5802VN"
        + "5303704"
        + "5406180000"
        + _tlv("62", "0819thanh toan don hang" + "0107NPS6869")
        + _napas_38()
    )

    qr = decode(payload)

    assert replace(qr, warnings=()) == decode(DYNAMIC_ACCOUNT)
    assert qr.warnings == ("tags_out_of_order:62", "tags_out_of_order")
    assert encode(qr) == DYNAMIC_ACCOUNT


def test_it_accepts_a_lower_case_crc_with_a_warning() -> None:
    payload = DYNAMIC_ACCOUNT[:-4] + "2e2e"

    qr = decode(payload)

    assert qr.amount == 180000
    assert qr.warnings == ("crc_lowercase",)
    assert encode(qr) == DYNAMIC_ACCOUNT


def test_it_accepts_unknown_tags_with_a_warning_and_drops_them() -> None:
    payload = _sign(
        "000201010212"
        + _napas_38()
        + "5303704"
        + "5406180000"
        + "550201"  # tip indicator, not part of VietQR
        + "5802VN"
        + _tlv("62", "0107NPS6869" + "0603***" + "0819thanh toan don hang")
    )

    qr = decode(payload)

    assert qr.warnings == ("unknown_tag:62.06", "unknown_tag:55")
    assert encode(qr) == DYNAMIC_ACCOUNT


@pytest.mark.parametrize(
    ("merchant", "warnings"),
    [
        (
            _tlv("38", "0010A000000727" + "0208QRIBFTTA" + _tlv("01", "0006970403" + "01130011012345678")),
            ("tags_out_of_order:38",),
        ),
        (
            _tlv("38", "0010A000000727" + _tlv("01", "01130011012345678" + "0006970403") + "0208QRIBFTTA"),
            ("tags_out_of_order:38.01",),
        ),
        (
            _tlv("38", "0010A000000727" + _tlv("01", "0006970403" + "01130011012345678") + "0208QRIBFTTA" + "0302XY"),
            ("unknown_tag:38.03",),
        ),
    ],
)
def test_it_accepts_a_non_canonical_tag_38_with_a_warning(merchant: str, warnings: tuple[str, ...]) -> None:
    payload = _sign(
        "000201010212"
        + merchant
        + "5303704"
        + "5406180000"
        + "5802VN"
        + _tlv("62", "0107NPS6869" + "0819thanh toan don hang")
    )

    qr = decode(payload)

    assert qr.warnings == warnings
    assert encode(qr) == DYNAMIC_ACCOUNT


def test_it_decodes_non_ascii_text_counting_characters() -> None:
    payload = _sign("000201010211" + _napas_38() + "53037045802VN" + _tlv("59", "Cô Lan") + _tlv("60", "Hà Nội"))

    qr = decode(payload)

    assert (qr.merchant_name, qr.merchant_city) == ("Cô Lan", "Hà Nội")
    # Re-encoding folds the text to ASCII.
    assert decode(encode(qr)).merchant_city == "Ha Noi"


# --------------------------------------------------------------------------
# Encoding


def test_it_folds_diacritics_in_the_purpose() -> None:
    qr = VietQR(bank_bin="970403", account_number="0011012345678", amount=180000, purpose="Thanh toán đơn hàng")

    payload = encode(qr)

    assert "0819Thanh toan don hang" in payload
    assert decode(payload).purpose == "Thanh toan don hang"


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Thanh toán đơn hàng", "Thanh toan don hang"),
        ("ĐẶNG THỊ HƯƠNG", "DANG THI HUONG"),
        ("Chợ Bến Thành", "Cho Ben Thanh"),
        ("Rau muống 🥬 tươi", "Rau muong  tuoi"),
        ("Thanh toa\u0301n", "Thanh toan"),  # already decomposed
        ("Cá\tkho\nnồi", "Ca kho noi"),
        ("“Bún” – bò", '"Bun" - bo'),
        ("Ðỗ", "Do"),
        ("漢字", ""),
    ],
)
def test_it_folds_text_to_printable_ascii(text: str, folded: str) -> None:
    assert fold_ascii(text) == folded


@given(st.text())
def test_it_never_lengthens_text_when_folding(text: str) -> None:
    folded = fold_ascii(text)

    assert len(folded) <= len(text)
    assert folded.isascii()
    assert folded.isprintable()


def test_it_fits_a_long_purpose_into_25_characters() -> None:
    purpose = fit_purpose("  Thanh toán   tiền điện tháng 10 sạp số 12  ")

    assert purpose == "Thanh toan tien dien than"
    assert len(purpose) == 25
    encode(VietQR(bank_bin="970403", account_number="0011012345678", purpose=purpose))


def test_it_checks_limits_after_folding() -> None:
    # 25 characters once folded, more before (combining marks).
    purpose = "Thanh toa\u0301n đơn ha\u0300ng ABCDE"
    assert len(purpose) > 25

    payload = encode(VietQR(bank_bin="970403", account_number="0011012345678", purpose=purpose))

    assert decode(payload).purpose == "Thanh toan don hang ABCDE"


BASE = VietQR(bank_bin="970403", account_number="0011012345678")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"purpose": "Thanh toán đơn hàng tháng 10"}, "field_too_long", "purpose"),
        ({"merchant_name": "N" * 26}, "field_too_long", "merchant_name"),
        ({"merchant_city": "Thành phố Hồ Chí Minh"}, "field_too_long", "merchant_city"),
        ({"bill_number": "B" * 26}, "field_too_long", "bill_number"),
        ({"mobile_number": "0" * 26}, "field_too_long", "mobile_number"),
        ({"store_label": "S" * 26}, "field_too_long", "store_label"),
        ({"reference_label": "R" * 26}, "field_too_long", "reference_label"),
        ({"terminal_label": "T" * 26}, "field_too_long", "terminal_label"),
        ({name: "x" * 25 for name in ADDITIONAL}, "field_too_long", "62"),
        ({"account_number": "1" * 20}, "field_too_long", "account_number"),
        ({"account_number": ""}, "missing_field", "account_number"),
        ({"account_number": "0011 0123"}, "invalid_field", "account_number"),
        ({"account_number": "00110١"}, "invalid_field", "account_number"),
        ({"bank_bin": "97040"}, "invalid_field", "bank_bin"),
        ({"bank_bin": "9704031"}, "invalid_field", "bank_bin"),
        ({"bank_bin": "97040A"}, "invalid_field", "bank_bin"),
        ({"service_code": "QRIBFTTX"}, "invalid_field", "service_code"),
        ({"mcc": "541"}, "invalid_field", "mcc"),
        ({"purpose": ""}, "invalid_field", "purpose"),
        ({"purpose": "🥬🥬"}, "invalid_field", "purpose"),
        ({"currency": "840"}, "unsupported_currency", "currency"),
        ({"country": "TH"}, "unsupported_country", "country"),
    ],
)
def test_it_refuses_to_encode_bad_fields(changes: dict[str, Any], code: str, field: str) -> None:
    error = _encode_error(replace(BASE, **changes))

    assert (error.code, error.field) == (code, field)


@pytest.mark.parametrize("amount", [0, -1, -180000, 10**13, 10**20, True, 1000.0])
def test_it_refuses_to_encode_a_bad_amount(amount: Any) -> None:
    error = _encode_error(replace(BASE, amount=amount))

    assert (error.code, error.field) == ("invalid_amount", "amount")


def test_it_encodes_the_largest_amount() -> None:
    payload = encode(replace(BASE, amount=10**13 - 1))

    assert "54139999999999999" in payload
    assert decode(payload).amount == 10**13 - 1


@given(st.integers(1, 10**13 - 1))
def test_it_never_writes_decimals_in_the_amount(amount: int) -> None:
    payload = encode(replace(BASE, amount=amount))

    assert _tlv("54", str(amount)) in payload
    assert ".0" not in payload


# --------------------------------------------------------------------------
# The error type


def test_it_raises_a_value_error_with_code_message_and_field() -> None:
    error = _error(DYNAMIC_ACCOUNT[:-1] + "0")

    assert isinstance(error, ValueError)
    assert error.code == "crc_mismatch"
    assert "computes to 2E2E" in error.message
    assert str(error).startswith("crc_mismatch: ")


def test_it_pickles_its_error() -> None:
    error = _encode_error(replace(BASE, purpose="x" * 30))

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.code, copy.message, copy.field) == (error.code, error.message, error.field)


# --------------------------------------------------------------------------
# The fast path of decode
#
# decode() first tries _decode_fast, which only accepts canonical payloads,
# and falls back to _decode_strict for anything else. These tests hold the
# two to the same answer: the same VietQR (field for field, warnings and the
# order of __dict__ included) or the same error (code, message and field).


def _outcome(decoder: Any, payload: str) -> tuple[Any, ...]:
    try:
        qr = decoder(payload)
    except VietQRError as error:
        return ("error", error.code, error.message, error.field)
    return ("ok", type(qr), list(vars(qr).items()))


def _utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _assert_fast_path_agrees(payload: str) -> None:
    fast = _decode_fast(payload)
    if fast is not None:
        assert _outcome(lambda _: fast, payload) == _outcome(_decode_strict, payload)
    assert _outcome(decode, payload) == _outcome(_decode_strict, payload)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(vietqrs)
def test_it_takes_the_fast_path_for_every_encoded_value_with_the_same_result(qr: VietQR) -> None:
    try:
        payload = encode(qr)
    except VietQRError:
        return  # six long sub-fields that do not fit in tag 62

    fast = _decode_fast(payload)

    assert fast is not None
    assert _outcome(lambda _: fast, payload) == _outcome(_decode_strict, payload)


# Inserts that look like TLV headers, so that edits make plausible payloads
# (a value that hides a tag, a length that lies) and not only garbage.
_EDITS = st.one_of(
    st.text("0123456789", max_size=4),
    st.sampled_from(
        ["59", "60", "62", "63", "64", "6304", "0108", "0800", "5802VN", "0208QRPUSH", "06", "a", "é", "\ud800"]
    ),
    st.text(max_size=3),
)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES) | vietqrs.map(lambda qr: encode(replace(qr, bill_number=None, store_label=None))),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 4), _EDITS), min_size=0, max_size=3),
    st.booleans(),
    st.booleans(),
)
def test_it_decodes_edited_payloads_like_the_strict_parser(
    payload: str, edits: list[tuple[int, int, str]], resign: bool, lower: bool
) -> None:
    for at, cut, insert in edits:
        payload = payload[:at] + insert + payload[at + cut :]
    if resign and payload[-8:-4] == "6304" and _utf8_encodable(payload):
        payload = _resign(payload)
    if lower:
        payload = payload[:-4] + payload[-4:].lower()

    _assert_fast_path_agrees(payload)


@pytest.mark.parametrize(
    "payload",
    [
        # Values that contain what looks like the next tag.
        DYNAMIC_ACCOUNT,
        _resign(DYNAMIC_ACCOUNT.replace("62340107NPS6869", "62340107NP08686")),
        _resign(DYNAMIC_ACCOUNT.replace("0011012345678", "0208QRIBFTTA1")),
        # Lengths that lie while the CRC is right.
        _resign(DYNAMIC_ACCOUNT.replace("6234", "6233")),
        _resign(DYNAMIC_ACCOUNT.replace("0819thanh", "0818thanh")),
        _resign(DYNAMIC_ACCOUNT.replace("5406180000", "5405180000")),
        _resign(DYNAMIC_ACCOUNT.replace("38570010", "38560010")),
        _resign(DYNAMIC_ACCOUNT.replace("01270006", "01260006")),
        _resign(DYNAMIC_ACCOUNT.replace("01130011012345678", "01120011012345678")),
        # Canonical except for one quirk the strict path warns about.
        DYNAMIC_ACCOUNT[:-4] + DYNAMIC_ACCOUNT[-4:].lower(),
        _resign(DYNAMIC_ACCOUNT.replace("0107NPS6869", "0607NPS6869")),
        _resign(
            DYNAMIC_ACCOUNT.replace("62340107NPS68690819thanh toan don hang", "62340819thanh toan don hang0107NPS6869")
        ),
        _resign(DYNAMIC_ACCOUNT.replace("5802VN", "5802VN" + _tlv("60", "Ha Noi") + _tlv("59", "Co Lan"))),
        _resign(DYNAMIC_ACCOUNT.replace("6304", _tlv("64", "0002vi") + "6304")),
        _resign(STATIC_CARD.replace("5303704", "530370454041000")),
        _resign(DYNAMIC_ACCOUNT.replace("540618000058", "58")),
        # Errors.
        _resign(DYNAMIC_ACCOUNT.replace("0819thanh toan don hang", "0800")),
        _resign(DYNAMIC_ACCOUNT.replace("5802VN", "5802VN5926" + "x" * 26)),
        _resign(DYNAMIC_ACCOUNT.replace("5802VN", "5802VN6016" + "x" * 16)),
        _resign(DYNAMIC_ACCOUNT.replace("5406180000", "540701800.0")),
        DYNAMIC_ACCOUNT.replace("5802VN", "5802VN5901\ud800"),  # no CRC can be computed
        DYNAMIC_ACCOUNT[:-4] + "2E2F",
        # Non-ASCII text counts characters, not bytes.
        _resign(DYNAMIC_ACCOUNT.replace("5802VN", "5802VN" + _tlv("59", "Cô Lan rau củ") + _tlv("60", "Hà Nội"))),
    ],
)
def test_it_decodes_tricky_payloads_like_the_strict_parser(payload: str) -> None:
    _assert_fast_path_agrees(payload)
