"""Bank-credit webhooks: one module per aggregator (wire format + signature),
each turning a delivery into a :class:`~payments.bank_credits.providers.base.BankCredit`."""

from __future__ import annotations

from types import ModuleType

from payments.bank_credits.providers import casso, payos, sepay
from payments.bank_credits.providers.base import BankCredit, WebhookError

PROVIDERS: dict[str, ModuleType] = {module.SOURCE: module for module in (sepay, casso, payos)}

__all__ = ["PROVIDERS", "BankCredit", "WebhookError", "casso", "payos", "sepay"]
