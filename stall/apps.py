from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StallConfig(AppConfig):
    """The trader's phone pages under /stall/ (docs/stall.md): live receipts
    announced aloud, sale QRs, code checks, their own QR, card and payments.
    The rules live in payments (receipts, sale_qr, code_entry, cards, ledger)."""

    name = "stall"
    label = "stall"
    verbose_name = _("Stall")
