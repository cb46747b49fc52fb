"""The fast path of decode, held to the strict parser's answer."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chopay.vietqr import VietQR, VietQRError, decode, encode
from chopay.vietqr._decode import _decode_strict
from chopay.vietqr._decode_fast import _decode_fast
from tests.chopay.vietqr_support import DYNAMIC_ACCOUNT, SAMPLES, STATIC_CARD, re_signed, tlv, vietqrs

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
        payload = re_signed(payload)
    if lower:
        payload = payload[:-4] + payload[-4:].lower()

    _assert_fast_path_agrees(payload)


@pytest.mark.parametrize(
    "payload",
    [
        # Values that contain what looks like the next tag.
        DYNAMIC_ACCOUNT,
        re_signed(DYNAMIC_ACCOUNT.replace("62340107NPS6869", "62340107NP08686")),
        re_signed(DYNAMIC_ACCOUNT.replace("0011012345678", "0208QRIBFTTA1")),
        # Lengths that lie while the CRC is right.
        re_signed(DYNAMIC_ACCOUNT.replace("6234", "6233")),
        re_signed(DYNAMIC_ACCOUNT.replace("0819thanh", "0818thanh")),
        re_signed(DYNAMIC_ACCOUNT.replace("5406180000", "5405180000")),
        re_signed(DYNAMIC_ACCOUNT.replace("38570010", "38560010")),
        re_signed(DYNAMIC_ACCOUNT.replace("01270006", "01260006")),
        re_signed(DYNAMIC_ACCOUNT.replace("01130011012345678", "01120011012345678")),
        # Canonical except for one quirk the strict path warns about.
        DYNAMIC_ACCOUNT[:-4] + DYNAMIC_ACCOUNT[-4:].lower(),
        re_signed(DYNAMIC_ACCOUNT.replace("0107NPS6869", "0607NPS6869")),
        re_signed(
            DYNAMIC_ACCOUNT.replace("62340107NPS68690819thanh toan don hang", "62340819thanh toan don hang0107NPS6869")
        ),
        re_signed(DYNAMIC_ACCOUNT.replace("5802VN", "5802VN" + tlv("60", "Ha Noi") + tlv("59", "Co Lan"))),
        re_signed(DYNAMIC_ACCOUNT.replace("6304", tlv("64", "0002vi") + "6304")),
        re_signed(STATIC_CARD.replace("5303704", "530370454041000")),
        re_signed(DYNAMIC_ACCOUNT.replace("540618000058", "58")),
        # Errors.
        re_signed(DYNAMIC_ACCOUNT.replace("0819thanh toan don hang", "0800")),
        re_signed(DYNAMIC_ACCOUNT.replace("5802VN", "5802VN5926" + "x" * 26)),
        re_signed(DYNAMIC_ACCOUNT.replace("5802VN", "5802VN6016" + "x" * 16)),
        re_signed(DYNAMIC_ACCOUNT.replace("5406180000", "540701800.0")),
        DYNAMIC_ACCOUNT.replace("5802VN", "5802VN5901\ud800"),  # no CRC can be computed
        DYNAMIC_ACCOUNT[:-4] + "2E2F",
        # Non-ASCII text counts characters, not bytes.
        re_signed(DYNAMIC_ACCOUNT.replace("5802VN", "5802VN" + tlv("59", "Cô Lan rau củ") + tlv("60", "Hà Nội"))),
    ],
)
def test_it_decodes_tricky_payloads_like_the_strict_parser(payload: str) -> None:
    _assert_fast_path_agrees(payload)
