"""Fixtures of the bank-credit tests: the providers' keys
(``tests.payments.bank_credits.webhooks_support``, which also builds and
signs each provider's deliveries), and the batching intake called in-process
(``intake_support.IntakeClient``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.payments.bank_credits.intake_support import IntakeClient
from tests.payments.bank_credits.webhooks_support import provider_keys

__all__ = ["intake", "provider_keys"]


@pytest.fixture
def intake() -> Iterator[IntakeClient]:
    client = IntakeClient()
    yield client
    client.close()
