"""Vendor-level reads: the follow-up list of a market (vendors holding a QR
who received nothing in 30 days) and the onboarding-month cohorts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Count, DateField, Exists, F, Max, OuterRef, Q, Subquery, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from chopay.identifiers import display_vn_mobile, normalize_vn_mobile
from payments.models import local_date
from stats.metrics import ACTIVE_WINDOW_DAYS, window
from stats.models import VendorDay, VendorMonth
from stats.periods import local_bounds
from stats.scopes import Scope
from vendors.models import Vendor


def person(user: Any) -> dict[str, Any] | None:
    """A user as a list shows them: name, and phone when known (the phone on
    record for them, else their username when it is a Vietnamese mobile
    number, else the phone of their stall when they are also a vendor)."""
    if user is None:
        return None
    recorded = getattr(user, "phone", None)  # accounts.UserPhone: absent for most logins
    vendor = getattr(user, "vendor", None)  # the reverse one-to-one: absent when not a vendor
    return person_of(
        user.pk,
        user.get_username(),
        user.get_full_name(),
        recorded.phone if recorded is not None else None,
        vendor.phone if vendor is not None else None,
    )


def person_of(
    user_id: int, username: str, full_name: str, recorded_phone: str | None, stall_phone: str | None
) -> dict[str, Any]:
    phone = recorded_phone or normalize_vn_mobile(username) or stall_phone
    return {
        "id": user_id,
        "name": full_name.strip() or username,
        "phone": display_vn_mobile(phone) if phone else None,
    }


def follow_up(market_id: int, end: dt.date) -> list[dict[str, Any]]:
    """Vendors of the market holding a QR (status active) with no succeeded
    payment in the 30 days ending at ``end``, by stall: who to visit, with
    their phone, who onboarded them and their last receipt on or before ``end``."""
    start, end = window(end, ACTIVE_WINDOW_DAYS)
    recent = VendorDay.objects.filter(vendor_id=OuterRef("pk"), local_date__gte=start, local_date__lte=end)
    last_receipt = (
        VendorDay.objects.filter(vendor_id=OuterRef("pk"), local_date__lte=end)
        .order_by()
        .values("vendor_id")
        .annotate(last=Max("local_date"))
        .values("last")
    )
    # The vendor's last active day ever (VendorActivity, folded with VendorDay) answers both
    # questions unless it is after ``end`` (a past period): only then are the day rows read.
    latest = "stats_activity__last_active_date"
    vendors = list(
        Vendor.objects.filter(market_id=market_id, status=Vendor.Status.ACTIVE)
        .filter(
            Q(**{f"{latest}__isnull": True})
            | Q(**{f"{latest}__lt": start})
            | (Q(**{f"{latest}__gt": end}) & ~Exists(recent))
        )
        .annotate(
            last_receipt=Case(
                When(**{f"{latest}__lte": end}, then=F(latest)),
                default=Subquery(last_receipt, output_field=DateField()),
                output_field=DateField(),
            )
        )
        .order_by("stall_label", "id")
        .values(
            "id",
            "full_name",
            "stall_label",
            "phone",
            "merchant_code",
            "onboarded_at",
            "onboarded_by_id",
            "last_receipt",
        )
    )
    # Rows, not model instances (a market has hundreds); the few volunteers once each.
    onboarders = {row["onboarded_by_id"] for row in vendors} - {None}
    users = get_user_model().objects.filter(pk__in=onboarders).select_related("vendor", "phone")
    people = {user.pk: person(user) for user in users}
    return [
        follow_up_entry(
            vendor["id"],
            vendor["full_name"],
            vendor["stall_label"],
            vendor["phone"],
            vendor["merchant_code"],
            local_date(vendor["onboarded_at"]),
            people.get(vendor["onboarded_by_id"]),
            vendor["last_receipt"],
        )
        for vendor in vendors
    ]


def follow_up_entry(
    vendor_id: int, name: str, stall: str, phone: str, merchant_code: str, onboarded_on: dt.date,
    onboarded_by: dict[str, Any] | None, last_receipt: dt.date | None,
) -> dict[str, Any]:  # fmt: skip
    """One vendor of the follow-up list, as the API and the page show it."""
    return {
        "vendor_id": vendor_id,
        "name": name,
        "stall": stall,
        "phone": display_vn_mobile(phone),
        "merchant_code": merchant_code,
        "onboarded_on": onboarded_on.isoformat(),
        "onboarded_by": onboarded_by,
        "last_receipt": last_receipt.isoformat() if last_receipt else None,
    }


# Both cohort counts in one round trip (PostgreSQL), each cohort vendor's month computed once:
# {cohort} is a query of the cohort's (vendor id, onboarding month); then its four parameters
# (first month, last month, last month, the mask of the last month's days up to the end).
COHORTS_SQL = (
    "WITH c (id, month) AS MATERIALIZED ({cohort}) "
    "SELECT c.month, NULL, COUNT(*) FROM c GROUP BY c.month "
    "UNION ALL SELECT c.month, m.month, COUNT(DISTINCT m.vendor_id) "
    "FROM c CROSS JOIN LATERAL (SELECT vm.vendor_id, vm.month FROM stats_vendormonth vm "
    "WHERE vm.vendor_id = c.id AND vm.month >= %s AND vm.month <= %s "
    "AND (vm.month < %s OR (vm.days & %s) <> 0) OFFSET 0) m GROUP BY 1, 2"
)


def cohort_counts_from(
    rows: list[tuple[Any, ...]],
) -> tuple[dict[dt.date, int], dict[tuple[dt.date, dt.date], int]]:
    """``cohort_counts`` from the rows of ``COHORTS_SQL``."""
    sizes: dict[dt.date, int] = {}
    activity: dict[tuple[dt.date, dt.date], int] = {}
    for month, active_month, n in rows:
        if active_month is None:
            sizes[_as_date(month)] = n
        else:
            activity[(_as_date(month), active_month)] = n
    return sizes, activity


def cohort_counts(
    scope: Scope, first: dt.date, end: dt.date
) -> tuple[dict[dt.date, int], dict[tuple[dt.date, dt.date], int]]:
    """For vendors of the scope onboarded from the month ``first`` to ``end``
    (local months): how many per onboarding month, and how many of them were
    active per (onboarding month, activity month), activity up to ``end``."""
    tz = timezone.get_default_timezone()
    start, stop = local_bounds(first, end)
    onboarding_month = TruncMonth("onboarded_at", output_field=DateField(), tzinfo=tz)
    cohort = Vendor.objects.filter(scope.rows_q(), onboarded_at__gte=start, onboarded_at__lt=stop)
    size_rows = cohort.annotate(month=onboarding_month).order_by().values("month").annotate(n=Count("id"))
    # Whole months from VendorMonth, the last one cut at ``end`` (its days after ``end`` masked off).
    last = end.replace(day=1)
    activity_rows = (
        VendorMonth.objects.filter(vendor_id__in=cohort.values("id"), month__gte=first, month__lte=last)
        .annotate(upto_end=F("days").bitand((1 << end.day) - 1))
        .filter(Q(month__lt=last) | Q(upto_end__gt=0))
        .annotate(cohort=TruncMonth("vendor__onboarded_at", output_field=DateField(), tzinfo=tz))
        .order_by()
        .values("cohort", "month")
        .annotate(n=Count("vendor_id", distinct=True))
    )
    if connection.vendor == "postgresql":  # both in one round trip, each cohort vendor's month computed once
        cohort_sql, cohort_params = (
            cohort.annotate(month=onboarding_month).values("id", "month").query.sql_with_params()
        )
        activity_params = (first, last, last, (1 << end.day) - 1)
        with connection.cursor() as cursor:
            cursor.execute(COHORTS_SQL.format(cohort=cohort_sql), (*cohort_params, *activity_params))
            return cohort_counts_from(cursor.fetchall())
    sizes = {_as_date(row["month"]): row["n"] for row in size_rows}
    activity = {(_as_date(row["cohort"]), row["month"]): row["n"] for row in activity_rows}
    return sizes, activity


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
