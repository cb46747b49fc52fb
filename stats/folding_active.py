"""``MarketDayActive``: the active vendors of each market and local day,
kept from ``VendorDay`` by the fold and the rebuild (docs/stats.md, "How the
figures stay current and exact").

A row (market, day) holds ``vendors``, the number of ``VendorDay`` rows of
that market and day, and ``shared``, how many of those vendors also have a
``VendorDay`` row in another market that day. Both are *recomputed* from
``VendorDay`` (never adjusted by deltas) for every market-day a fold may have
changed: the market-days of the batch's day rows, and the other markets'
rows of the same vendors on the same days (whose ``shared`` may change when a
vendor gains or loses a day in a second market). So an incremental table is
row for row the rebuilt one.

Concurrent folders (PostgreSQL): before recomputing, a folder locks the rows
of its market-days in key order (inserting the missing ones), and only then
counts, in a new statement whose snapshot includes every fold that held
those rows before it. Every fold that changes a market-day's ``VendorDay``
rows recomputes that market-day after its own change, so the last one to
take the lock counts every committed change. The locks are taken after the
``MarketDay`` ones and in one order, as the other rollups' are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection

_CHUNK = 200

# Per market-day: its vendor rows, and those of a vendor with another market's row that day.
_COUNTS = (
    "SELECT d.market_id, d.local_date, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM stats_vendorday o "
    "WHERE o.vendor_id = d.vendor_id AND o.local_date = d.local_date AND o.market_id <> d.market_id) "
    "THEN 1 ELSE 0 END) FROM stats_vendorday d WHERE {where} GROUP BY d.market_id, d.local_date"
)
_INSERT = "INSERT INTO stats_marketdayactive (market_id, local_date, vendors, shared) "

# --- PostgreSQL: the keys of the batch's temporary table stats_fold_vd (stats/folding_pg.py) ---

_PG_KEYS = (
    "CREATE TEMP TABLE IF NOT EXISTS stats_fold_mda (market_id bigint, local_date date)",
    "TRUNCATE stats_fold_mda",
    "INSERT INTO stats_fold_mda SELECT market_id, local_date FROM stats_fold_vd "
    "UNION SELECT d.market_id, d.local_date FROM stats_vendorday d "
    "JOIN (SELECT DISTINCT vendor_id, local_date FROM stats_fold_vd) f "
    "ON d.vendor_id = f.vendor_id AND d.local_date = f.local_date",
    # The lock: each row of the batch's market-days, in key order, created when missing.
    "INSERT INTO stats_marketdayactive AS t (market_id, local_date, vendors, shared) "
    "SELECT market_id, local_date, 0, 0 FROM stats_fold_mda ORDER BY market_id, local_date "
    "ON CONFLICT (market_id, local_date) DO UPDATE SET vendors = t.vendors",
)
_PG_RECOUNT = (
    "UPDATE stats_marketdayactive t SET vendors = COALESCE(c.n, 0), shared = COALESCE(c.s, 0) "
    "FROM stats_fold_mda k LEFT JOIN ("
    + _COUNTS.format(where="(d.market_id, d.local_date) IN (SELECT market_id, local_date FROM stats_fold_mda)")
    + ") c (market_id, local_date, n, s) ON c.market_id = k.market_id AND c.local_date = k.local_date "
    "WHERE t.market_id = k.market_id AND t.local_date = k.local_date"
)
_PG_EMPTIED = (
    "DELETE FROM stats_marketdayactive t USING stats_fold_mda k "
    "WHERE t.market_id = k.market_id AND t.local_date = k.local_date AND t.vendors = 0"
)


def fold_pg() -> None:
    """Recount the market-days of the batch whose day sums are in ``stats_fold_vd``
    (after they were added to ``VendorDay``), in the caller's transaction."""
    with connection.cursor() as cursor:
        for sql in _PG_KEYS:
            cursor.execute(sql)
        cursor.execute(_PG_RECOUNT)
        cursor.execute(_PG_EMPTIED)


# --- any database: explicit keys (the Python fold), and the rebuild ---


def refresh(vendor_days: Iterable[tuple[int, dt.date, int]]) -> None:
    """Recount the market-days of the (vendor, day, market) keys a fold changed,
    and of the other markets those vendors have a day row in on those days."""
    pairs = sorted({(vendor, day) for vendor, day, _market in vendor_days})
    keys = {(market, day) for _vendor, day, market in vendor_days}
    with connection.cursor() as cursor:
        for chunk in _chunks(pairs):
            cursor.execute(
                "SELECT market_id, local_date FROM stats_vendorday WHERE "
                + " OR ".join(["(vendor_id = %s AND local_date = %s)"] * len(chunk)),
                [value for pair in chunk for value in pair],
            )
            keys |= {(market, _as_date(day)) for market, day in cursor.fetchall()}
        for chunk in _chunks(sorted(keys)):
            where = " OR ".join(["(market_id = %s AND local_date = %s)"] * len(chunk))
            params = [value for key in chunk for value in key]
            cursor.execute(f"DELETE FROM stats_marketdayactive WHERE {where}", params)
            qualified = where.replace("market_id", "d.market_id").replace("local_date", "d.local_date")
            cursor.execute(_INSERT + _COUNTS.format(where=f"({qualified})"), params)


def rebuild(from_date: dt.date | None) -> int:
    """Recount every market-day from ``from_date`` on (every one without it),
    whatever the rebuild's market: another market's ``shared`` depends on the
    rebuilt market's rows. Returns the rows written."""
    with connection.cursor() as cursor:
        if from_date is None:
            cursor.execute("DELETE FROM stats_marketdayactive")
            cursor.execute(_INSERT + _COUNTS.format(where="1 = 1"))
        else:
            cursor.execute("DELETE FROM stats_marketdayactive WHERE local_date >= %s", [from_date])
            cursor.execute(_INSERT + _COUNTS.format(where="d.local_date >= %s"), [from_date])
        return int(cursor.rowcount)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _as_date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value
