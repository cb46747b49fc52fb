"""Per volunteer: traders onboarded in the period, and how many of them
reached 2 active days within 30 days of onboarding (the field-agent rule of
docs/stats.md), from ``Vendor.onboarded_by`` and ``VendorDay``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from payments.models import local_date
from stats import folding
from stats.metrics import ONBOARDING_MIN_DAYS, ONBOARDING_WINDOW_DAYS, ratio
from stats.models import VendorDay
from stats.periods import Period, local_bounds
from stats.scopes import Scope
from stats.selectors_vendors import person
from vendors.models import Vendor


def volunteer_stats(scope: Scope, period: Period, *, only_user: int | None = None) -> dict[str, Any]:
    """One row per person who onboarded traders of the scope in the period
    (local dates of ``onboarded_at``), most onboarded first; ``only_user``
    keeps that person's row alone (a volunteer sees only themselves).

    ``reached`` counts those with ≥ 2 active days from their onboarding day to
    29 days after it (days after ``to`` count: the rule is about the trader's
    first 30 days, not the period); ``in_window`` those whose 30 days are not
    over today and who have not reached it yet (they still may)."""
    folding.ensure_current()
    today = timezone.localdate()
    start, stop = local_bounds(period.start, period.end)
    vendors = Vendor.objects.filter(scope.rows_q(), onboarded_by__isnull=False, onboarded_at__gte=start)
    vendors = vendors.filter(onboarded_at__lt=stop)
    if only_user is not None:
        vendors = vendors.filter(onboarded_by_id=only_user)
    onboarded = {
        vendor_id: (user_id, local_date(moment))
        for vendor_id, user_id, moment in vendors.values_list("id", "onboarded_by_id", "onboarded_at")
    }
    last_day = period.end + dt.timedelta(days=ONBOARDING_WINDOW_DAYS - 1)
    days: dict[int, int] = defaultdict(int)
    active_rows = VendorDay.objects.filter(
        vendor_id__in=vendors.values("id"), local_date__gte=period.start, local_date__lte=last_day
    ).values_list("vendor_id", "local_date")
    for vendor_id, day in active_rows:
        _user, since = onboarded[vendor_id]
        if since <= day < since + dt.timedelta(days=ONBOARDING_WINDOW_DAYS):
            days[vendor_id] += 1

    rows: dict[int, dict[str, int]] = defaultdict(lambda: {"onboarded": 0, "reached": 0, "in_window": 0})
    for vendor_id, (user_id, since) in onboarded.items():
        row = rows[user_id]
        row["onboarded"] += 1
        if days[vendor_id] >= ONBOARDING_MIN_DAYS:
            row["reached"] += 1
        elif since + dt.timedelta(days=ONBOARDING_WINDOW_DAYS - 1) >= today:
            row["in_window"] += 1
    users = get_user_model().objects.select_related("vendor", "phone").in_bulk(list(rows))
    out: list[dict[str, Any]] = [
        {"volunteer": person(users[user_id]), **row, "reached_share": ratio(row["reached"], row["onboarded"])}
        for user_id, row in rows.items()
        if user_id in users
    ]
    out.sort(key=lambda row: (-row["onboarded"], -row["reached"], row["volunteer"]["name"]))
    total = sum(row["onboarded"] for row in out)
    reached = sum(row["reached"] for row in out)
    return {
        "scope": scope.as_dict(),
        "period": period.as_dict(),
        "onboarded": total,
        "reached": reached,
        "reached_share": ratio(reached, total),
        "volunteers": out,
    }
