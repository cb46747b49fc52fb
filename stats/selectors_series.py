"""The trend of a scope: payments and active vendors per day, ISO week or
month of a period (empty buckets included), for the scope and per group
(a province's former provinces), from the rollups ``MarketDay`` and
``VendorDay``. Each function that a read sends side by side
(``stats.concurrent``) is split into its queries (``*_reads``, ``*_rows``)
and their assembly (``*_assemble``, ``series_from``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from django.db import connection
from django.db.models import Count, F, Sum

from payments.models import Payment
from stats.metrics import bucket_expression
from stats.models import MarketDay, MarketDayActive, VendorDay
from stats.periods import Period
from stats.scopes import Scope

SUCCEEDED: Final = Payment.Status.SUCCEEDED


def series_by(scope: Scope, period: Period, group: str | None = None) -> dict[Any, list[dict[str, Any]]]:
    """One row per bucket (day, ISO week or month; the first and last may be
    partial), empty buckets included, for the scope (under ``None``) or per
    value of ``group`` (a field reaching from a rollup row, e.g.
    ``"market__legacy_province_id"``); ``active_vendors`` counts distinct
    vendors with a succeeded payment in the bucket."""
    bucket = bucket_expression(period.granularity)
    grp = {"grp": F(group)} if group else {}
    out: dict[Any, dict[dt.date, dict[str, Any]]] = {}

    def entry(row: dict[str, Any]) -> dict[str, Any]:
        key = row.get("grp")
        if key not in out:  # not setdefault: the empty series is built once per group, not per row
            out[key] = _empty_series(period)
        return out[key][period.bucket_of(_as_date(row["bucket"]))]

    payments = (
        MarketDay.objects.filter(
            scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end, status=SUCCEEDED
        )
        .annotate(bucket=bucket)
        .values("bucket", **grp)
        .annotate(count=Sum("count"), value=Sum("value"))
    )
    for row in payments:
        cell = entry(row)
        cell["payments_count"] += row["count"] or 0
        cell["payments_value"] += row["value"] or 0
    active = (
        VendorDay.objects.filter(scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end)
        .annotate(bucket=bucket)
        .values("bucket", **grp)
        .annotate(vendors=Count("vendor_id", distinct=True))
    )
    for row in active:
        entry(row)["active_vendors"] += row["vendors"]
    return {key: list(buckets.values()) for key, buckets in out.items()}


def series_and_groups(
    scope: Scope, period: Period, group: str
) -> tuple[list[dict[str, Any]], dict[Any, list[dict[str, Any]]]]:
    """``series(scope, period)`` and ``series_by(scope, period, group)`` at
    once. On PostgreSQL in two queries instead of four: the scope's payments
    are the sum of its groups' (every row has one group), and the active
    vendors of the scope and of each group (which do not add up: a vendor may
    be active in two groups) come from one ``GROUP BY GROUPING SETS``.
    ``series_and_groups_reads`` names the queries (independent, so they may
    run side by side) and ``series_and_groups_assemble`` puts them together."""
    reads = series_and_groups_reads(scope, period, group)
    return series_and_groups_assemble(period, {name: read() for name, read in reads.items()})


def series_and_groups_reads(scope: Scope, period: Period, group: str, *, payments: bool = True) -> dict[str, Any]:
    """The queries of ``series_and_groups``; without ``payments`` (PostgreSQL
    only) the caller reads the payments per bucket and group itself
    (``stats.market_days``) and passes them as ``series_payments``."""
    if connection.vendor != "postgresql":
        return {"series": lambda: series(scope, period), "series_by": lambda: series_by(scope, period, group)}
    bucket = bucket_expression(period.granularity)

    def payments_rows() -> list[tuple[Any, Any, int, int]]:
        rows = (
            MarketDay.objects.filter(
                scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end, status=SUCCEEDED
            )
            .order_by()
            .annotate(bucket=bucket)
            .values("bucket", grp=F(group))
            .annotate(count=Sum("count"), value=Sum("value"))
        )
        return [(row["bucket"], row["grp"], row["count"] or 0, row["value"] or 0) for row in rows]

    def active() -> list[tuple[Any, Any, int, int]]:
        summed = active_per_day(scope, period, group)
        if summed is not None:
            out: list[tuple[Any, Any, int, int]] = []
            whole: dict[Any, int] = {}
            for day, key, vendors in summed:
                out.append((day, key, 0, vendors))
                whole[day] = whole.get(day, 0) + vendors
            return out + [(day, None, 1, vendors) for day, vendors in whole.items()]
        days = (
            VendorDay.objects.filter(scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end)
            .order_by()
            .annotate(bucket=bucket)
            .values("bucket", "vendor_id", grp=F(group))
        )
        sql, params = days.query.sql_with_params()
        # Django's compiled SQL and fixed column names only; values go as parameters.
        grouped = (
            "SELECT t.bucket, t.grp, GROUPING(t.grp), COUNT(DISTINCT t.vendor_id) "  # noqa: S608
            f"FROM ({sql}) t GROUP BY GROUPING SETS ((t.bucket), (t.bucket, t.grp))"
        )
        with connection.cursor() as cursor:
            cursor.execute(grouped, params)
            return cursor.fetchall()

    if not payments:
        return {"series_active": active}
    return {"series_payments": payments_rows, "series_active": active}


def series_active_rows(scope: Scope, period: Period) -> list[tuple[Any, int]]:
    """The vendors with a succeeded payment per bucket of the period: (bucket start, count)."""
    summed = active_per_day(scope, period)
    if summed is not None:
        return [(day, vendors) for day, _key, vendors in summed]
    rows = (
        VendorDay.objects.filter(scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end)
        .order_by()
        .annotate(bucket=bucket_expression(period.granularity))
        .values("bucket")
        .annotate(n=Count("vendor_id", distinct=True))
    )
    return [(row["bucket"], row["n"]) for row in rows]


def active_per_day(scope: Scope, period: Period, group: str | None = None) -> list[tuple[Any, Any, int]] | None:
    """The active vendors per day of the period, of the scope (or per value of
    ``group``), as (day, group value or None, vendors) from ``MarketDayActive``:
    a sum over the markets of a few hundred pre-counted rows instead of a
    distinct count over the day rows. The sum is the distinct count while no
    vendor is counted in two of the summed markets on one day, which holds
    when no row summed has ``shared`` vendors (always, for one market). None
    when that does not hold, or the buckets are not days: the caller then
    counts distinct vendors over ``VendorDay``."""
    if period.granularity != "day":
        return None
    rows = (
        MarketDayActive.objects.filter(scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end)
        .order_by()
        .values("local_date", **({"grp": F(group)} if group else {}))
        .annotate(vendors_sum=Sum("vendors"), shared_sum=Sum("shared"))
    )
    out = []
    for row in rows:
        if row["shared_sum"] and scope.kind != "market":
            return None
        out.append((row["local_date"], row.get("grp"), int(row["vendors_sum"])))
    return out


def series_from(
    period: Period, payments: list[tuple[Any, Any, int, int]], active: list[tuple[Any, int]]
) -> list[dict[str, Any]]:
    """The scope's series from its payments per bucket (any group, summed) and its active vendors per bucket."""
    out = _empty_series(period)
    for day, _group, count, value in payments:
        cell = out[period.bucket_of(_as_date(day))]
        cell["payments_count"] += count
        cell["payments_value"] += value
    for day, vendors in active:
        out[period.bucket_of(_as_date(day))]["active_vendors"] += vendors
    return list(out.values())


def series_and_groups_assemble(
    period: Period, got: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[Any, list[dict[str, Any]]]]:
    if "series" in got:
        return got["series"], got["series_by"]
    whole = _empty_series(period)
    out: dict[Any, dict[dt.date, dict[str, Any]]] = {}

    def cell(buckets: dict[dt.date, dict[str, Any]], day: dt.date | dt.datetime) -> dict[str, Any]:
        return buckets[period.bucket_of(_as_date(day))]

    def of(key: Any) -> dict[dt.date, dict[str, Any]]:
        if key not in out:
            out[key] = _empty_series(period)
        return out[key]

    for day, key, count, value in got["series_payments"]:
        for target_cell in (cell(of(key), day), cell(whole, day)):
            target_cell["payments_count"] += count
            target_cell["payments_value"] += value
    for day, key, whole_scope, vendors in got["series_active"]:
        cell(whole if whole_scope else of(key), day)["active_vendors"] += vendors
    return list(whole.values()), {key: list(buckets.values()) for key, buckets in out.items()}


def series(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """The scope's row per bucket (see ``series_by``); on PostgreSQL its two
    grouped queries (payments, active vendors) are sent as one ``UNION ALL``."""
    if connection.vendor != "postgresql":
        return series_by(scope, period).get(None) or empty_series(period)
    bucket = bucket_expression(period.granularity)
    days = {"local_date__gte": period.start, "local_date__lte": period.end}
    payments = (
        MarketDay.objects.filter(scope.rows_q(), status=SUCCEEDED, **days)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(n=Sum("count"), v=Sum("value"))
    )
    active = (
        VendorDay.objects.filter(scope.rows_q(), **days)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(n=Count("vendor_id", distinct=True))
    )
    payments_sql, payments_params = payments.query.sql_with_params()
    active_sql, active_params = active.query.sql_with_params()
    both = (  # Django's compiled SQL and fixed aliases only; values go as parameters
        f"SELECT a.bucket, a.n, a.v, NULL FROM ({payments_sql}) a "  # noqa: S608
        f"UNION ALL SELECT b.bucket, NULL, NULL, b.n FROM ({active_sql}) b"
    )
    out = _empty_series(period)
    with connection.cursor() as cursor:
        cursor.execute(both, (*payments_params, *active_params))
        for day, count, value, vendors in cursor.fetchall():
            cell = out[period.bucket_of(_as_date(day))]
            if vendors is None:  # SUM of bigint is numeric: back to int
                cell["payments_count"] += int(count or 0)
                cell["payments_value"] += int(value or 0)
            else:
                cell["active_vendors"] += vendors
    return list(out.values())


def empty_series(period: Period) -> list[dict[str, Any]]:
    return list(_empty_series(period).values())


def _empty_series(period: Period) -> dict[dt.date, dict[str, Any]]:
    return {
        start: {"start": start.isoformat(), "payments_count": 0, "payments_value": 0, "active_vendors": 0}
        for start in period.bucket_starts()
    }


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
