"""What the VietQR decoder refuses, each with its own error code and field
(other countries' EMV codes, tampered CRCs, lying lengths, garbage), and the
error type itself.
"""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chopay.vietqr import ERROR_CODES, VietQRError, decode
from tests.chopay.vietqr_support import (
    BASE,
    DYNAMIC_ACCOUNT,
    SAMPLES,
    STATIC_CARD,
    crc_of,
    decode_error,
    encode_error,
    napas_38,
    re_signed,
    signed,
    tlv,
)


def test_it_refuses_a_tampered_crc() -> None:
    tampered = DYNAMIC_ACCOUNT[:-1] + "F"

    error = decode_error(tampered)

    assert error.code == "crc_mismatch"
    assert error.field == "63"


def test_it_refuses_a_tampered_amount() -> None:
    assert decode_error(DYNAMIC_ACCOUNT.replace("5406180000", "5406980000")).code == "crc_mismatch"


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
    edited = re_signed(DYNAMIC_ACCOUNT.replace(old, new))

    assert edited != DYNAMIC_ACCOUNT
    assert edited[-4:] == crc_of(edited[:-4])  # the CRC alone would let it through
    assert decode_error(edited).code == "malformed_tlv"


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
    edited = re_signed(DYNAMIC_ACCOUNT.replace(old, new))

    assert decode_error(edited).code == "malformed_tlv"


def test_it_refuses_a_brazil_pix_payload() -> None:
    pix = signed(
        "000201"
        + tlv("26", tlv("00", "br.gov.bcb.pix") + tlv("01", "123e4567-e12b-12d1-a456-426655440000"))
        + "52040000"
        + "5303986"
        + "5802BR"
        + "5913Fulano de Tal"
        + "6008BRASILIA"
        + tlv("62", "0503***")
    )

    error = decode_error(pix)

    assert error.code == "not_vietqr"
    assert "26" in error.message


def test_it_refuses_a_thai_promptpay_payload() -> None:
    promptpay = signed("000201010211" + tlv("29", "0016A000000677010111" + "01130066812345678") + "5303764" + "5802TH")

    assert decode_error(promptpay).code == "not_vietqr"


def test_it_refuses_another_guid_in_tag_38() -> None:
    other = signed(
        "000201010211" + tlv("38", "0010A000000999" + tlv("01", "0006970403" + "010212")) + "5303704" + "5802VN"
    )

    error = decode_error(other)

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
    assert decode_error(garbage).code == "malformed_tlv"


@pytest.mark.parametrize("garbage", [b"", b"\xff\xfe\x00\x01", bytes(range(256)), b"\xc3("])
def test_it_refuses_garbage_bytes_as_malformed(garbage: bytes) -> None:
    assert decode_error(garbage).code == "malformed_tlv"


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
        payload = re_signed(payload)

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
        # The only accepted change: a CRC digit in lower case (only the CRC is
        # compared upper-cased: the samples' purposes hold lower-case letters).
        assert at >= len(sample) - 4
        assert edited[-4:].upper() == sample[-4:]
        assert qr.warnings == ("crc_lowercase",)


def test_it_refuses_a_missing_crc() -> None:
    error = decode_error("000201010211" + napas_38() + "5303704" + "5802VN")

    assert error.code == "missing_field"
    assert error.field == "63"


def test_it_refuses_a_crc_that_is_not_the_last_field() -> None:
    body = "000201010211" + napas_38() + "5303704" + "5802VN6304"
    # A value that ends like a CRC field must not be read as one.
    payload = body + crc_of(body) + tlv("99", "6304" + crc_of(body))

    assert decode_error(payload).code == "malformed_tlv"


def test_it_refuses_a_repeated_tag() -> None:
    payload = signed("000201010211" + napas_38() + "5303704" + "5303704" + "5802VN")

    assert decode_error(payload).code == "malformed_tlv"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ("000202010211" + napas_38() + "53037045802VN", "invalid_field", "00"),
        ("010211" + napas_38() + "53037045802VN", "missing_field", "00"),
        ("000201010213" + napas_38() + "53037045802VN", "invalid_field", "01"),
        ("000201" + napas_38() + "53037045802VN", "missing_field", "01"),
        ("000201010211" + napas_38() + "53038405802VN", "unsupported_currency", "currency"),
        ("000201010211" + napas_38() + "5802VN", "missing_field", "currency"),
        ("000201010211" + napas_38() + "53037045802TH", "unsupported_country", "country"),
        ("000201010211" + napas_38() + "5303704", "missing_field", "country"),
        ("000201010211" + napas_38(bank_bin="97040") + "53037045802VN", "invalid_field", "bank_bin"),
        ("000201010211" + napas_38(bank_bin="97O403") + "53037045802VN", "invalid_field", "bank_bin"),
        ("000201010211" + napas_38(account="0" * 20) + "53037045802VN", "field_too_long", "account_number"),
        ("000201010211" + napas_38(account="001-101") + "53037045802VN", "invalid_field", "account_number"),
        ("000201010211" + napas_38(service="QRFOO") + "53037045802VN", "invalid_field", "service_code"),
        ("000201010211" + tlv("38", "0010A000000727" + "0208QRIBFTTA") + "53037045802VN", "missing_field", "38.01"),
        ("000201010211" + tlv("38", "0010A000000727" + tlv("01", "0006970403")) + "53037045802VN", "missing_field", "account_number"),
        ("000201010211" + tlv("38", "0010A000000727" + tlv("01", "0006970403" + "010212")) + "53037045802VN", "missing_field", "service_code"),
        ("000201010211" + napas_38() + "5204541A53037045802VN", "invalid_field", "mcc"),
        ("000201010212" + napas_38() + "53037045802VN" + tlv("59", "N" * 26), "field_too_long", "merchant_name"),
        ("000201010212" + napas_38() + "53037045802VN" + tlv("60", "C" * 16), "field_too_long", "merchant_city"),
        ("000201010212" + napas_38() + "53037045802VN" + tlv("62", tlv("08", "p" * 26)), "field_too_long", "purpose"),
        ("000201010212" + napas_38() + "53037045802VN" + tlv("62", tlv("01", "b" * 26)), "field_too_long", "bill_number"),
    ],
)  # fmt: skip
def test_it_refuses_bad_fields_with_their_own_code(body: str, code: str, field: str) -> None:
    error = decode_error(signed(body))

    assert (error.code, error.field) == (code, field)


@pytest.mark.parametrize("amount", ["0", "-100", "180000.0", "180000.00", "018000", "1,000", "12345678901234", "١٢٣"])
def test_it_refuses_a_bad_amount_when_decoding(amount: str) -> None:
    payload = signed("000201010212" + napas_38() + "5303704" + tlv("54", amount) + "5802VN")

    error = decode_error(payload)

    assert error.code == "invalid_amount"
    assert error.field == "amount"


# --------------------------------------------------------------------------
# The error type


def test_it_raises_a_value_error_with_code_message_and_field() -> None:
    error = decode_error(DYNAMIC_ACCOUNT[:-1] + "0")

    assert isinstance(error, ValueError)
    assert error.code == "crc_mismatch"
    assert "computes to 2E2E" in error.message
    assert str(error).startswith("crc_mismatch: ")


def test_it_pickles_its_error() -> None:
    error = encode_error(replace(BASE, purpose="x" * 30))

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.code, copy.message, copy.field) == (error.code, error.message, error.field)
