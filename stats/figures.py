"""The headline figures (docs/stats.md, "Metric definitions") of a scope, or
of each market, province or former province in it, in a handful of grouped
queries: the whole scope, the market ranking and the former-province groups
share this one definition.

One call runs four queries whatever the number of groups: stalls, the vendor
roster with activation, succeeded payments, and active and regular vendors
(every window in one pass over ``VendorMonth``, at most five rows per vendor
and market for 120 days), and — for the scope — the previous period in the
same passes (conditional aggregates over the two periods' days).
``figures_by`` answers several groupings at once with the stalls, roster and
payments read once per market and summed (they add up market by market).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from django.db import connection
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.expressions import Combinable

from market.models import Market
from payments.models import Payment
from stats.bits import BitCount, bits_in, hit
from stats.metrics import (
    ACTIVE_WINDOW_DAYS,
    REGULAR_MIN_DAYS,
    REGULAR_WINDOW_DAYS,
    SHORT_WINDOW_DAYS,
    average,
    ratio,
    window,
)
from stats.models import MarketDay, VendorMonth
from stats.periods import Period
from stats.scopes import Scope
from vendors.models import Vendor

# What names the group on a table carrying a market (rollups, vendors) and on markets.
GROUPS: Final[dict[str, tuple[str, str]]] = {
    "market": ("market_id", "id"),
    "province": ("market__province_id", "province_id"),
    "legacy": ("market__legacy_province_id", "legacy_province_id"),
}

HEADLINE_KEYS: Final = (
    "stalls", "vendors_registered", "vendors_with_qr", "coverage", "vendors_activated", "activation",
    "active_vendors", "active_7d", "active_30d", "active_share", "regular_vendors",
    "payments_count", "payments_value", "average_ticket",
)  # fmt: skip

Key = Any  # a market id, a province or legacy code, or None for the whole scope


def _grouped(queryset: QuerySet[Any], key: Combinable | None, **aggregates: Any) -> dict[Key, dict[str, Any]]:
    """``aggregates`` per group (``key``), or for the whole queryset under ``None``."""
    if key is None:
        return {None: queryset.aggregate(**aggregates)}
    return {row.pop("grp"): row for row in queryset.order_by().values(grp=key).annotate(**aggregates)}


def _days(first: dt.date, last: dt.date) -> Q:
    return Q(local_date__gte=first, local_date__lte=last)


def _vendor_windows(
    scope: Scope,
    hits: dict[str, tuple[dt.date, dt.date]],
    regulars: dict[str, tuple[dt.date, dt.date]],
    key: str | None,
) -> dict[Key, dict[str, int]]:
    """Per group, in one query over ``VendorMonth`` (a row per vendor, market
    and month, its active days a bit mask): the vendors with an active day in
    each of ``hits`` (name → first and last day), and those with at least 10
    active days in each of ``regulars`` (under ``regular_<name>``). The
    per-vendor figures are a subquery, never rows sent to Python."""
    spans = [*hits.values(), *regulars.values()]
    first, last = min(start for start, _end in spans), max(end for _start, end in spans)
    per_vendor = (
        VendorMonth.objects.filter(scope.rows_q(), month__gte=first.replace(day=1), month__lte=last)
        .order_by()
        .values("vendor_id", **({"grp": F(key)} if key else {}))
        .annotate(
            **{f"hit_{name}": Max(hit(*span)) for name, span in hits.items()},
            **{f"days_{name}": Sum(BitCount(bits_in(*span))) for name, span in regulars.items()},
        )
    )
    sql, params = per_vendor.query.sql_with_params()
    qn = connection.ops.quote_name
    columns = [f"SUM(t.{qn('hit_' + name)})" for name in hits] + [
        f"SUM(CASE WHEN t.{qn('days_' + name)} >= %s THEN 1 ELSE 0 END)" for name in regulars
    ]  # names are ours ("period_current", "previous", …), never input
    group = f"t.{qn('grp')}" if key else "NULL"
    # Only our own quoted names and Django's compiled SQL are formatted in; values go as parameters.
    outer = f"SELECT {group}, {', '.join(columns)} FROM ({sql}) t" + (f" GROUP BY t.{qn('grp')}" if key else "")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(outer, (*[REGULAR_MIN_DAYS] * len(regulars), *params))
        rows = cursor.fetchall()
    names = [*hits, *(f"regular_{name}" for name in regulars)]
    return {row[0]: {name: int(value or 0) for name, value in zip(names, row[1:], strict=True)} for row in rows}


def _roster(scope: Scope, key: Combinable | None, ends: dict[str, dt.date]) -> dict[Key, dict[str, Any]]:
    # A LEFT JOIN to the vendor's activity, read once per vendor whatever the number of periods.
    return _grouped(
        Vendor.objects.filter(scope.rows_q()).annotate(first_day=F("stats_activity__first_active_date")),
        key,
        registered=Count("id", filter=~Q(status__in=[Vendor.Status.SUSPENDED, Vendor.Status.REJECTED])),
        with_qr=Count("id", filter=Q(status=Vendor.Status.ACTIVE)),
        **{
            f"activated_{name}": Count("id", filter=Q(status=Vendor.Status.ACTIVE, first_day__lte=end))
            for name, end in ends.items()
        },
    )


def _payments(scope: Scope, key: Combinable | None, periods: dict[str, Period]) -> dict[Key, dict[str, Any]]:
    first = min(p.start for p in periods.values())
    last = max(p.end for p in periods.values())
    return _grouped(
        MarketDay.objects.filter(scope.rows_q(), _days(first, last), status=Payment.Status.SUCCEEDED),
        key,
        **{f"count_{name}": Sum("count", filter=_days(p.start, p.end)) for name, p in periods.items()},
        **{f"value_{name}": Sum("value", filter=_days(p.start, p.end)) for name, p in periods.items()},
    )


def day_windows(
    periods: dict[str, Period],
) -> tuple[dict[str, tuple[dt.date, dt.date]], dict[str, tuple[dt.date, dt.date]]]:
    """For each period (now, previous): the day windows whose active vendors are
    counted (the period, 7 and 30 days ending with it) and the regular-vendor
    window (90 days ending with it)."""
    windows: dict[str, tuple[dt.date, dt.date]] = {}
    for name, p in periods.items():
        windows[f"period_{name}"] = (p.start, p.end)
        windows[f"7d_{name}"] = window(p.end, SHORT_WINDOW_DAYS)
        windows[f"30d_{name}"] = window(p.end, ACTIVE_WINDOW_DAYS)
    regulars = {name: window(p.end, REGULAR_WINDOW_DAYS) for name, p in periods.items()}
    return windows, regulars


def _vendors(scope: Scope, periods: dict[str, Period], key: str | None) -> dict[Key, dict[str, int]]:
    windows, regulars = day_windows(periods)
    return _vendor_windows(scope, windows, regulars, key)


def _assemble(
    stalls: dict[Key, dict[str, Any]], roster: dict[Key, dict[str, Any]], payments: dict[Key, dict[str, Any]],
    vendors: dict[Key, dict[str, int]], names: list[str], grouped: bool,
) -> dict[Key, Any]:  # fmt: skip
    out: dict[Key, Any] = {}
    for key, markets in stalls.items():
        if grouped and not markets["markets"]:
            continue
        row: dict[str, Any] = {"markets": markets["markets"]}
        for name in names:
            row[name] = _headline(
                markets["stalls"] or 0, roster.get(key, {}), payments.get(key, {}), vendors.get(key, {}), name
            )
        out[key] = {**row.pop("current"), **row}
    return out


def figures(scope: Scope, period: Period, *, group: str | None = None, previous: bool = False) -> dict[Key, Any]:
    """The headline figures of ``period`` per group of ``scope`` (``group``:
    ``"market"``, ``"province"``, ``"legacy"``; ``None``: the scope as one,
    under the key ``None``), with the previous period's under ``"previous"``
    when asked. Groups with no market are left out; a group without vendors
    or payments gets zeros."""
    on_rows, on_markets = GROUPS[group] if group else (None, None)
    periods = {"current": period, **({"previous": period.previous()} if previous else {})}
    stalls = _grouped(
        Market.objects.filter(scope.market_q()),
        F(on_markets) if on_markets else None,
        stalls=Sum("stall_count"),
        markets=Count("id"),
    )
    row_key = F(on_rows) if on_rows else None
    roster = _roster(scope, row_key, {name: p.end for name, p in periods.items()})
    payments = _payments(scope, row_key, periods)
    vendors = _vendors(scope, periods, on_rows)
    return _assemble(stalls, roster, payments, vendors, list(periods), group is not None)


# The field of a market naming its group, per grouping.
MARKET_GROUP_FIELDS: Final[dict[str | None, str]] = {
    "market": "id",
    "province": "province_id",
    "legacy": "legacy_province_id",
}


def figures_by(scope: Scope, period: Period, groups: tuple[str | None, ...]) -> dict[str | None, dict[Key, Any]]:
    """``figures(scope, period, group=g, previous=g is None)`` for each ``g`` of
    ``groups``, with fewer queries: stalls, the roster and payments add up
    market by market, so they are read once per market and summed here for
    the scope and each grouping (every market of a scope belongs to exactly
    one group); active and regular vendors do not add up (a vendor may be
    active in two markets) and are counted per grouping — on PostgreSQL all
    groupings in one query (``_vendors_grouping_sets``). The nation, whose
    figures also count rows without a market, is computed as one.

    ``figures_by_reads`` names the queries (independent of each other, so a
    caller may run them side by side: ``stats.concurrent``) and
    ``figures_by_assemble`` puts their results together."""
    reads = figures_by_reads(scope, period, groups)
    return figures_by_assemble(scope, period, groups, {name: read() for name, read in reads.items()})


def _grouping_sets_cover(groups: tuple[str | None, ...]) -> set[str | None]:
    """The groupings whose active vendors ``_vendors_grouping_sets`` counts."""
    if connection.vendor != "postgresql" or len(groups) < 2:
        return set()
    return {group for group in groups if group in (None, "market", "legacy")}


def figures_by_reads(
    scope: Scope, period: Period, groups: tuple[str | None, ...], *, payments: bool = True
) -> dict[str, Any]:
    """The queries of ``figures_by``, by name, as functions of no argument;
    without ``payments`` the caller reads the payments per market itself
    (``stats.market_days``) and passes them to the assembly as ``payments``."""
    if scope.kind == "nation":
        return {
            f"group:{group}": lambda group=group: figures(scope, period, group=group, previous=group is None)
            for group in groups
        }
    both = {"current": period, "previous": period.previous()}
    fields = {"id", "stall_count", *(MARKET_GROUP_FIELDS[group] for group in groups if group)}
    ends = {name: p.end for name, p in both.items()}
    reads: dict[str, Any] = {
        "markets": lambda: list(Market.objects.filter(scope.market_q()).values(*sorted(fields))),
        "roster": lambda: _roster(scope, F("market_id"), ends),
    }
    if payments:
        reads["payments"] = lambda: _payments(scope, F("market_id"), both)
    covered = _grouping_sets_cover(groups)
    if covered:
        reads["every_vendor"] = lambda: _vendors_grouping_sets(scope, both, groups)
    for group in groups:
        if group not in covered:
            periods = both if group is None else {"current": period}
            on_rows = GROUPS[group][0] if group else None
            reads[f"vendors:{group}"] = lambda periods=periods, on_rows=on_rows: _vendors(scope, periods, on_rows)
    return reads


def figures_by_assemble(
    scope: Scope, period: Period, groups: tuple[str | None, ...], got: dict[str, Any]
) -> dict[str | None, dict[Key, Any]]:
    """``figures_by`` from the results of its reads (``got``, by name)."""
    if scope.kind == "nation":
        return {group: got[f"group:{group}"] for group in groups}
    markets = got["markets"]
    out: dict[str | None, dict[Key, Any]] = {}
    for group in groups:
        periods = ["current", "previous"] if group is None else ["current"]
        stalls: dict[Key, dict[str, Any]] = {} if group else {None: {"stalls": 0, "markets": 0}}
        roster: dict[Key, dict[str, Any]] = {}
        payments: dict[Key, dict[str, Any]] = {}
        for market in markets:
            key = market[MARKET_GROUP_FIELDS[group]] if group else None
            _add(stalls.setdefault(key, {}), {"stalls": market["stall_count"], "markets": 1})
            _add(roster.setdefault(key, {}), got["roster"].get(market["id"], {}))
            _add(payments.setdefault(key, {}), got["payments"].get(market["id"], {}))
        vendors = got["every_vendor"][group] if f"vendors:{group}" not in got else got[f"vendors:{group}"]
        out[group] = _assemble(stalls, roster, payments, vendors, periods, group is not None)
    return out


def _vendors_grouping_sets(
    scope: Scope, periods: dict[str, Period], groups: tuple[str | None, ...]
) -> dict[str | None, dict[Key, dict[str, int]]]:
    """``_vendors`` of the scope (``None`` in ``groups``), per market and per
    former province, in one query on PostgreSQL: per vendor and market the
    windows' hits and active days over ``VendorMonth``, then per vendor for
    each grouping (``GROUPING SETS``; a vendor's hit is the highest of its
    markets', its days their sum, as ``_vendor_windows`` does), then counted
    per group. Every window of both periods is computed for every grouping."""
    sets = [group for group in groups if group in (None, "market", "legacy")]
    windows, regulars = day_windows(periods)
    spans = [*windows.values(), *regulars.values()]
    first, last = min(start for start, _end in spans), max(end for _start, end in spans)
    per_market = (
        VendorMonth.objects.filter(scope.rows_q(), month__gte=first.replace(day=1), month__lte=last)
        .order_by()
        .values("vendor_id", "market_id", lg=F("market__legacy_province_id"))
        .annotate(
            **{f"hit_{name}": Max(hit(*span)) for name, span in windows.items()},
            **{f"days_{name}": Sum(BitCount(bits_in(*span))) for name, span in regulars.items()},
        )
    )
    sql, params = per_market.query.sql_with_params()
    qn = connection.ops.quote_name
    hits = [qn(f"hit_{name}") for name in windows]
    days = [qn(f"days_{name}") for name in regulars]
    wanted = {None: "(t.vendor_id)", "market": "(t.vendor_id, t.market_id)", "legacy": "(t.vendor_id, t.lg)"}
    # Per grouping column: whether a row leaves it out (GROUPING) and its value; a constant when unused.
    marks = [
        f"GROUPING(t.{column}) AS g_{column}, t.{column}" if group in sets else f"1 AS g_{column}, NULL AS {column}"
        for group, column in (("market", "market_id"), ("legacy", "lg"))
    ]
    per_vendor = (  # names are ours, never input; values go as parameters
        f"SELECT {', '.join(marks)}, "  # noqa: S608
        + ", ".join([*(f"MAX(t.{c}) AS {c}" for c in hits), *(f"SUM(t.{c}) AS {c}" for c in days)])
        + f" FROM ({sql}) t GROUP BY GROUPING SETS ({', '.join(wanted[group] for group in sets)})"
    )
    counted = (
        "SELECT u.g_market_id, u.g_lg, u.market_id, u.lg, "  # noqa: S608
        + ", ".join([*(f"SUM(u.{c})" for c in hits), *(f"SUM(CASE WHEN u.{c} >= %s THEN 1 ELSE 0 END)" for c in days)])
        + f" FROM ({per_vendor}) u GROUP BY u.g_market_id, u.g_lg, u.market_id, u.lg"
    )
    names = [*windows, *(f"regular_{name}" for name in regulars)]
    out: dict[str | None, dict[Key, dict[str, int]]] = {group: {} for group in sets}
    by_marks = {(1, 1): None, (0, 1): "market", (1, 0): "legacy"}  # 1: the row's grouping leaves it out
    with connection.cursor() as cursor:
        cursor.execute(counted, (*[REGULAR_MIN_DAYS] * len(regulars), *params))
        for market_left_out, legacy_left_out, market_id, legacy, *values in cursor.fetchall():
            group = by_marks[(market_left_out, legacy_left_out)]
            key = None if group is None else (market_id if group == "market" else legacy)
            out[group][key] = {name: int(value or 0) for name, value in zip(names, values, strict=True)}
    return out


def _add(total: dict[str, Any], part: dict[str, Any]) -> None:
    for name, value in part.items():
        total[name] = (total.get(name) or 0) + (value or 0)


def _headline(
    stalls: int, roster: dict[str, Any], payments: dict[str, Any], vendors: dict[str, int], name: str,
) -> dict[str, Any]:  # fmt: skip
    with_qr = roster.get("with_qr") or 0
    activated = roster.get(f"activated_{name}") or 0
    count = payments.get(f"count_{name}") or 0
    value = payments.get(f"value_{name}") or 0
    active_30d = vendors.get(f"30d_{name}") or 0
    return {
        "stalls": stalls,
        "vendors_registered": roster.get("registered") or 0,
        "vendors_with_qr": with_qr,
        "coverage": ratio(with_qr, stalls),
        "vendors_activated": activated,
        "activation": ratio(activated, with_qr),
        "active_vendors": vendors.get(f"period_{name}") or 0,
        "active_7d": vendors.get(f"7d_{name}") or 0,
        "active_30d": active_30d,
        "active_share": ratio(active_30d, with_qr),
        "regular_vendors": vendors.get(f"regular_{name}", 0),
        "payments_count": count,
        "payments_value": value,
        "average_ticket": average(value, count),
    }
