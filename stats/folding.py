"""Folding the payment change log into the rollups, and rebuilding them.

``stats_paymentchange`` rows are written by triggers in each payment's own
transaction (stats/triggers.py). ``fold_pending`` takes the committed ones in
batches, adds their signed deltas to ``MarketDay`` and ``VendorDay``, refreshes
``VendorActivity`` of the vendors they touch and deletes them — all in one
transaction per batch, so a change is folded exactly once: a crash folds
nothing of its batch, and a change committed late (after a higher-numbered one
was folded) is simply still there for the next fold. There is no "last id
seen" cursor to miss it. docs/stats.md, "How the figures stay current and exact".

Concurrency on PostgreSQL: folders lock the change rows they take with
``FOR UPDATE SKIP LOCKED`` (two folders never take the same row), upsert the
rollup rows in sorted key order (no deadlock between folders), and serialise
per vendor with advisory locks taken before anything else, so that each one
recomputes a vendor's activity from day rows it can all see. A fold holds the
global stats lock in shared mode; ``rebuild`` holds it exclusively. SQLite
runs one writing transaction at a time (``transaction_mode IMMEDIATE``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from payments.models import Payment
from stats import folding_active, folding_pg
from stats.models import SIZE_BUCKETS, size_bucket

# Change rows one fold transaction takes: PostgreSQL folds a batch in a few
# set-based statements (stats/folding_pg.py), SQLite row by row in Python.
FOLD_BATCH = 5_000
FOLD_BATCH_PG = 50_000
# Rows per upsert statement (SQLite allows 32,766 parameters per statement).
_CHUNK = 1_000
# pg_advisory_*lock(bigint): "stats" + 1. Folds take it shared, rebuild exclusive.
STATS_LOCK = 0x5354_4154_5301
# pg_advisory_xact_lock(int, int) namespace of the per-vendor fold locks.
_VENDOR_LOCKS = 0x5354_4156
SUCCEEDED = str(Payment.Status.SUCCEEDED)

MARKET_DAY_KEY = ("market_id", "local_date", "channel", "status", "size_bucket")
VENDOR_DAY_KEY = ("vendor_id", "local_date", "market_id")

Deltas = dict[tuple[Any, ...], list[int]]  # key → [count, value]


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- folding ---------------------------------------------------------------------


def fold_pending(max_rows: int | None = None) -> int:
    """Fold the committed change rows (at most ``max_rows``) into the rollups;
    returns how many were folded. Safe to run any number of times and from
    any number of processes at once. While a ``rebuild`` runs it folds nothing
    (the rebuild's result, and what the next fold adds to it, include them)."""
    folded = 0
    batch = _batch_size()
    while max_rows is None or folded < max_rows:
        limit = batch if max_rows is None else min(batch, max_rows - folded)
        with transaction.atomic():
            if not _try_shared_stats_lock():
                break
            taken = _fold_batch(limit)
        folded += taken
        if taken < limit:
            break
    return folded


def pending() -> bool:
    """Whether any committed change waits to be folded (an index probe)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM stats_paymentchange ORDER BY id LIMIT 1")
        return cursor.fetchone() is not None


def ensure_current() -> int:
    """Called before every statistics read: fold what is pending, so that the
    figures are current even without Celery beat (``make run``). Costs one
    index probe when nothing is pending; folds at most
    ``settings.STATS_READ_FOLD_MAX`` changes (beat folds the rest)."""
    if not pending():
        return 0
    return fold_pending(max_rows=settings.STATS_READ_FOLD_MAX)


def _batch_size() -> int:
    return FOLD_BATCH_PG if _postgres() else FOLD_BATCH


def _try_shared_stats_lock() -> bool:
    if not _postgres():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [STATS_LOCK])
        return bool(cursor.fetchone()[0])


def _take_changes(limit: int) -> list[tuple[Any, ...]]:
    sql = (
        "SELECT id, sign, vendor_id, market_id, local_date, channel, status, amount "
        "FROM stats_paymentchange ORDER BY id LIMIT %s"
    )
    if _postgres():
        sql += " FOR UPDATE SKIP LOCKED"
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return list(cursor.fetchall())


def _deltas(changes: Iterable[tuple[Any, ...]]) -> tuple[Deltas, Deltas]:
    """Signed (count, value) deltas per MarketDay key and per VendorDay key.
    A payment without a market is in no rollup (an unmatched credit nobody
    has placed yet); only succeeded payments make active days."""
    market_days: Deltas = defaultdict(lambda: [0, 0])
    vendor_days: Deltas = defaultdict(lambda: [0, 0])
    for _id, sign, vendor_id, market_id, day, channel, status, amount in changes:
        if market_id is None:
            continue
        delta = market_days[(market_id, day, channel, status, size_bucket(amount))]
        delta[0] += sign
        delta[1] += sign * amount
        if vendor_id is not None and status == SUCCEEDED:
            delta = vendor_days[(vendor_id, day, market_id)]
            delta[0] += sign
            delta[1] += sign * amount
    return market_days, vendor_days


def _fold_batch(limit: int) -> int:
    """Fold up to ``limit`` change rows inside the caller's transaction."""
    if _postgres():
        return folding_pg.fold_batch(limit)
    changes = _take_changes(limit)
    if not changes:
        return 0
    market_days, vendor_days = _deltas(changes)
    vendors = sorted({key[0] for key in vendor_days})
    _lock_vendors(vendors)
    _add("stats_marketday", MARKET_DAY_KEY, market_days)
    _add("stats_vendorday", VENDOR_DAY_KEY, vendor_days)
    _refresh_months(sorted({(vendor, market, day.replace(day=1)) for vendor, day, market in vendor_days}))
    folding_active.refresh(vendor_days)
    _refresh_activity(vendors)
    _forget_changes([row[0] for row in changes])
    return len(changes)


def _lock_vendors(vendors: list[int]) -> None:
    """Serialise folds touching the same vendor (PostgreSQL), in one sorted
    order, before any row lock: the later one then recomputes the vendor's
    activity from day rows that include the earlier one's."""
    if not _postgres() or not vendors:
        return
    keys = sorted({v & 0x7FFF_FFFF for v in vendors})
    with connection.cursor() as cursor:
        # A volatile output column is computed after ORDER BY: the locks are taken in key order.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, k) FROM unnest(%s::int[]) AS k ORDER BY k", [_VENDOR_LOCKS, keys]
        )


def _add(table: str, key: tuple[str, ...], deltas: Deltas) -> None:
    """Add ``deltas`` to ``table``'s rows, in key order, and delete the rows
    that reach zero (so that an incremental table equals a rebuilt one)."""
    rows = [(*k, count, value) for k, (count, value) in sorted(deltas.items()) if count or value]
    columns = ", ".join([*key, '"count"', '"value"'])
    emptied: list[int] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            cursor.execute(
                f"INSERT INTO {table} AS t ({columns}) VALUES "
                + ", ".join([f"({_placeholders(len(key) + 2)})"] * len(chunk))
                + f" ON CONFLICT ({', '.join(key)}) DO UPDATE "
                'SET "count" = t."count" + excluded."count", "value" = t."value" + excluded."value" '
                'RETURNING id, "count", "value"',
                [value for row in chunk for value in row],
            )
            emptied += [row_id for row_id, count, value in cursor.fetchall() if count == 0 and value == 0]
        for chunk in _chunks(emptied):
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({_placeholders(len(chunk))})", list(chunk))


def month_sql(column: str) -> str:
    """SQL for the first day of the month of the date ``column``."""
    if _postgres():
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def day_bit_sql(column: str) -> str:
    """SQL for the bit of the date ``column``'s day in a ``VendorMonth`` mask (a
    statement using it must be run with parameters, even none: ``%%``)."""
    if _postgres():
        return f"(1 << (CAST(EXTRACT(DAY FROM {column}) AS integer) - 1))"
    return f"(1 << (CAST(strftime('%%d', {column}) AS integer) - 1))"


def _months_sql(where: str) -> str:
    # A day row is unique per vendor, day and market: the sum of the day bits is their OR.
    return (
        "INSERT INTO stats_vendormonth (vendor_id, market_id, month, days) "
        f"SELECT vendor_id, market_id, {month_sql('local_date')}, SUM({day_bit_sql('local_date')}) "
        f"FROM stats_vendorday WHERE {where} GROUP BY 1, 2, 3"
    )


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _refresh_months(keys: Sequence[tuple[int, int, dt.date]]) -> None:
    """Recompute the ``VendorMonth`` rows of (vendor, market, month) ``keys`` from ``VendorDay``."""
    with connection.cursor() as cursor:
        for chunk in _chunks(keys, 200):
            cursor.execute(
                "DELETE FROM stats_vendormonth WHERE "
                + " OR ".join(["(vendor_id = %s AND market_id = %s AND month = %s)"] * len(chunk)),
                [value for key in chunk for value in key],
            )
            cursor.execute(
                _months_sql(
                    "("
                    + " OR ".join(
                        ["(vendor_id = %s AND market_id = %s AND local_date >= %s AND local_date < %s)"] * len(chunk)
                    )
                    + ")"
                ),
                [value for vendor, market, month in chunk for value in (vendor, market, month, _next_month(month))],
            )


def _refresh_activity(vendors: Sequence[int]) -> None:
    """Recompute ``VendorActivity`` of ``vendors`` from their active days."""
    with connection.cursor() as cursor:
        for chunk in _chunks(vendors):
            marks = _placeholders(len(chunk))
            cursor.execute(f"DELETE FROM stats_vendoractivity WHERE vendor_id IN ({marks})", list(chunk))
            cursor.execute(_activity_sql(f"d.vendor_id IN ({marks})"), list(chunk))


def _activity_sql(where: str) -> str:
    # The market is that of the latest active day (the larger market id on a tie).
    return (
        "INSERT INTO stats_vendoractivity "
        "(vendor_id, market_id, first_active_date, last_active_date, active_days) "
        "SELECT d.vendor_id, "
        '(SELECT l.market_id FROM stats_vendorday l WHERE l.vendor_id = d.vendor_id AND l."count" > 0 '
        "ORDER BY l.local_date DESC, l.market_id DESC LIMIT 1), "
        "MIN(d.local_date), MAX(d.local_date), COUNT(DISTINCT d.local_date) "
        f'FROM stats_vendorday d WHERE d."count" > 0 AND {where} GROUP BY d.vendor_id'
    )


def _forget_changes(ids: list[int]) -> None:
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(ids)):
            cursor.execute(f"DELETE FROM stats_paymentchange WHERE id IN ({_placeholders(len(chunk))})", list(chunk))


# --- rebuilding ------------------------------------------------------------------


@dataclass(frozen=True)
class Rebuilt:
    folded: int  # pending changes folded first
    market_days: int  # MarketDay rows in scope afterwards
    vendor_days: int
    activities: int  # VendorActivity rows recomputed


def rebuild(market_id: int | None = None, from_date: dt.date | None = None) -> Rebuilt:
    """Recompute the rollups of ``market_id`` (all markets by default) from
    ``from_date`` on (all days by default) from the raw payments, and the
    activity of every vendor concerned. The result is row for row what
    folding produces.

    On PostgreSQL outside any transaction it holds the stats lock
    exclusively (folds wait or skip) and reads one repeatable-read snapshot:
    the changes committed in that snapshot are folded, and the payments it
    sees are the ones counted, so a payment written meanwhile is counted once,
    by the next fold. Inside a caller's transaction (tests) it runs in that
    transaction instead."""
    folded = fold_pending()
    if _postgres() and not connection.in_atomic_block:
        with _exclusive_stats_lock(), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SET LOCAL statement_timeout = 0")
            return _rebuild(market_id, from_date, folded)
    with transaction.atomic():
        if _postgres():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STATS_LOCK])
                cursor.execute("SET LOCAL statement_timeout = 0")
        return _rebuild(market_id, from_date, folded)


@contextlib.contextmanager
def _exclusive_stats_lock() -> Iterator[None]:
    # A session lock, taken before the transaction starts, so that its
    # snapshot is taken after every fold that held the lock has committed.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [STATS_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [STATS_LOCK])


def _bucket_case(column: str) -> str:
    whens = " ".join(f"WHEN {column} <= {high} THEN '{key}'" for key, _low, high in SIZE_BUCKETS if high is not None)
    return f"CASE {whens} ELSE '{SIZE_BUCKETS[-1][0]}' END"


def _rebuild(market_id: int | None, from_date: dt.date | None, folded: int) -> Rebuilt:
    while taken := _fold_batch(_batch_size()):
        folded += taken
    conditions: list[str] = []
    params: list[Any] = []
    if market_id is not None:
        conditions.append("market_id = %s")
        params.append(market_id)
    if from_date is not None:
        conditions.append("local_date >= %s")
        params.append(from_date)
    scope = " AND ".join(conditions) or "1 = 1"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT vendor_id FROM stats_vendorday WHERE {scope}", params)
        vendors = {v for (v,) in cursor.fetchall()}
        cursor.execute(f"DELETE FROM stats_marketday WHERE {scope}", params)
        cursor.execute(f"DELETE FROM stats_vendorday WHERE {scope}", params)
        cursor.execute(
            f'INSERT INTO stats_marketday ({", ".join(MARKET_DAY_KEY)}, "count", "value") '
            f"SELECT market_id, local_date, channel, status, {_bucket_case('amount')}, COUNT(*), SUM(amount) "
            f"FROM payments_payment WHERE market_id IS NOT NULL AND {scope} GROUP BY 1, 2, 3, 4, 5",
            params,
        )
        market_days = cursor.rowcount
        cursor.execute(
            f'INSERT INTO stats_vendorday ({", ".join(VENDOR_DAY_KEY)}, "count", "value") '
            "SELECT vendor_id, local_date, market_id, COUNT(*), SUM(amount) FROM payments_payment "
            f"WHERE vendor_id IS NOT NULL AND market_id IS NOT NULL AND status = %s AND {scope} GROUP BY 1, 2, 3",
            [SUCCEEDED, *params],
        )
        vendor_days = cursor.rowcount
        # Whole months from the month of from_date: the days before it in that month are folded already.
        month_conditions = [c for c in conditions if c.startswith("market_id")]
        month_params: list[Any] = [market_id] if market_id is not None else []
        if from_date is not None:
            month_conditions.append("month >= %s")
            month_params.append(from_date.replace(day=1))
        cursor.execute(f"DELETE FROM stats_vendormonth WHERE {' AND '.join(month_conditions) or '1 = 1'}", month_params)
        day_conditions = [c.replace("month >=", "local_date >=") for c in month_conditions]
        cursor.execute(_months_sql(" AND ".join(day_conditions) or "1 = 1"), month_params)
        folding_active.rebuild(from_date)
        if not conditions:
            cursor.execute("DELETE FROM stats_vendoractivity")
            cursor.execute(_activity_sql("1 = 1"))
            return Rebuilt(folded, market_days, vendor_days, cursor.rowcount)
        cursor.execute(f"SELECT DISTINCT vendor_id FROM stats_vendorday WHERE {scope}", params)
        vendors |= {v for (v,) in cursor.fetchall()}
    _refresh_activity(sorted(vendors))
    return Rebuilt(folded, market_days, vendor_days, len(vendors))
