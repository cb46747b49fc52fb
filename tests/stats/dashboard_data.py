"""Demo-like payments for the dashboard tests: a month of receipts in two
markets of Thái Nguyên (one a former Bắc Kạn pilot market), across channels
and sizes, with a refund, so that every chart and table has something to show."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.factories import PaymentFactory, VendorFactory

CHANNELS = ("static_qr", "static_qr", "dynamic_qr", "phone_transfer", "code_entry")
AMOUNTS = (15_000, 35_000, 60_000, 120_000, 25_000, 600_000, 45_000)


def month_of_payments(cast: Any, *, days: int = 30) -> None:
    """Payments on most of the last ``days`` local days for the cast's vendors,
    four more traders in ``cast.market`` (two of them never paid, for the
    follow-up list) and the other market, marked as a former Bắc Kạn market."""
    cast.other_market.legacy_province_id = "06"
    cast.other_market.save(update_fields=["legacy_province"])
    market = cast.market
    now = timezone.now()
    # Onboarded over the last months (the retention table), two of them this week.
    cast.vendor.onboarded_at = now - dt.timedelta(days=100)
    cast.vendor.save(update_fields=["onboarded_at"])
    payers = [cast.vendor] + [
        VendorFactory(market=market, onboarded_by=cast.volunteer, onboarded_at=now - dt.timedelta(days=back))
        for back in (75, 45, 20)
    ]
    VendorFactory(market=market, full_name="Phạm Thị Lan", stall_label="B-01", onboarded_by=cast.volunteer)
    VendorFactory(market=market, full_name="Đỗ Văn Hùng", stall_label="B-02", onboarded_by=cast.volunteer)
    serial = 0
    for back in range(days):
        moment = now - dt.timedelta(days=back)
        for index, vendor in enumerate(payers):
            if (back + index) % 4 == 3:  # not every trader every day
                continue
            for _ in range(1 + (back + index) % 3):
                serial += 1
                PaymentFactory(
                    vendor=vendor,
                    amount=AMOUNTS[serial % len(AMOUNTS)],
                    channel=CHANNELS[serial % len(CHANNELS)],
                    occurred_at=moment - dt.timedelta(minutes=serial),
                )
        if back % 2 == 0:
            PaymentFactory(vendor=cast.other_vendor, amount=40_000 + back * 1_000, occurred_at=moment)
    PaymentFactory(vendor=cast.vendor, amount=80_000, status="refunded", occurred_at=now - dt.timedelta(days=2))
