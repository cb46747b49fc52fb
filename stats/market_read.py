"""A market's statistics read in one round trip (PostgreSQL).

A market's read is about ten small queries, each answered by PostgreSQL in
0.1–2 ms at 10 M payments; what took most of its time was around them:
Django building each query from the ORM (about 0.5 ms apiece, 6–7 ms a read)
and a round trip per query. Here the same queries are written once as SQL
and sent together, as one multi-statement string (psycopg's client-side
cursor, Django's default, sends it in one message and reads the results in
turn): one round trip and no ORM work on the hot path. Each statement is the
SQL the general path compiles for a market (``stats.figures``,
``stats.market_days``, ``stats.selectors_series``,
``stats.selectors_vendors``, the target), and its rows go through the same
assembly, so the answer is the same; ``tests/stats/test_market_read.py``
compares the two paths on one dataset for every granularity and period kind.

``stats.selectors.scope_stats`` uses it for a market scope on PostgreSQL,
after ``folding.ensure_current()``; the other scopes (and SQLite) keep the
general path. The statements run in one backend one after the other, so
their results are the same fold's unless a fold commits between two of them
(as with the general path's side-by-side queries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

from django.db import connection
from django.utils import timezone

from payments.models import Payment
from stats.bits import bits_in, hit
from stats.figures import day_windows
from stats.metrics import ACTIVE_WINDOW_DAYS, REGULAR_MIN_DAYS, window
from stats.periods import Period, local_bounds
from stats.scopes import Scope
from stats.selectors_vendors import COHORTS_SQL, cohort_counts_from, follow_up_entry, person_of
from vendors.models import Vendor

ACTIVE: Final = str(Vendor.Status.ACTIVE)
NOT_REGISTERED: Final = (str(Vendor.Status.SUSPENDED), str(Vendor.Status.REJECTED))
SUCCEEDED: Final = str(Payment.Status.SUCCEEDED)

# Each vendor's activity, the LEFT JOIN to ``VendorActivity`` of the general path as one
# primary-key probe per vendor of the market (``OFFSET 0`` keeps the planner from hashing
# the whole table instead, which grows with every market's vendors: 0.25 ms of each of
# the two statements below at 10 M payments).
_ACTIVITY = (
    "LEFT JOIN LATERAL (SELECT x.first_active_date, x.last_active_date FROM stats_vendoractivity x "
    "WHERE x.vendor_id = v.id OFFSET 0) a ON true"
)

# A statement: its name, its SQL, its parameters and what turns its rows into the read's value.
Statement = tuple[str, str, list[Any], Callable[[list[tuple[Any, ...]]], Any]]


def applies(scope: Scope) -> bool:
    """Whether ``scope``'s read goes through here: a market, on PostgreSQL."""
    return scope.kind == "market" and connection.vendor == "postgresql"


def reads(scope: Scope, period: Period) -> dict[str, Any]:
    """The values the general path's reads give for a market (by the same
    names: ``figures:markets``, ``figures:roster``, ``figures:vendors:None``,
    ``figures:payments``, ``mix``, ``series_payments``, ``series_active``, ``follow_up``) and ``cohort_counts``
    (sizes, activity) and ``target`` (its values, or None), in one round trip."""
    market = int(scope.key)
    got = _send(
        [
            _cohorts(market, period),
            *_follow_up(market, period.end),
            _roster(market, period),
            *_payments(market, period),
            _vendors(market, period),
            _series_active(market, period),
            _markets(market),
            _target(market),
        ]
    )
    got["follow_up"] = _follow_up_list(got.pop("follow_up_rows"), got.pop("onboarders"))
    return got


def _send(statements: list[Statement]) -> dict[str, Any]:
    """Run ``statements`` in one round trip; each one's parsed rows by its name."""
    sql = ";\n".join(statement[1] for statement in statements)
    params = [value for statement in statements for value in statement[2]]
    got: dict[str, Any] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for index, (name, _sql, _params, parse) in enumerate(statements):
            if index:
                cursor.nextset()
            got[name] = parse(cursor.fetchall())
    return got


# --- the statements ------------------------------------------------------------------------------


def _markets(market: int) -> Statement:
    return (
        "figures:markets",
        "SELECT id, stall_count FROM market_market WHERE id = %s",
        [market],
        lambda rows: [{"id": row[0], "stall_count": row[1]} for row in rows],
    )


def _roster(market: int, period: Period) -> Statement:
    """``stats.figures._roster`` per market: registered, with a QR, activated by each period's end."""
    sql = (
        "SELECT v.market_id, "  # noqa: S608 (our own SQL fragment; values go as parameters)
        "COUNT(v.id) FILTER (WHERE v.status NOT IN (%s, %s)), "
        "COUNT(v.id) FILTER (WHERE v.status = %s), "
        "COUNT(v.id) FILTER (WHERE a.first_active_date <= %s AND v.status = %s), "
        "COUNT(v.id) FILTER (WHERE a.first_active_date <= %s AND v.status = %s) "
        f"FROM vendors_vendor v {_ACTIVITY} WHERE v.market_id = %s GROUP BY v.market_id"
    )
    params = [*NOT_REGISTERED, ACTIVE, period.end, ACTIVE, period.previous().end, ACTIVE, market]

    def parse(rows: list[tuple[Any, ...]]) -> dict[Any, dict[str, Any]]:
        names = ("registered", "with_qr", "activated_current", "activated_previous")
        return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}

    return "figures:roster", sql, params, parse


def _vendors(market: int, period: Period) -> Statement:
    """``stats.figures._vendor_windows`` of the market as one group: per vendor over
    ``VendorMonth``, each window's hit and each regular window's active days, then summed."""
    windows, regulars = day_windows({"current": period, "previous": period.previous()})
    spans = [*windows.values(), *regulars.values()]
    first, last = min(start for start, _end in spans), max(end for _start, end in spans)
    columns: list[str] = []
    params: list[Any] = []
    for name, span in windows.items():
        expression = hit(*span)
        columns.append(f'MAX({expression.sql}) AS "hit_{name}"')
        params += expression.params
    for name, span in regulars.items():
        expression = bits_in(*span)
        columns.append(f'SUM(bit_count(CAST(({expression.sql}) AS bit(31)))) AS "days_{name}"')
        params += expression.params
    per_vendor = (  # our own names and bits' SQL only; values go as parameters
        f'SELECT "stats_vendormonth"."vendor_id", {", ".join(columns)} FROM "stats_vendormonth" '  # noqa: S608
        'WHERE "stats_vendormonth"."market_id" = %s AND "stats_vendormonth"."month" >= %s '
        'AND "stats_vendormonth"."month" <= %s GROUP BY "stats_vendormonth"."vendor_id"'
    )
    params += [market, first.replace(day=1), last]
    sums = [f't."hit_{name}"' for name in windows]
    outer = (
        "SELECT "  # noqa: S608
        + ", ".join(
            [f"SUM({column})" for column in sums]
            + [f'SUM(CASE WHEN t."days_{name}" >= %s THEN 1 ELSE 0 END)' for name in regulars]
        )
        + f" FROM ({per_vendor}) t"
    )
    names = [*windows, *(f"regular_{name}" for name in regulars)]

    def parse(rows: list[tuple[Any, ...]]) -> dict[Any, dict[str, int]]:
        return {None: {name: int(value or 0) for name, value in zip(names, rows[0], strict=True)}}

    return "figures:vendors:None", outer, [*[REGULAR_MIN_DAYS] * len(regulars), *params], parse


def _payments(market: int, period: Period) -> list[Statement]:
    """What ``stats.market_days`` reads in one grouped pass, as three plain aggregates over
    the market's ``MarketDay`` rows (a round trip no longer costs a query each, and the three
    took 1.1 ms against the grouping sets' 1.8 ms at 10 M payments): succeeded payments of
    the period and the previous one, the period's mix by status, channel and size bucket,
    and its succeeded payments per day (the assembly buckets days into weeks or months,
    ``Period.bucket_of``: payments add up)."""
    previous = period.previous()
    totals = (
        "SELECT SUM(count) FILTER (WHERE local_date >= %s), SUM(value) FILTER (WHERE local_date >= %s), "
        "SUM(count) FILTER (WHERE local_date <= %s), SUM(value) FILTER (WHERE local_date <= %s) "
        "FROM stats_marketday WHERE market_id = %s AND local_date >= %s AND local_date <= %s AND status = %s"
    )
    mix = (
        "SELECT status, channel, size_bucket, SUM(count), SUM(value) FROM stats_marketday "
        "WHERE market_id = %s AND local_date >= %s AND local_date <= %s GROUP BY 1, 2, 3"
    )
    days = (
        "SELECT local_date, SUM(count), SUM(value) FROM stats_marketday "
        "WHERE market_id = %s AND local_date >= %s AND local_date <= %s AND status = %s GROUP BY 1"
    )
    names = ("count_current", "value_current", "count_previous", "value_previous")

    def parse_totals(rows: list[tuple[Any, ...]]) -> dict[int, dict[str, int | None]]:
        return {market: {name: _int(value) for name, value in zip(names, rows[0], strict=True)}}

    def parse_mix(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        return [
            {"status": status, "channel": channel, "size_bucket": size, "count": int(count), "value": int(value)}
            for status, channel, size, count, value in rows
        ]

    def parse_days(rows: list[tuple[Any, ...]]) -> list[tuple[Any, None, int, int]]:
        return [(day, None, int(count), int(value or 0)) for day, count, value in rows]

    current = [market, period.start, period.end]
    return [
        (
            "figures:payments",
            totals,
            [period.start, period.start, previous.end, previous.end, market, previous.start, period.end, SUCCEEDED],
            parse_totals,
        ),
        ("mix", mix, current, parse_mix),
        ("series_payments", days, [*current, SUCCEEDED], parse_days),
    ]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _series_active(market: int, period: Period) -> Statement:
    """``stats.selectors_series.series_active_rows``: a market's active vendors per day are
    its ``MarketDayActive`` rows; per week or month, distinct vendors over ``VendorDay``."""
    if period.granularity == "day":
        sql = (
            "SELECT local_date, vendors FROM stats_marketdayactive "
            "WHERE market_id = %s AND local_date >= %s AND local_date <= %s"
        )
        params: list[Any] = [market, period.start, period.end]
    else:
        sql = (
            "SELECT CAST(DATE_TRUNC(%s, local_date) AS date), COUNT(DISTINCT vendor_id) FROM stats_vendorday "
            "WHERE market_id = %s AND local_date >= %s AND local_date <= %s GROUP BY 1"
        )
        params = [period.granularity, market, period.start, period.end]
    return "series_active", sql, params, lambda rows: [(day, int(n)) for day, n in rows]


def _cohorts(market: int, period: Period) -> Statement:
    """``stats.selectors_vendors.cohort_counts`` of the market."""
    from stats.selectors import cohort_first_month  # the module that imports this one

    first, end = cohort_first_month(period), period.end
    start, stop = local_bounds(first, end)
    cohort = (
        "SELECT v.id, DATE_TRUNC('month', v.onboarded_at AT TIME ZONE %s) FROM vendors_vendor v "
        "WHERE v.market_id = %s AND v.onboarded_at >= %s AND v.onboarded_at < %s"
    )
    last = end.replace(day=1)
    params = [timezone.get_default_timezone_name(), market, start, stop, first, last, last, (1 << end.day) - 1]
    return "cohort_counts", COHORTS_SQL.format(cohort=cohort), params, cohort_counts_from


def _target(market: int) -> Statement:
    sql = (
        "SELECT t.coverage, t.active, t.deadline, t.set_at, u.username FROM stats_target t "
        "LEFT JOIN auth_user u ON u.id = t.set_by_id WHERE t.market_id = %s ORDER BY t.id LIMIT 1"
    )
    return "target", sql, [market], lambda rows: rows[0] if rows else None


def _follow_up(market: int, end: dt.date) -> list[Statement]:
    """``stats.selectors_vendors.follow_up``: the vendors (``follow_up_rows``) and the
    people who onboarded the market's QR holders (``onboarders``: their recorded phone,
    and their stall's when they are also a vendor), put together by ``reads``."""
    start, end = window(end, ACTIVE_WINDOW_DAYS)
    vendors = (
        "SELECT v.id, v.full_name, v.stall_label, v.phone, v.merchant_code, "  # noqa: S608 (as above)
        "CAST(v.onboarded_at AT TIME ZONE %s AS date), v.onboarded_by_id, "
        "CASE WHEN a.last_active_date <= %s THEN a.last_active_date ELSE "
        "(SELECT MAX(d.local_date) FROM stats_vendorday d WHERE d.vendor_id = v.id AND d.local_date <= %s) END "
        f"FROM vendors_vendor v {_ACTIVITY} "
        "WHERE v.market_id = %s AND v.status = %s AND (a.last_active_date IS NULL OR a.last_active_date < %s "
        "OR (a.last_active_date > %s AND NOT EXISTS (SELECT 1 FROM stats_vendorday d "
        "WHERE d.vendor_id = v.id AND d.local_date >= %s AND d.local_date <= %s))) "
        "ORDER BY v.stall_label, v.id"
    )
    vendor_params = [timezone.get_default_timezone_name(), end, end, market, ACTIVE, start, end, start, end]
    people = (
        "SELECT o.id, o.username, o.first_name, o.last_name, op.phone, ov.phone FROM auth_user o "
        "LEFT JOIN accounts_userphone op ON op.user_id = o.id LEFT JOIN vendors_vendor ov ON ov.user_id = o.id "
        "WHERE o.id IN (SELECT onboarded_by_id FROM vendors_vendor WHERE market_id = %s AND status = %s)"
    )

    def parse_people(rows: list[tuple[Any, ...]]) -> dict[int, dict[str, Any]]:
        return {
            user_id: person_of(user_id, username, f"{first_name} {last_name}".strip(), recorded, stall)
            for user_id, username, first_name, last_name, recorded, stall in rows
        }  # the full name as User.get_full_name() makes it

    return [
        ("follow_up_rows", vendors, vendor_params, list),
        ("onboarders", people, [market, ACTIVE], parse_people),
    ]


def _follow_up_list(rows: list[tuple[Any, ...]], people: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        follow_up_entry(vendor_id, name, stall, phone, code, onboarded_on, people.get(by_id), last_receipt)
        for vendor_id, name, stall, phone, code, onboarded_on, by_id, last_receipt in rows
    ]
