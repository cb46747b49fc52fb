"""The VietQR payload printed at a vendor's stall: the static QR (a sale QR's is
``payments.sale_qr.services.sale_payload``).

The payload format and its ``CHO40 …`` purpose are ``chopay.payment_text``
(which also reads them back from bank credits); this module only takes the
bank data from the vendor's row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chopay import payment_text

if TYPE_CHECKING:
    from vendors.models import Vendor

__all__ = ["vendor_static_payload"]


def vendor_static_payload(vendor: Vendor) -> str:
    """The static VietQR payload printed at ``vendor``'s stall (no amount).

    Raises ``vietqr.VietQRError`` if the vendor's bank data cannot be encoded
    (it can, for any vendor that passed onboarding validation).
    """
    return payment_text.static_payload(
        bank_bin=vendor.bank_id, account_number=vendor.account_number, merchant_code=vendor.merchant_code
    )
