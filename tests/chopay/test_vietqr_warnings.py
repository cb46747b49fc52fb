"""Quirks real banks' codes have that the VietQR decoder accepts with a warning."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chopay.vietqr import decode, encode
from tests.chopay.vietqr_support import DYNAMIC_ACCOUNT, STATIC_CARD, napas_38, re_signed, signed, tlv


def test_it_accepts_an_amount_on_a_static_code_with_a_warning() -> None:
    payload = re_signed(DYNAMIC_ACCOUNT.replace("010212", "010211", 1))

    qr = decode(payload)

    assert qr.amount == 180000
    assert qr.purpose == "thanh toan don hang"
    assert qr.warnings == ("amount_on_static",)


def test_it_accepts_a_dynamic_code_without_amount_with_a_warning() -> None:
    payload = re_signed(STATIC_CARD.replace("010211", "010212", 1))

    qr = decode(payload)

    assert qr.amount is None
    assert qr.warnings == ("dynamic_without_amount",)


def test_it_accepts_tags_out_of_order_with_a_warning() -> None:
    payload = signed(
        "010212"
        + "000201"
        + "5802VN"
        + "5303704"
        + "5406180000"
        + tlv("62", "0819thanh toan don hang" + "0107NPS6869")
        + napas_38()
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
    payload = signed(
        "000201010212"
        + napas_38()
        + "5303704"
        + "5406180000"
        + "550201"  # tip indicator, not part of VietQR
        + "5802VN"
        + tlv("62", "0107NPS6869" + "0603***" + "0819thanh toan don hang")
    )

    qr = decode(payload)

    assert qr.warnings == ("unknown_tag:62.06", "unknown_tag:55")
    assert encode(qr) == DYNAMIC_ACCOUNT


@pytest.mark.parametrize(
    ("merchant", "warnings"),
    [
        (
            tlv("38", "0010A000000727" + "0208QRIBFTTA" + tlv("01", "0006970403" + "01130011012345678")),
            ("tags_out_of_order:38",),
        ),
        (
            tlv("38", "0010A000000727" + tlv("01", "01130011012345678" + "0006970403") + "0208QRIBFTTA"),
            ("tags_out_of_order:38.01",),
        ),
        (
            tlv("38", "0010A000000727" + tlv("01", "0006970403" + "01130011012345678") + "0208QRIBFTTA" + "0302XY"),
            ("unknown_tag:38.03",),
        ),
    ],
)
def test_it_accepts_a_non_canonical_tag_38_with_a_warning(merchant: str, warnings: tuple[str, ...]) -> None:
    payload = signed(
        "000201010212"
        + merchant
        + "5303704"
        + "5406180000"
        + "5802VN"
        + tlv("62", "0107NPS6869" + "0819thanh toan don hang")
    )

    qr = decode(payload)

    assert qr.warnings == warnings
    assert encode(qr) == DYNAMIC_ACCOUNT


def test_it_decodes_non_ascii_text_counting_characters() -> None:
    payload = signed("000201010211" + napas_38() + "53037045802VN" + tlv("59", "Cô Lan") + tlv("60", "Hà Nội"))

    qr = decode(payload)

    assert (qr.merchant_name, qr.merchant_city) == ("Cô Lan", "Hà Nội")
    # Re-encoding folds the text to ASCII.
    assert decode(encode(qr)).merchant_city == "Ha Noi"
