"""The VietQR payloads this project prints for a vendor: a stall's static QR and a sale QR.

The payload format and its ``CHO40 …`` purpose are ``chopay.payment_text``
(which also reads them back from bank credits); this module only takes the
bank data from the vendor's row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chopay import payment_text

if TYPE_CHECKING:
    from vendors.models import Vendor

__all__ = ["sale_payload", "vendor_static_payload"]


def vendor_static_payload(vendor: Vendor) -> str:
    """The static VietQR payload printed at ``vendor``'s stall (no amount).

    Raises ``vietqr.VietQRError`` if the vendor's bank data cannot be encoded
    (it can, for any vendor that passed onboarding validation).
    """
    return payment_text.static_payload(
        bank_bin=vendor.bank_id, account_number=vendor.account_number, merchant_code=vendor.merchant_code
    )


def sale_payload(*, vendor: Vendor, amount: int, reference: str) -> str:
    """The dynamic VietQR payload of one sale: ``amount`` đồng to ``vendor``,
    the reference in both the bill number and the purpose."""
    return payment_text.sale_payload(
        bank_bin=vendor.bank_id, account_number=vendor.account_number, amount=amount, reference=reference
    )
