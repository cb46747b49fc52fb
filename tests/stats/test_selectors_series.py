"""The trend's active vendors per day, summed from ``MarketDayActive``, against
a distinct count of the raw payments — also when a vendor is active in two
markets on one day (the sum would count them twice: the read must not)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from payments.models import Payment
from stats.models import MarketDayActive
from stats.periods import Period
from stats.scopes import market_scope, province_scope
from stats.selectors import scope_stats
from tests.factories import PaymentFactory
from tests.stats.conftest import vn

NOV = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30), "day")


def raw_active(market_ids: list[int], day: str) -> int:
    return (
        Payment.objects.filter(market_id__in=market_ids, status="succeeded", vendor__isnull=False, local_date=day)
        .values("vendor_id")
        .distinct()
        .count()
    )


def check(stats: dict[str, Any], market_ids: list[int]) -> None:
    for row in stats["series"]:
        assert row["active_vendors"] == raw_active(market_ids, row["start"]), row["start"]


def test_active_vendors_per_day_equal_a_distinct_count_even_with_a_vendor_in_two_markets(data) -> None:
    market, other = data.market, data.cast.other_market
    province = scope_stats(province_scope(market.province), NOV)
    check(province, [market.pk, other.pk])
    assert {row["start"]: row["active_vendors"] for row in province["series"]}["2026-11-02"] == 1

    # v1 (Chợ Đồng Quang) is also paid at Chợ Thái on 2 Nov: one vendor, two markets that day.
    PaymentFactory(vendor=data.v1, market=other, amount=20_000, occurred_at=vn(11, 2, 9))
    PaymentFactory(vendor=data.cast.other_vendor, market=other, amount=20_000, occurred_at=vn(11, 2, 9))
    province = scope_stats(province_scope(market.province), NOV)

    assert set(
        MarketDayActive.objects.filter(local_date="2026-11-02").values_list("market_id", "vendors", "shared")
    ) == {
        (market.pk, 1, 1),
        (other.pk, 2, 1),
    }
    check(province, [market.pk, other.pk])
    assert {row["start"]: row["active_vendors"] for row in province["series"]}["2026-11-02"] == 2  # not 3
    groups = {row["code"]: row for row in province["groups"]}
    check(groups["06"], [other.pk])
    check(groups[None], [market.pk])
    check(scope_stats(market_scope(other), NOV), [other.pk])
