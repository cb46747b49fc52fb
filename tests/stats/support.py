"""What the rollups must hold, computed straight from the raw payments, and
the rollups as they are, in the same shape, so that tests compare the two."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from payments.models import Payment
from stats.models import (
    MarketDay,
    MarketDayActive,
    PaymentChange,
    VendorActivity,
    VendorDay,
    VendorMonth,
    size_bucket,
)

Tables = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


def expected_tables() -> Tables:
    """MarketDay, VendorDay, VendorMonth, MarketDayActive and VendorActivity by the definitions in
    docs/stats.md, from every payment as it is now."""
    market_days: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    vendor_days: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    payments = Payment.objects.values_list("vendor_id", "market_id", "local_date", "channel", "status", "amount")
    for vendor_id, market_id, day, channel, status, amount in payments:
        if market_id is None:
            continue
        row = market_days[(market_id, day, channel, status, size_bucket(amount))]
        row[0] += 1
        row[1] += amount
        if vendor_id is not None and status == Payment.Status.SUCCEEDED:
            row = vendor_days[(vendor_id, day, market_id)]
            row[0] += 1
            row[1] += amount
    days: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for vendor_id, day, market_id in vendor_days:
        days[vendor_id].append((day, market_id))
    months: dict[tuple[Any, ...], int] = defaultdict(int)
    for vendor_id, day, market_id in vendor_days:
        months[(vendor_id, day.replace(day=1), market_id)] |= 1 << (day.day - 1)
    # Per market-day: its active vendors, and those of them active in another market that day too.
    markets_of: dict[tuple[int, dt.date], set[int]] = defaultdict(set)
    for vendor_id, day, market_id in vendor_days:
        markets_of[(vendor_id, day)].add(market_id)
    active: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for (vendor_id, day), markets in markets_of.items():
        for market_id in markets:
            active[(market_id, day)][0] += 1
            active[(market_id, day)][1] += len(markets) > 1
    activity = {
        (vendor_id,): (max(seen)[1], min(seen)[0], max(seen)[0], len({day for day, _ in seen}))
        for vendor_id, seen in days.items()
    }
    return {
        "market_days": {key: tuple(value) for key, value in market_days.items()},
        "vendor_days": {key: tuple(value) for key, value in vendor_days.items()},
        "vendor_months": {key: (mask,) for key, mask in months.items()},
        "market_day_active": {key: tuple(value) for key, value in active.items()},
        "activity": activity,
    }


def rollup_tables() -> Tables:
    """The rollup tables as they are (a row of count 0 would show up as one)."""
    return {
        "market_days": {
            (r.market_id, r.local_date, r.channel, r.status, r.size_bucket): (r.count, r.value)
            for r in MarketDay.objects.all()
        },
        "vendor_days": {(r.vendor_id, r.local_date, r.market_id): (r.count, r.value) for r in VendorDay.objects.all()},
        "vendor_months": {(r.vendor_id, r.month, r.market_id): (r.days,) for r in VendorMonth.objects.all()},
        "market_day_active": {
            (r.market_id, r.local_date): (r.vendors, r.shared) for r in MarketDayActive.objects.all()
        },
        "activity": {
            (r.vendor_id,): (r.market_id, r.first_active_date, r.last_active_date, r.active_days)
            for r in VendorActivity.objects.all()
        },
    }


def changes() -> list[tuple[int, int, int | None, int | None, str, int]]:
    """The pending change log: (payment, sign, vendor, market, status, amount) in order."""
    return list(
        PaymentChange.objects.order_by("id").values_list(
            "payment_id", "sign", "vendor_id", "market_id", "status", "amount"
        )
    )
