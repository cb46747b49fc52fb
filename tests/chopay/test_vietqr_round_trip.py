"""VietQR values encoded and decoded back: random values (hypothesis) and the
canonical order of the tags.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from chopay.text import fold_ascii
from chopay.vietqr import VietQR, decode, encode
from tests.chopay.vietqr_support import (
    ADDITIONAL,
    CRC_FIELD,
    crc_of,
    encode_error,
    folded_fields,
    napas_38,
    signed,
    tlv,
    vietqrs,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(vietqrs)
def test_it_round_trips_random_values(qr: VietQR) -> None:
    additional = sum(4 + len(fold_ascii(v)) for name in ADDITIONAL if (v := getattr(qr, name)) is not None)
    if additional > 99:
        # Six long sub-fields cannot all fit in tag 62.
        assert encode_error(qr).code == "field_too_long"
        return

    payload = encode(qr)
    decoded = decode(payload)

    assert decoded == folded_fields(qr)
    assert decoded.warnings == ()
    assert decoded.initiation == ("static" if qr.amount is None else "dynamic")
    assert encode(decoded) == payload
    assert payload.isascii()
    assert CRC_FIELD.search(payload)
    assert payload[-4:] == crc_of(payload[:-4])
    if qr.amount is not None:
        assert tlv("54", str(qr.amount)) in payload


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

    assert payload == signed(
        "000201010212"
        + napas_38("970436", "1023456789")
        + "52045411530370454061250005802VN5913Co Lan rau cu6006Ha Noi"
        + tlv("62", "0103HD1" + "02100912345678" + "0306Sap 12" + "0504REF1" + "0702T1" + "0811CHO4 ABC123")
    )
