"""Markets (and provinces) side by side: the ranked lists of a nation,
province or ward, and the legacy units a province's markets belonged to
before the 2025 merger.

Each figure is grouped by market or province in one query (never one query each),
from the rollups and the roster, with the same definitions as the headline.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, F, Q, Sum

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


def _grouped(rows: Any, key: str, value: str) -> dict[Any, int]:
    return {row[key]: row[value] or 0 for row in rows}


def figures_by(scope: Scope, period: Period, group: str) -> dict[Any, dict[str, Any]]:
    """The headline figures of every market (``group="market"``) or province
    (``group="province"``) of the scope, keyed by its id or code, each figure
    in one grouped query. ``stalls`` is filled in by the callers (from the
    markets they list)."""
    # The field that names the group on a table with a market id, and on vendors.
    on_rollup = "market_id" if group == "market" else "market__province_id"
    start, end = period.start, period.end
    vendors = (
        Vendor.objects.filter(scope.rows_q())
        .values(key=F(on_rollup))
        .annotate(
            registered=Count("id", filter=~Q(status=Vendor.Status.SUSPENDED)),
            with_qr=Count("id", filter=Q(status=Vendor.Status.ACTIVE)),
            activated=Count(
                "id",
                filter=Q(
                    status=Vendor.Status.ACTIVE,
                    id__in=VendorActivity.objects.filter(first_active_date__lte=end).values("vendor_id"),
                ),
            ),
        )
    )
    payments = (
        MarketDay.objects.filter(
            scope.rows_q(), local_date__gte=start, local_date__lte=end, status=Payment.Status.SUCCEEDED
        )
        .values(key=F(on_rollup))
        .annotate(count=Sum("count"), value=Sum("value"))
    )

    def active(first: dt.date, last: dt.date) -> dict[Any, int]:
        rows = (
            VendorDay.objects.filter(scope.rows_q(), local_date__gte=first, local_date__lte=last)
            .values(key=F(on_rollup))
            .annotate(n=Count("vendor_id", distinct=True))
        )
        return _grouped(rows, "key", "n")

    regular: dict[Any, int] = defaultdict(int)
    regular_start, regular_end = window(end, REGULAR_WINDOW_DAYS)
    for row in (
        VendorDay.objects.filter(scope.rows_q(), local_date__gte=regular_start, local_date__lte=regular_end)
        .values("vendor_id", key=F(on_rollup))
        .annotate(days=Count("vendor_id"))
        .filter(days__gte=REGULAR_MIN_DAYS)
    ):
        regular[row["key"]] += 1

    roster = {row["key"]: row for row in vendors}
    totals = {row["key"]: row for row in payments}
    in_period = active(start, end)
    last_7 = active(*window(end, SHORT_WINDOW_DAYS))
    last_30 = active(*window(end, ACTIVE_WINDOW_DAYS))
    out: dict[Any, dict[str, Any]] = {}
    for key in set(roster) | set(totals) | set(in_period) | set(regular):
        counts = roster.get(key, {})
        with_qr, activated = counts.get("with_qr", 0), counts.get("activated", 0)
        count = (totals.get(key) or {}).get("count") or 0
        value = (totals.get(key) or {}).get("value") or 0
        out[key] = {
            "vendors_registered": counts.get("registered", 0),
            "vendors_with_qr": with_qr,
            "vendors_activated": activated,
            "activation": ratio(activated, with_qr),
            "active_vendors": in_period.get(key, 0),
            "active_7d": last_7.get(key, 0),
            "active_30d": last_30.get(key, 0),
            "active_share": ratio(last_30.get(key, 0), with_qr),
            "regular_vendors": regular.get(key, 0),
            "payments_count": count,
            "payments_value": value,
            "average_ticket": average(value, count),
        }
    return out


def _empty() -> dict[str, Any]:
    return {
        "vendors_registered": 0, "vendors_with_qr": 0, "vendors_activated": 0, "activation": None,
        "active_vendors": 0, "active_7d": 0, "active_30d": 0, "active_share": None, "regular_vendors": 0,
        "payments_count": 0, "payments_value": 0, "average_ticket": None,
    }  # fmt: skip


def _rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By active share (30 days ending at ``to``), then payments value, then name."""
    rows.sort(key=lambda row: (-(row["active_share"] or 0), -row["payments_value"], row["name"], str(row["code"])))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def ranked_markets(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """Every market of the scope with its headline figures, ranked by active
    share (vendors active in the 30 days ending at ``to`` ÷ vendors with a QR),
    then by payments value in the period, then by name; ``rank`` from 1."""
    markets = (
        scope.markets()
        .select_related("ward", "legacy_province")
        .only("id", "name", "code", "stall_count", "ward__code", "ward__name", "legacy_province__code")
    )
    figures = figures_by(scope, period, "market")
    rows = []
    for market in markets:
        row = {
            "id": market.pk,
            "name": market.name,
            "code": market.code,
            "ward": {"code": market.ward.code, "name": market.ward.name},
            "legacy_province": market.legacy_province.code if market.legacy_province else None,
            "stalls": market.stall_count,
            **figures.get(market.pk, _empty()),
        }
        row["coverage"] = ratio(row["vendors_with_qr"], market.stall_count)
        rows.append(row)
    return _rank(rows)


def ranked_provinces(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """Every province with at least one market, as ``ranked_markets`` ranks
    markets (the nation's page)."""
    provinces = {
        row["province_id"]: row
        for row in scope.markets()
        .values("province_id", "province__name")
        .annotate(markets=Count("id"), stalls=Sum("stall_count"))
    }
    figures = figures_by(scope, period, "province")
    rows = []
    for code, province in provinces.items():
        row = {
            "code": code,
            "name": province["province__name"],
            "markets": province["markets"],
            "stalls": province["stalls"] or 0,
            **figures.get(code, _empty()),
        }
        row["coverage"] = ratio(row["vendors_with_qr"], row["stalls"])
        rows.append(row)
    return _rank(rows)


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
