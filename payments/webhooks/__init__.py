"""Bank-credit webhooks: one module per aggregator (wire format + signature),
each turning a delivery into a :class:`~payments.webhooks.base.BankCredit`."""

from __future__ import annotations

from types import ModuleType

from payments.webhooks import casso, payos, sepay
from payments.webhooks.base import BankCredit, WebhookError

PROVIDERS: dict[str, ModuleType] = {module.SOURCE: module for module in (sepay, casso, payos)}

__all__ = ["PROVIDERS", "BankCredit", "WebhookError", "casso", "payos", "sepay"]
