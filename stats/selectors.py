"""Adoption statistics of one scope over one period, as the plain dict the
API, the exports and the dashboard render (its shape: docs/stats.md).

Every figure comes from the rollups (``MarketDay``, ``VendorDay``,
``VendorActivity``) and the roster (markets and vendors), never from the
payments table; ``ensure_current()`` first folds what the change log holds
that is not folded yet, so a read is never behind the writes before it.
The definitions are written once in docs/stats.md ("Metric definitions").
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from payments.models import Channel, Payment
from stats import folding
from stats.metrics import (
    ACTIVE_WINDOW_DAYS,
    REGULAR_MIN_DAYS,
    REGULAR_WINDOW_DAYS,
    SHORT_WINDOW_DAYS,
    average,
    bucket_expression,
    ratio,
    window,
)
from stats.models import SIZE_BUCKETS, MarketDay, Target, VendorActivity, VendorDay
from stats.periods import Period, add_months
from stats.scopes import Scope, legacy_scope
from stats.selectors_markets import legacy_units, ranked_markets
from stats.selectors_vendors import cohort_counts, follow_up
from vendors.models import Vendor

SUCCEEDED: Final = Payment.Status.SUCCEEDED
COHORT_MONTHS: Final = 12

HEADLINE_KEYS: Final = (
    "stalls", "vendors_registered", "vendors_with_qr", "coverage", "vendors_activated", "activation",
    "active_vendors", "active_7d", "active_30d", "active_share", "regular_vendors",
    "payments_count", "payments_value", "average_ticket",
)  # fmt: skip


# --- the pieces -------------------------------------------------------------------------


def market_days(scope: Scope, start: dt.date, end: dt.date) -> QuerySet[MarketDay]:
    return MarketDay.objects.filter(scope.rows_q(), local_date__gte=start, local_date__lte=end)


def vendor_days(scope: Scope, start: dt.date, end: dt.date) -> QuerySet[VendorDay]:
    return VendorDay.objects.filter(scope.rows_q(), local_date__gte=start, local_date__lte=end)


def vendors_with_qr(scope: Scope) -> QuerySet[Vendor]:
    """Vendors holding a verified QR: status active (the QR is checked on activation)."""
    return Vendor.objects.filter(scope.rows_q(), status=Vendor.Status.ACTIVE)


def roster(scope: Scope) -> dict[str, int]:
    """The roster as it stands now (it keeps no history): stalls, vendors
    registered (pending or active, i.e. not suspended) and vendors with a QR."""
    stalls = scope.markets().aggregate(n=Sum("stall_count"))["n"] or 0
    vendors = Vendor.objects.filter(scope.rows_q()).aggregate(
        registered=Count("id", filter=~Q(status=Vendor.Status.SUSPENDED)),
        with_qr=Count("id", filter=Q(status=Vendor.Status.ACTIVE)),
    )
    return {"stalls": stalls, "vendors_registered": vendors["registered"], "vendors_with_qr": vendors["with_qr"]}


def active_count(scope: Scope, start: dt.date, end: dt.date) -> int:
    """Vendors with at least one succeeded payment (one ``VendorDay`` row) in the days."""
    return vendor_days(scope, start, end).values("vendor_id").distinct().count()


def regular_count(scope: Scope, end: dt.date) -> int:
    """Vendors with at least 10 active days in the 90 days ending at ``end``."""
    start, end = window(end, REGULAR_WINDOW_DAYS)
    return (
        vendor_days(scope, start, end)
        .values("vendor_id")
        .annotate(days=Count("vendor_id"))
        .filter(days__gte=REGULAR_MIN_DAYS)
        .count()
    )


def activated_count(scope: Scope, end: dt.date) -> int:
    """Vendors holding a QR whose first succeeded payment ever is on or before ``end``."""
    first_by_end = VendorActivity.objects.filter(first_active_date__lte=end).values("vendor_id")
    return vendors_with_qr(scope).filter(id__in=first_by_end).count()


def headline(scope: Scope, period: Period, stock: dict[str, int]) -> dict[str, Any]:
    """The headline figures of ``period`` (``stock``: the roster of ``roster()``)."""
    totals = (
        market_days(scope, period.start, period.end)
        .filter(status=SUCCEEDED)
        .aggregate(count=Sum("count"), value=Sum("value"))
    )
    count, value = totals["count"] or 0, totals["value"] or 0
    activated = activated_count(scope, period.end)
    active_30d = active_count(scope, *window(period.end, ACTIVE_WINDOW_DAYS))
    return {
        **stock,
        "coverage": ratio(stock["vendors_with_qr"], stock["stalls"]),
        "vendors_activated": activated,
        "activation": ratio(activated, stock["vendors_with_qr"]),
        "active_vendors": active_count(scope, period.start, period.end),
        "active_7d": active_count(scope, *window(period.end, SHORT_WINDOW_DAYS)),
        "active_30d": active_30d,
        "active_share": ratio(active_30d, stock["vendors_with_qr"]),
        "regular_vendors": regular_count(scope, period.end),
        "payments_count": count,
        "payments_value": value,
        "average_ticket": average(value, count),
    }


def size_buckets(scope: Scope, period: Period) -> list[dict[str, Any]]:
    rows = {
        row["size_bucket"]: row
        for row in market_days(scope, period.start, period.end)
        .filter(status=SUCCEEDED)
        .values("size_bucket")
        .annotate(count=Sum("count"), value=Sum("value"))
    }
    return [
        {
            "key": str(key),
            "min": low,
            "max": high,
            "count": rows.get(key, {}).get("count") or 0,
            "value": rows.get(key, {}).get("value") or 0,
        }
        for key, low, high in SIZE_BUCKETS
    ]


def channels(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """Every channel, with its share of the succeeded payments' count."""
    rows = {
        row["channel"]: row
        for row in market_days(scope, period.start, period.end)
        .filter(status=SUCCEEDED)
        .values("channel")
        .annotate(count=Sum("count"), value=Sum("value"))
    }
    total = sum(row["count"] or 0 for row in rows.values())
    out = []
    for channel in Channel:
        count = rows.get(channel.value, {}).get("count") or 0
        value = rows.get(channel.value, {}).get("value") or 0
        out.append(
            {"channel": channel.value, "label": str(channel.label), "count": count, "value": value,
             "share": ratio(count, total)}
        )  # fmt: skip
    return out


def refunds_and_disputes(scope: Scope, period: Period) -> dict[str, dict[str, int]]:
    """Payments now refunded, and now disputed, by their local date."""
    rows = {
        row["status"]: row
        for row in market_days(scope, period.start, period.end)
        .filter(status__in=[Payment.Status.REFUNDED, Payment.Status.DISPUTED])
        .values("status")
        .annotate(count=Sum("count"), value=Sum("value"))
    }

    def of(status: str) -> dict[str, int]:
        row = rows.get(status, {})
        return {"count": row.get("count") or 0, "value": row.get("value") or 0}

    return {"refunds": of(Payment.Status.REFUNDED), "disputes": of(Payment.Status.DISPUTED)}


def series(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """One row per bucket (day, ISO week or month; the first and last may be
    partial), empty buckets included; ``active_vendors`` counts distinct
    vendors with a succeeded payment in the bucket."""
    bucket = bucket_expression(period.granularity)
    out: dict[dt.date, dict[str, Any]] = {
        start: {"start": start.isoformat(), "payments_count": 0, "payments_value": 0, "active_vendors": 0}
        for start in period.bucket_starts()
    }
    payments = (
        market_days(scope, period.start, period.end)
        .filter(status=SUCCEEDED)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(count=Sum("count"), value=Sum("value"))
    )
    for row in payments:
        entry = out[period.bucket_of(_as_date(row["bucket"]))]
        entry["payments_count"] += row["count"] or 0
        entry["payments_value"] += row["value"] or 0
    active = (
        vendor_days(scope, period.start, period.end)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(vendors=Count("vendor_id", distinct=True))
    )
    for row in active:
        out[period.bucket_of(_as_date(row["bucket"]))]["active_vendors"] += row["vendors"]
    return list(out.values())


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def target(scope: Scope, figures: dict[str, Any]) -> dict[str, Any] | None:
    """The scope's target (provinces and markets have one) and the progress of
    the current figures towards it: coverage ÷ target coverage, active share ÷
    target active share (1.0 = reached; not capped)."""
    if scope.kind == "province":
        found = Target.objects.filter(province_id=scope.key).first()
    elif scope.kind == "market":
        found = Target.objects.filter(market_id=int(scope.key)).first()
    else:
        return None
    if found is None:
        return None
    coverage, active = float(found.coverage), float(found.active)
    return {
        "coverage": coverage,
        "active": active,
        "deadline": found.deadline.isoformat(),
        "coverage_progress": _progress(figures["coverage"], coverage),
        "active_progress": _progress(figures["active_share"], active),
        "set_at": found.set_at.isoformat(),
        "set_by": found.set_by.get_username() if found.set_by else None,
    }


def current_target(scope: Scope) -> dict[str, Any] | None:
    """The scope's target with its progress as of today (coverage now, active
    share over the 30 days ending today)."""
    folding.ensure_current()
    stock = roster(scope)
    active_30d = active_count(scope, *window(timezone.localdate(), ACTIVE_WINDOW_DAYS))
    figures = {
        "coverage": ratio(stock["vendors_with_qr"], stock["stalls"]),
        "active_share": ratio(active_30d, stock["vendors_with_qr"]),
    }
    return target(scope, figures)


def _progress(current: float | None, goal: float) -> float | None:
    if current is None or goal <= 0:
        return None
    return round(current / goal, 4)


def cohorts(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """Vendors by onboarding month (Vietnam time), the 12 months ending with
    the month of ``to``: how many were onboarded, and how many of them were
    active (≥ 1 succeeded payment) in their onboarding month (m0), the month
    after (m1) … up to the month of ``to`` (days after ``to`` not counted)."""
    last = period.end.replace(day=1)
    first = add_months(last, -(COHORT_MONTHS - 1))
    sizes, activity = cohort_counts(scope, first, period.end)
    out = []
    for index in range(COHORT_MONTHS):
        month = add_months(first, index)
        active = [activity.get((month, add_months(month, k)), 0) for k in range(COHORT_MONTHS - index)]
        out.append({"month": month.strftime("%Y-%m"), "vendors": sizes.get(month, 0), "active": active})
    return out


# --- the whole ------------------------------------------------------------------------------


def scope_stats(scope: Scope, period: Period) -> dict[str, Any]:
    """Everything the dashboard and the API show for ``scope`` over ``period``."""
    folding.ensure_current()
    stock = roster(scope)
    figures = headline(scope, period, stock)
    previous = headline(scope, period.previous(), stock)
    data: dict[str, Any] = {
        "scope": scope.as_dict(),
        "period": period.as_dict(),
        **figures,
        "size_buckets": size_buckets(scope, period),
        "channels": channels(scope, period),
        **refunds_and_disputes(scope, period),
        "previous": {key: previous[key] for key in HEADLINE_KEYS},
        "target": target(scope, figures),
        "series": series(scope, period),
        "cohorts": cohorts(scope, period),
    }
    if scope.kind in ("nation", "province", "ward"):
        data["markets"] = ranked_markets(scope, period)
    if scope.kind == "province":
        data["groups"] = legacy_groups(scope, period)
    if scope.kind == "market":
        data["follow_up"] = follow_up(int(scope.key), period.end)
    return data


def legacy_groups(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """The province's markets by the province they belonged to before the 2025
    merger (e.g. the former Bắc Kạn pilot markets of Thái Nguyên), each with
    its headline figures and series; none when no market records one."""
    units = legacy_units(scope.key)
    if not any(units):
        return []
    out = []
    for unit in units:
        group = legacy_scope(scope.key, unit)
        figures = headline(group, period, roster(group))
        out.append(
            {
                "code": unit.code if unit else None,
                "name": group.name if unit else _("No former province recorded"),
                "markets": group.markets().count(),
                **{key: figures[key] for key in HEADLINE_KEYS},
                "series": series(group, period),
            }
        )
    return out
