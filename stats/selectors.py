"""Adoption statistics of one scope over one period, as the plain dict the
API, the exports and the dashboard render (its shape: docs/stats.md).

Every figure comes from the rollups (``MarketDay``, ``VendorDay``,
``VendorActivity``) and the roster (markets and vendors), never from the
payments table; ``ensure_current()`` first folds what the change log holds
that is not folded yet, so a read is never behind the writes before it.
The definitions are written once in docs/stats.md ("Metric definitions");
the headline figures are ``stats.figures``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from django.db import connection
from django.db.models import Count, F, Sum
from django.utils import timezone

from payments.models import Channel, Payment
from stats import concurrent, folding
from stats.figures import HEADLINE_KEYS, figures, figures_by_assemble, figures_by_reads
from stats.market_days import market_days
from stats.metrics import bucket_expression, ratio
from stats.models import SIZE_BUCKETS, MarketDay, Target, VendorDay
from stats.periods import Period, add_months
from stats.scopes import Scope
from stats.selectors_markets import legacy_groups, legacy_names, market_rows, ranked_markets, ranked_provinces
from stats.selectors_vendors import cohort_counts, follow_up

SUCCEEDED: Final = Payment.Status.SUCCEEDED
COHORT_MONTHS: Final = 12


# --- the pieces -------------------------------------------------------------------------


def payment_mix(scope: Scope, period: Period) -> dict[str, Any]:
    """Succeeded payments by size bucket and by channel (every channel, with
    its share of the count), and the payments now refunded or disputed, by
    their local date: one grouped query."""
    return payment_mix_from(payment_mix_rows(scope, period))


def payment_mix_rows(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """The query of ``payment_mix``: count and value by status, channel and size bucket."""
    return list(
        MarketDay.objects.filter(scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end)
        .order_by()
        .values("status", "channel", "size_bucket")
        .annotate(count=Sum("count"), value=Sum("value"))
    )


def payment_mix_from(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``payment_mix`` from its rows."""

    def total(**match: str) -> dict[str, int]:
        chosen = [row for row in rows if all(row[field] == value for field, value in match.items())]
        return {"count": sum(row["count"] or 0 for row in chosen), "value": sum(row["value"] or 0 for row in chosen)}

    succeeded = total(status=SUCCEEDED)["count"]
    channels = []
    for channel in Channel:
        sums = total(status=SUCCEEDED, channel=channel.value)
        channels.append(
            {"channel": channel.value, "label": str(channel.label), **sums, "share": ratio(sums["count"], succeeded)}
        )
    return {
        "size_buckets": [
            {"key": str(key), "min": low, "max": high, **total(status=SUCCEEDED, size_bucket=str(key))}
            for key, low, high in SIZE_BUCKETS
        ],
        "channels": channels,
        "refunds": total(status=Payment.Status.REFUNDED),
        "disputes": total(status=Payment.Status.DISPUTED),
    }


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
    rows = (
        VendorDay.objects.filter(scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end)
        .order_by()
        .annotate(bucket=bucket_expression(period.granularity))
        .values("bucket")
        .annotate(n=Count("vendor_id", distinct=True))
    )
    return [(row["bucket"], row["n"]) for row in rows]


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


def target(scope: Scope, current: dict[str, Any]) -> dict[str, Any] | None:
    """The scope's target (provinces and markets have one) and the progress of
    the current figures towards it: coverage ÷ target coverage, active share ÷
    target active share (1.0 = reached; not capped)."""
    return target_progress(scope_target(scope), current)


def scope_target(scope: Scope) -> Target | None:
    """The target set for the scope, if any (provinces and markets have one)."""
    if scope.kind == "province":
        return Target.objects.select_related("set_by").filter(province_id=scope.key).first()
    if scope.kind == "market":
        return Target.objects.select_related("set_by").filter(market_id=int(scope.key)).first()
    return None


def target_progress(found: Target | None, current: dict[str, Any]) -> dict[str, Any] | None:
    """``target`` from the target found and the current figures."""
    if found is None:
        return None
    coverage, active = float(found.coverage), float(found.active)
    return {
        "coverage": coverage,
        "active": active,
        "deadline": found.deadline.isoformat(),
        "coverage_progress": _progress(current["coverage"], coverage),
        "active_progress": _progress(current["active_share"], active),
        "set_at": found.set_at.isoformat(),
        "set_by": found.set_by.get_username() if found.set_by else None,
    }


def current_target(scope: Scope) -> dict[str, Any] | None:
    """The scope's target with its progress as of today (coverage now, active
    share over the 30 days ending today)."""
    folding.ensure_current()
    today = timezone.localdate()
    return target(scope, figures(scope, Period(today, today))[None])


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


# The reads that take longest (measured at 10 M payments), sent first so that the
# pool's threads end together: the slowest query is not left to start last.
_SLOWEST: Final = ("cohorts", "series_active", "figures:every_vendor", "follow_up", "figures:roster")


def _slowest_first(reads: dict[str, Any]) -> dict[str, Any]:
    first = {name: reads[name] for name in _SLOWEST if name in reads}
    return {**first, **{name: read for name, read in reads.items() if name not in first}}


def scope_stats(scope: Scope, period: Period) -> dict[str, Any]:
    """Everything the dashboard and the API show for ``scope`` over ``period``.

    Its queries are independent of each other and are sent side by side on
    PostgreSQL (``stats.concurrent``); the answer is the same either way."""
    folding.ensure_current()
    groups: tuple[str | None, ...] = (None,)
    if scope.kind == "nation":
        groups += ("province",)
    if scope.kind in ("nation", "province", "ward"):
        groups += ("market",)
    if scope.kind == "province":
        groups += ("legacy",)
    # A market's read on PostgreSQL takes its payments, mix and trend's payments
    # from one pass over MarketDay (stats.market_days, which says why only a market's).
    one_pass = connection.vendor == "postgresql" and scope.kind == "market"
    legacy = "market__legacy_province_id"
    reads: dict[str, Any] = {
        f"figures:{name}": read for name, read in figures_by_reads(scope, period, groups, payments=not one_pass).items()
    }
    if one_pass:
        reads["market_days"] = lambda: market_days(scope, period)
    else:
        reads["mix"] = lambda: payment_mix_rows(scope, period)
    if scope.kind == "province":
        reads.update(series_and_groups_reads(scope, period, legacy, payments=not one_pass))
    elif one_pass:
        reads["series_active"] = lambda: series_active_rows(scope, period)
    else:
        reads["series"] = lambda: series(scope, period)
    reads["cohorts"] = lambda: cohorts(scope, period)
    reads["target"] = lambda: scope_target(scope)
    if scope.kind in ("nation", "province", "ward"):
        reads["markets"] = lambda: market_rows(scope)
    if scope.kind == "province":
        reads["legacy_names"] = legacy_names
    if scope.kind == "market":
        reads["follow_up"] = lambda: follow_up(int(scope.key), period.end)
    got = concurrent.run(_slowest_first(reads))
    if one_pass:
        got["figures:payments"] = got["market_days"]["by_market"]
        got["mix"] = got["market_days"]["mix"]
        got["series_payments"] = got["market_days"]["series"]

    computed = figures_by_assemble(
        scope,
        period,
        groups,
        {name.removeprefix("figures:"): value for name, value in got.items() if name.startswith("figures:")},
    )
    by_unit: dict[Any, list[dict[str, Any]]] = {}
    if scope.kind == "province":
        trend, by_unit = series_and_groups_assemble(period, got)
    elif one_pass:
        trend = series_from(period, got["series_payments"], got["series_active"])
    else:
        trend = got["series"]
    headline = computed[None][None]
    previous = headline.pop("previous")
    headline.pop("markets")
    data: dict[str, Any] = {
        "scope": scope.as_dict(),
        "period": period.as_dict(),
        **headline,
        **payment_mix_from(got["mix"]),
        "previous": {key: previous[key] for key in HEADLINE_KEYS},
        "target": target_progress(got["target"], headline),
        "series": trend,
        "cohorts": got["cohorts"],
    }
    if scope.kind == "nation":
        data["provinces"] = ranked_provinces(scope, period, computed["province"])
    if scope.kind in ("nation", "province", "ward"):
        data["markets"] = ranked_markets(scope, period, computed["market"], rows=got["markets"])
    if scope.kind == "province":
        data["groups"] = legacy_groups(
            scope, period, by_unit, empty_series(period), computed["legacy"], names=got["legacy_names"]
        )
    if scope.kind == "market":
        data["follow_up"] = got["follow_up"]
    return data
