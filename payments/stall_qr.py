"""The VietQR payloads this project prints: a stall's static QR and a sale QR.

Both pay straight into the vendor's own bank account (service ``QRIBFTTA``,
the vendor's bank BIN and account number); the money never passes through
the programme. What lets a bank credit be attributed afterwards is the
purpose (tag 62.08), which most bank apps copy into the transfer content:

- static stall QR: ``CHO40 <merchant code>`` (e.g. ``CHO40 12345674``), no
  amount: the customer types the amount;
- sale QR: ``CHO40 <reference>`` (e.g. ``CHO40 K7QX3MZP2A``) with the amount,
  the reference also in the bill number (tag 62.01).

Everything here is upper-case ASCII letters, digits and spaces, so the QR
symbol is encoded in the compact alphanumeric mode (see ``chopay.qr``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from chopay import vietqr

if TYPE_CHECKING:
    from vendors.models import Vendor

__all__ = ["PURPOSE_PREFIX", "SERVICE_CODE", "sale_payload", "sale_purpose", "static_purpose", "vendor_static_payload"]

PURPOSE_PREFIX: Final = "CHO40"
SERVICE_CODE: Final = "QRIBFTTA"  # transfer to a bank account


def static_purpose(merchant_code: str) -> str:
    """``CHO40 12345674``: what a static stall QR puts in the transfer content."""
    return f"{PURPOSE_PREFIX} {merchant_code}"


def sale_purpose(reference: str) -> str:
    """``CHO40 K7QX3MZP2A``: what a sale QR puts in the transfer content."""
    return f"{PURPOSE_PREFIX} {reference}"


def vendor_static_payload(vendor: Vendor) -> str:
    """The static VietQR payload printed at ``vendor``'s stall (no amount).

    Raises ``vietqr.VietQRError`` if the vendor's bank data cannot be encoded
    (it can, for any vendor that passed onboarding validation).
    """
    return vietqr.encode(
        vietqr.VietQR(
            bank_bin=vendor.bank_id,
            account_number=vendor.account_number,
            service_code=SERVICE_CODE,
            purpose=static_purpose(vendor.merchant_code),
        )
    )


def sale_payload(*, vendor: Vendor, amount: int, reference: str) -> str:
    """The dynamic VietQR payload of one sale: ``amount`` đồng to ``vendor``,
    the reference in both the bill number and the purpose."""
    return vietqr.encode(
        vietqr.VietQR(
            bank_bin=vendor.bank_id,
            account_number=vendor.account_number,
            service_code=SERVICE_CODE,
            amount=amount,
            bill_number=reference,
            purpose=sale_purpose(reference),
        )
    )
