"""Fixtures of the bank-credit tests: the providers' keys
(``tests.payments.bank_credits.webhooks_support``, which also builds and
signs each provider's deliveries)."""

from __future__ import annotations

from tests.payments.bank_credits.webhooks_support import provider_keys

__all__ = ["provider_keys"]
