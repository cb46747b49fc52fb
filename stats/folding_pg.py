"""The fold of one batch of change rows on PostgreSQL, set-based: a handful
of statements whatever the batch size, no row sent to Python but the ids of
rollup rows that reached zero.

1. One statement deletes the oldest committed change rows not locked by
   another folder (``FOR UPDATE SKIP LOCKED``) and writes their signed sums
   per ``MarketDay`` key and per ``VendorDay`` key into two temporary tables.
2. The per-vendor advisory locks of the vendors concerned, in key order,
   before any rollup row is locked (as ``stats.folding`` describes).
3. ``INSERT … SELECT … ORDER BY key ON CONFLICT DO UPDATE`` adds the sums to
   ``MarketDay`` and ``VendorDay`` (sorted: two folders never wait on each
   other in opposite orders); the rows left at zero are deleted.
4. ``VendorMonth`` of the touched (vendor, market, month) keys is recomputed
   from ``VendorDay`` and ``VendorActivity`` of the touched vendors from
   ``VendorMonth`` (at most 12 rows a vendor a year, not 365).

All of it runs in the caller's transaction: a crash folds nothing of the batch.
"""

from __future__ import annotations

from django.db import connection

from stats import folding_active
from stats.models import SIZE_BUCKETS

_VENDOR_LOCKS = 0x5354_4156  # the namespace stats.folding documents
_SUCCEEDED = "succeeded"

_TEMP_TABLES = (
    "CREATE TEMP TABLE IF NOT EXISTS stats_fold_md (market_id bigint, local_date date, channel varchar(16), "
    'status varchar(16), size_bucket varchar(8), "count" bigint, "value" bigint)',
    "CREATE TEMP TABLE IF NOT EXISTS stats_fold_vd (vendor_id bigint, local_date date, market_id bigint, "
    '"count" bigint, "value" bigint)',
)


def _bucket_case(column: str) -> str:
    whens = " ".join(f"WHEN {column} <= {high} THEN '{key}'" for key, _low, high in SIZE_BUCKETS if high is not None)
    return f"CASE {whens} ELSE '{SIZE_BUCKETS[-1][0]}' END"


_TAKE = f"""
WITH taken AS (
    DELETE FROM stats_paymentchange WHERE id IN (
        SELECT id FROM stats_paymentchange ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
    ) RETURNING sign, vendor_id, market_id, local_date, channel, status, amount
), md AS (
    INSERT INTO stats_fold_md
    SELECT market_id, local_date, channel, status, {_bucket_case("amount")}, SUM(sign), SUM(sign * amount)
      FROM taken WHERE market_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5
), vd AS (
    INSERT INTO stats_fold_vd
    SELECT vendor_id, local_date, market_id, SUM(sign), SUM(sign * amount)
      FROM taken WHERE market_id IS NOT NULL AND vendor_id IS NOT NULL AND status = %s GROUP BY 1, 2, 3
)
SELECT COUNT(*) FROM taken
"""  # noqa: S608 (only our bucket constants are formatted in)

_LOCK = (
    "SELECT pg_advisory_xact_lock(%s, k) FROM "
    "(SELECT DISTINCT (vendor_id & 2147483647)::int AS k FROM stats_fold_vd) s ORDER BY k"
)

_ADD_MARKET_DAYS = """
WITH up AS (
    INSERT INTO stats_marketday AS t (market_id, local_date, channel, status, size_bucket, "count", "value")
    SELECT * FROM stats_fold_md WHERE "count" <> 0 OR "value" <> 0
     ORDER BY market_id, local_date, channel, status, size_bucket
    ON CONFLICT (market_id, local_date, channel, status, size_bucket) DO UPDATE
       SET "count" = t."count" + excluded."count", "value" = t."value" + excluded."value"
    RETURNING id, "count", "value"
)
SELECT COALESCE(array_agg(id), '{}') FROM up WHERE "count" = 0 AND "value" = 0
"""

_ADD_VENDOR_DAYS = """
WITH up AS (
    INSERT INTO stats_vendorday AS t (vendor_id, local_date, market_id, "count", "value")
    SELECT * FROM stats_fold_vd WHERE "count" <> 0 OR "value" <> 0 ORDER BY vendor_id, local_date, market_id
    ON CONFLICT (vendor_id, local_date, market_id) DO UPDATE
       SET "count" = t."count" + excluded."count", "value" = t."value" + excluded."value"
    RETURNING id, "count", "value"
)
SELECT COALESCE(array_agg(id), '{}') FROM up WHERE "count" = 0 AND "value" = 0
"""

# The masks of the touched months, recomputed from their day rows (a day row
# is unique per vendor, day and market: the sum of the day bits is their OR).
_MONTHS = """
WITH k AS (
    SELECT DISTINCT vendor_id, market_id, CAST(date_trunc('month', local_date) AS date) AS month FROM stats_fold_vd
), up AS (
    INSERT INTO stats_vendormonth AS t (vendor_id, market_id, month, days)
    SELECT k.vendor_id, k.market_id, k.month,
           COALESCE(SUM(1 << (CAST(EXTRACT(DAY FROM d.local_date) AS integer) - 1)), 0)
      FROM k LEFT JOIN stats_vendorday d
        ON d.vendor_id = k.vendor_id AND d.market_id = k.market_id
       AND d.local_date >= k.month AND d.local_date < CAST(k.month + interval '1 month' AS date)
     GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
    ON CONFLICT (vendor_id, month, market_id) DO UPDATE SET days = excluded.days
    RETURNING id, days
)
SELECT COALESCE(array_agg(id), '{}') FROM up WHERE days = 0
"""

# bit(31) of a mask, as text: the first character is day 31, the last day 1.
_ACTIVITY = """
WITH r AS (
    SELECT vendor_id, market_id, month, days,
           month + (31 - length(rtrim(CAST(days AS bit(31))::text, '0'))) AS first_day,
           month + (31 - strpos(CAST(days AS bit(31))::text, '1')) AS last_day
      FROM stats_vendormonth WHERE vendor_id IN (SELECT vendor_id FROM stats_fold_vd)
), per_month AS (
    SELECT vendor_id, bit_count(CAST(bit_or(days) AS bit(31))) AS n FROM r GROUP BY vendor_id, month
), days AS (
    SELECT vendor_id, SUM(n) AS n FROM per_month GROUP BY vendor_id
), spans AS (
    SELECT vendor_id, (array_agg(market_id ORDER BY last_day DESC, market_id DESC))[1] AS market_id,
           MIN(first_day) AS first_day, MAX(last_day) AS last_day
      FROM r GROUP BY vendor_id
)
INSERT INTO stats_vendoractivity (vendor_id, market_id, first_active_date, last_active_date, active_days)
SELECT spans.vendor_id, spans.market_id, spans.first_day, spans.last_day, days.n
  FROM spans JOIN days ON days.vendor_id = spans.vendor_id
"""


def fold_batch(limit: int) -> int:
    """Fold up to ``limit`` change rows inside the caller's transaction; how many were taken."""
    with connection.cursor() as cursor:
        for sql in _TEMP_TABLES:
            cursor.execute(sql)
        cursor.execute("TRUNCATE stats_fold_md, stats_fold_vd")
        cursor.execute(_TAKE, [limit, _SUCCEEDED])
        taken = int(cursor.fetchone()[0])
        if not taken:
            return 0
        cursor.execute("ANALYZE stats_fold_md, stats_fold_vd")
        cursor.execute(_LOCK, [_VENDOR_LOCKS])
        for upsert, table in (
            (_ADD_MARKET_DAYS, "stats_marketday"),
            (_ADD_VENDOR_DAYS, "stats_vendorday"),
            (_MONTHS, "stats_vendormonth"),
        ):
            cursor.execute(upsert)
            emptied = cursor.fetchone()[0]
            if emptied:
                cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [emptied])  # noqa: S608 (our names)
    folding_active.fold_pg()
    refresh_activity()
    return taken


def refresh_activity() -> None:
    """``VendorActivity`` of the vendors of the batch, from their ``VendorMonth`` rows."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM stats_vendoractivity WHERE vendor_id IN (SELECT vendor_id FROM stats_fold_vd)")
        cursor.execute(_ACTIVITY)
