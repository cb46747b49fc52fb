"""Fixtures of the vendor tests: a crowd of vendors to filter, and the SMS
gateway and bank-credit provider keys of the payments tests (payout-account
changes send SMS and are checked against incoming credits)."""

from __future__ import annotations

import pytest

from tests.factories import VendorFactory
from tests.payments.bank_credits.webhooks_support import provider_keys
from tests.payments.code_entry.support import sms
from vendors.models import Vendor

__all__ = ["crowd", "provider_keys", "sms"]


@pytest.fixture
def crowd(cast):
    """Three more vendors in cast.market with distinct status, bank and goods."""
    return [
        VendorFactory(
            market=cast.market,
            full_name="Hoàng Văn Sơn",
            status=Vendor.Status.PENDING,
            bank_id="970415",
            goods_category="meat",
        ),
        VendorFactory(
            market=cast.market,
            full_name="Đỗ Thị Mai",
            status=Vendor.Status.SUSPENDED,
            bank_id="970405",
            goods_category="fish",
        ),
        VendorFactory(market=cast.market, full_name="Lường Thị Yến", goods_category="fish"),
    ]
