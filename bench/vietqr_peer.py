"""The baseline of the VietQR benchmark: the ``vietnam-qr-pay`` package from
PyPI (1.0.0, requirements-dev.txt), driven on the same values and payloads as
``chopay.vietqr`` in the same process.

``peer_encode`` builds the package's ``QRPay`` from a ``VietQR`` whose text
is already folded to ASCII (the package writes what it is given, and counts
characters, not bytes), ``peer_decode`` parses a payload and reads back the
fields ``chopay.vietqr`` has, and ``disagreements`` lists where the two
libraries differ on the same payloads: the encoded string, or a decoded field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from chopay.vietqr import VietQR, decode, encode

try:
    from vietnam_qr_pay import QRPay, VietQRService
except ImportError:  # not installed: the rows say so, no baseline
    QRPay = None
    VietQRService = None

FIELDS = (
    "bank_bin",
    "account_number",
    "service_code",
    "amount",
    "bill_number",
    "store_label",
    "purpose",
    "merchant_name",
    "merchant_city",
)


def available() -> bool:
    return QRPay is not None


def peer_encode(qr: VietQR) -> str:
    assert QRPay is not None and VietQRService is not None
    peer = QRPay.init_viet_qr(
        bank_bin=qr.bank_bin,
        bank_number=qr.account_number,
        amount=str(qr.amount) if qr.amount is not None else None,
        purpose=qr.purpose,
        service=VietQRService(qr.service_code),
    )
    peer.additional_data.bill_number = qr.bill_number
    peer.additional_data.store = qr.store_label
    peer.merchant.name = qr.merchant_name
    peer.city = qr.merchant_city
    return str(peer.build())


def peer_decode(payload: str) -> dict[str, Any]:
    assert QRPay is not None
    peer = QRPay(payload)
    return {
        "valid": peer.is_valid,
        "bank_bin": peer.consumer.bank_bin,
        "account_number": peer.consumer.bank_number,
        "service_code": peer.provider.service,
        "amount": int(peer.amount) if peer.amount else None,
        "bill_number": peer.additional_data.bill_number,
        "store_label": peer.additional_data.store,
        "purpose": peer.additional_data.purpose,
        "merchant_name": peer.merchant.name,
        "merchant_city": peer.city,
    }


def folded(values: Sequence[VietQR]) -> list[VietQR]:
    """The values as our encoder writes them (text folded to ASCII): the input
    the package needs to produce the same payloads."""
    return [decode(encode(qr)) for qr in values]


def disagreements(values: Sequence[VietQR]) -> tuple[Counter[str], list[str]]:
    """Per field, how many of the payloads the two libraries read differently
    (``encoded`` counts payloads the package builds differently from ours),
    and a few examples."""
    counts: Counter[str] = Counter()
    examples: list[str] = []
    for qr in values:
        ours = encode(qr)
        theirs = peer_encode(qr)
        if theirs != ours:
            counts["encoded"] += 1
            if len(examples) < 3:
                examples.append(f"encoded {ours!r} vs {theirs!r}")
        mine = decode(ours)
        read = peer_decode(ours)
        if not read["valid"]:
            counts["rejected"] += 1
        for field in FIELDS:
            if getattr(mine, field) != read[field]:
                counts[field] += 1
                if len(examples) < 3:
                    examples.append(f"{field}: ours {getattr(mine, field)!r}, theirs {read[field]!r}")
    return counts, examples
