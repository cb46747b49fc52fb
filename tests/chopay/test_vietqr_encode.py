"""Encoding a VietQR: text folded to ASCII and fitted to the limits, bad
fields and amounts refused.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chopay.text import fold_ascii
from chopay.vietqr import VietQR, decode, encode, fit_purpose
from tests.chopay.vietqr_support import ADDITIONAL, BASE, encode_error, tlv


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
    error = encode_error(replace(BASE, **changes))

    assert (error.code, error.field) == (code, field)


@pytest.mark.parametrize("amount", [0, -1, -180000, 10**13, 10**20, True, 1000.0])
def test_it_refuses_to_encode_a_bad_amount(amount: Any) -> None:
    error = encode_error(replace(BASE, amount=amount))

    assert (error.code, error.field) == ("invalid_amount", "amount")


def test_it_encodes_the_largest_amount() -> None:
    payload = encode(replace(BASE, amount=10**13 - 1))

    assert "54139999999999999" in payload
    assert decode(payload).amount == 10**13 - 1


@given(st.integers(1, 10**13 - 1))
def test_it_never_writes_decimals_in_the_amount(amount: int) -> None:
    payload = encode(replace(BASE, amount=amount))

    assert tlv("54", str(amount)) in payload
    assert ".0" not in payload
