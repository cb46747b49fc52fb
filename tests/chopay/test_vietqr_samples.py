"""The VietQR codec against the samples printed in the NAPAS specification
(/work/shared/DOMAIN.md), and its CRC-16/CCITT-FALSE.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chopay.vietqr import VietQR, crc16_ccitt_false, crc16_ccitt_table, decode, encode
from tests.chopay.vietqr_support import DYNAMIC_ACCOUNT, DYNAMIC_CARD, SAMPLES, STATIC_CARD, crc_of


def test_it_finds_the_printed_sample_crcs_correct() -> None:
    for sample in SAMPLES:
        assert crc_of(sample[:-4]) == sample[-4:]


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
