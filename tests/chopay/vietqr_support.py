"""What the VietQR codec tests share: the NAPAS samples, payloads built by
hand (their CRC from ``crc_of``, a bit-by-bit CRC-16/CCITT-FALSE written
independently of the codec, so a wrong table or seed there cannot hide),
and the hypothesis strategy of random VietQR values."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import strategies as st

from chopay.text import fold_ascii
from chopay.vietqr import SERVICE_CODES, VietQR, VietQRError, decode, encode

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


def crc_of(text: str) -> str:
    """CRC-16/CCITT-FALSE, bit by bit, as 4 upper-case hex digits."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return f"{crc:04X}"


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


def signed(body: str) -> str:
    """Append a correct CRC field to ``body`` (which must not end in 6304)."""
    return body + "6304" + crc_of(body + "6304")


def re_signed(payload: str) -> str:
    """Recompute the CRC of an edited payload."""
    assert payload[-8:-4] == "6304"
    return signed(payload[:-8])


def napas_38(bank_bin: str = "970403", account: str = "0011012345678", service: str = "QRIBFTTA") -> str:
    return tlv("38", tlv("00", "A000000727") + tlv("01", tlv("00", bank_bin) + tlv("01", account)) + tlv("02", service))


def decode_error(payload: str | bytes) -> VietQRError:
    with pytest.raises(VietQRError) as info:
        decode(payload)
    return info.value


def encode_error(qr: VietQR) -> VietQRError:
    with pytest.raises(VietQRError) as info:
        encode(qr)
    return info.value


VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxy"
    "àảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
    "AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY"
    "ÀẢÃÁẠẰẲẴẮẶẦẨẪẤẬÈẺẼÉẸỀỂỄẾỆÌỈĨÍỊÒỎÕÓỌỒỔỖỐỘỜỞỠỚỢÙỦŨÚỤỪỬỮỨỰỲỶỸÝỴ"
    "0123456789 .,-/#"
)
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def vietnamese_text(max_size: int) -> st.SearchStrategy[str | None]:
    return st.none() | st.text(VIETNAMESE, min_size=1, max_size=max_size)


vietqrs = st.builds(
    VietQR,
    bank_bin=st.text("0123456789", min_size=6, max_size=6),
    account_number=st.text(ALNUM, min_size=1, max_size=19),
    service_code=st.sampled_from(sorted(SERVICE_CODES)),
    amount=st.none() | st.integers(1, 10**13 - 1),
    bill_number=vietnamese_text(25),
    mobile_number=st.none() | st.from_regex(r"\+?84[0-9]{9}", fullmatch=True),
    store_label=vietnamese_text(25),
    reference_label=vietnamese_text(25),
    terminal_label=vietnamese_text(25),
    purpose=vietnamese_text(25),
    mcc=st.none() | st.text("0123456789", min_size=4, max_size=4),
    merchant_name=vietnamese_text(25),
    merchant_city=vietnamese_text(15),
)

ADDITIONAL = ("bill_number", "mobile_number", "store_label", "reference_label", "terminal_label", "purpose")
TEXT_FIELDS = (*ADDITIONAL, "merchant_name", "merchant_city")


def folded_fields(qr: VietQR) -> VietQR:
    """What ``decode(encode(qr))`` should give: every text field folded."""
    changes: dict[str, Any] = {
        name: fold_ascii(value) for name in TEXT_FIELDS if (value := getattr(qr, name)) is not None
    }
    return replace(qr, **changes)


BASE = VietQR(bank_bin="970403", account_number="0011012345678")
