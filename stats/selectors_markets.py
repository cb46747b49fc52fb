"""Markets side by side: the ranked list of a nation, province or ward, and
the legacy units a province's markets belonged to before the 2025 merger.

Each figure is grouped by market in one query (never one query per market),
from the rollups and the roster, with the same definitions as the headline.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, Sum

from market.models import LegacyProvince, Market
from payments.models import Payment
from stats.metrics import (
    ACTIVE_WINDOW_DAYS,
    REGULAR_MIN_DAYS,
    REGULAR_WINDOW_DAYS,
    SHORT_WINDOW_DAYS,
    average,
    ratio,
    window,
)
from stats.models import MarketDay, VendorActivity, VendorDay
from stats.periods import Period
from stats.scopes import Scope
from vendors.models import Vendor


def _active_by_market(scope: Scope, start: Any, end: Any) -> dict[int, int]:
    rows = (
        VendorDay.objects.filter(scope.rows_q(), local_date__gte=start, local_date__lte=end)
        .values("market_id")
        .annotate(n=Count("vendor_id", distinct=True))
    )
    return {row["market_id"]: row["n"] for row in rows}


def _regular_by_market(scope: Scope, end: Any) -> dict[int, int]:
    start, end = window(end, REGULAR_WINDOW_DAYS)
    rows = (
        VendorDay.objects.filter(scope.rows_q(), local_date__gte=start, local_date__lte=end)
        .values("market_id", "vendor_id")
        .annotate(days=Count("vendor_id"))
        .filter(days__gte=REGULAR_MIN_DAYS)
    )
    out: dict[int, int] = defaultdict(int)
    for row in rows:
        out[row["market_id"]] += 1
    return out


def ranked_markets(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """Every market of the scope with its headline figures, ranked by active
    share (vendors active in the 30 days ending at ``to`` ÷ vendors with a QR),
    then by payments value in the period, then by name; ``rank`` from 1."""
    markets = list(
        scope.markets()
        .select_related("ward", "legacy_province")
        .only("id", "name", "code", "stall_count", "ward__code", "ward__name", "legacy_province__code")
    )
    vendors = {
        row["market_id"]: row
        for row in Vendor.objects.filter(scope.rows_q())
        .values("market_id")
        .annotate(
            registered=Count("id", filter=~Q(status=Vendor.Status.SUSPENDED)),
            with_qr=Count("id", filter=Q(status=Vendor.Status.ACTIVE)),
            activated=Count(
                "id",
                filter=Q(
                    status=Vendor.Status.ACTIVE,
                    id__in=VendorActivity.objects.filter(first_active_date__lte=period.end).values("vendor_id"),
                ),
            ),
        )
    }
    payments = {
        row["market_id"]: row
        for row in MarketDay.objects.filter(
            scope.rows_q(),
            local_date__gte=period.start,
            local_date__lte=period.end,
            status=Payment.Status.SUCCEEDED,
        )
        .values("market_id")
        .annotate(count=Sum("count"), value=Sum("value"))
    }
    active = _active_by_market(scope, period.start, period.end)
    active_7d = _active_by_market(scope, *window(period.end, SHORT_WINDOW_DAYS))
    active_30d = _active_by_market(scope, *window(period.end, ACTIVE_WINDOW_DAYS))
    regular = _regular_by_market(scope, period.end)

    rows = []
    for market in markets:
        counts = vendors.get(market.pk, {})
        with_qr = counts.get("with_qr", 0)
        activated = counts.get("activated", 0)
        count = (payments.get(market.pk) or {}).get("count") or 0
        value = (payments.get(market.pk) or {}).get("value") or 0
        rows.append(
            {
                "id": market.pk,
                "name": market.name,
                "code": market.code,
                "ward": {"code": market.ward.code, "name": market.ward.name},
                "legacy_province": market.legacy_province.code if market.legacy_province else None,
                "stalls": market.stall_count,
                "vendors_registered": counts.get("registered", 0),
                "vendors_with_qr": with_qr,
                "coverage": ratio(with_qr, market.stall_count),
                "vendors_activated": activated,
                "activation": ratio(activated, with_qr),
                "active_vendors": active.get(market.pk, 0),
                "active_7d": active_7d.get(market.pk, 0),
                "active_30d": active_30d.get(market.pk, 0),
                "active_share": ratio(active_30d.get(market.pk, 0), with_qr),
                "regular_vendors": regular.get(market.pk, 0),
                "payments_count": count,
                "payments_value": value,
                "average_ticket": average(value, count),
            }
        )
    rows.sort(key=lambda row: (-(row["active_share"] or 0), -row["payments_value"], row["name"], row["id"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def legacy_units(province_code: str) -> list[LegacyProvince | None]:
    """The legacy provinces the province's markets belonged to, by code, then
    ``None`` if some markets record none."""
    codes = set(Market.objects.filter(province_id=province_code).values_list("legacy_province_id", flat=True))
    units: list[LegacyProvince | None] = list(
        LegacyProvince.objects.filter(code__in=[code for code in codes if code]).order_by("code")
    )
    if None in codes:
        units.append(None)
    return units
