"""The measuring half of ``bench/bench_stats.py``, run inside Django against
the loaded database (``python -m bench.stats_measure``; DATABASE_URL set by
the driver). Prints one JSON object on its last line.

Each read is timed ``BENCH_STATS_REPEAT`` times (p50/p95, after one warm-up)
three ways where they exist: the selector (``stats.selectors.scope_stats``),
the API through Django's test client (the whole request cycle in process:
middleware, authentication, DRF, JSON rendering; no socket), and the
dashboard page; beside them the same headline figures computed straight from
``payments_payment`` in the same run (``raw``), whose agreement with the
selector is checked. Then the catch-up: 1 M new payments COPYed with the
change-log trigger on, and ``fold_pending()`` until nothing is pending.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PERIOD_DAYS = 30

# The headline of a scope over [start, end] and the previous period, straight from the ledger:
# what the rollups replace. %(markets)s is the scope's market filter on payments_payment p.
RAW_SQL = [
    """SELECT count(*) FILTER (WHERE p.status = 'succeeded'),
              coalesce(sum(p.amount) FILTER (WHERE p.status = 'succeeded'), 0),
              count(DISTINCT p.vendor_id) FILTER (WHERE p.status = 'succeeded')
         FROM payments_payment p WHERE {markets} AND p.local_date BETWEEN %(start)s AND %(end)s""",
    """SELECT count(*) FILTER (WHERE p.status = 'succeeded'),
              coalesce(sum(p.amount) FILTER (WHERE p.status = 'succeeded'), 0),
              count(DISTINCT p.vendor_id) FILTER (WHERE p.status = 'succeeded')
         FROM payments_payment p WHERE {markets} AND p.local_date BETWEEN %(prev_start)s AND %(prev_end)s""",
    # activated: QR holders with a succeeded payment up to the end, ever
    """SELECT count(DISTINCT p.vendor_id) FROM payments_payment p JOIN vendors_vendor v ON v.id = p.vendor_id
        WHERE {markets} AND v.status = 'active' AND p.status = 'succeeded' AND p.local_date <= %(end)s""",
    # regular: ≥ 10 active days in the 90 days ending at the end
    """SELECT count(*) FROM (SELECT p.vendor_id FROM payments_payment p
        WHERE {markets} AND p.status = 'succeeded' AND p.local_date BETWEEN %(end90)s AND %(end)s
        GROUP BY p.vendor_id HAVING count(DISTINCT p.local_date) >= 10) r""",
    """SELECT p.channel, count(*), sum(p.amount) FROM payments_payment p
        WHERE {markets} AND p.status = 'succeeded' AND p.local_date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    """SELECT width_bucket(p.amount, ARRAY[20000, 50000, 100000, 500000]), count(*), sum(p.amount)
         FROM payments_payment p WHERE {markets} AND p.status = 'succeeded'
          AND p.local_date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    """SELECT p.local_date, count(*), sum(p.amount), count(DISTINCT p.vendor_id) FROM payments_payment p
        WHERE {markets} AND p.status = 'succeeded' AND p.local_date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
    """SELECT p.market_id, count(*), sum(p.amount), count(DISTINCT p.vendor_id) FROM payments_payment p
        WHERE {markets} AND p.status = 'succeeded' AND p.local_date BETWEEN %(start)s AND %(end)s GROUP BY 1""",
]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    result = fn()  # warm-up (and the value checked)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    p50, p95 = percentiles(samples)
    return p50, p95, result


def raw_headline(markets_sql: str, params: dict[str, Any]) -> dict[str, int]:
    from django.db import connection

    out: list[Any] = []
    with connection.cursor() as cursor:
        for sql in RAW_SQL:
            cursor.execute(sql.format(markets=markets_sql), params)
            out.append(cursor.fetchall())
    count, value, active = out[0][0]
    return {"payments_count": count, "payments_value": int(value), "active_vendors": active}


def measure_reads(repeat: int) -> list[dict[str, Any]]:
    from django.contrib.auth.models import User
    from django.db.models import Count
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from market.models import Market
    from stats.periods import preset_period
    from stats.scopes import market_scope, province_scope
    from stats.selectors import scope_stats

    period = preset_period(f"{PERIOD_DAYS}d")
    previous = period.previous()
    params = {
        "start": period.start,
        "end": period.end,
        "prev_start": previous.start,
        "prev_end": previous.end,
        "end90": period.end - dt.timedelta(days=89),
    }
    admin, _ = User.objects.get_or_create(username="bench.stats", defaults={"is_superuser": True, "is_staff": True})
    client = Client()
    client.force_login(admin)
    # The busiest load market: the worst case for a market page.
    market = Market.objects.filter(code__startswith="LOAD-").annotate(n=Count("vendors")).order_by("-n").first()
    assert market is not None, "no load market: run seed_load first"
    province = market.province if market.province_id == "19" else Market.objects.get(code="LOAD-19-01").province
    rows: list[dict[str, Any]] = []
    query = f"?from={period.start}&to={period.end}"
    for label, scope, api_path, markets_sql, page in [
        (
            f"province {province.code} ({Market.objects.filter(province=province).count()} markets)",
            province_scope(province),
            f"/api/v1/stats/provinces/{province.code}/",
            f"p.market_id IN (SELECT id FROM market_market WHERE province_id = '{province.code}')",
            "province",
        ),
        (
            f"market {market.code} ({market.n} vendors)",  # type: ignore[attr-defined]
            market_scope(market),
            f"/api/v1/stats/markets/{market.pk}/",
            f"p.market_id = {int(market.pk)}",
            "market",
        ),
    ]:
        raw50, raw95, raw = timed(lambda m=markets_sql: raw_headline(m, params), max(3, repeat // 5))
        sel50, sel95, figures = timed(lambda s=scope: scope_stats(s, period), repeat)
        agree = all(figures[key] == raw[key] for key in raw)
        rows.append(row(f"{label}: selector", sel50, sel95, raw50, raw95, agree, raw, figures))
        api50, api95, response = timed(lambda p=api_path: client.get(p + query), repeat)
        assert response.status_code == 200, (api_path, response.status_code, response.content[:300])
        rows.append(row(f"{label}: API (Django test client)", api50, api95, raw50, raw95, agree, raw, figures))
        try:
            page_path = (
                reverse("dashboard:province", args=[province.code])
                if page == "province"
                else reverse("dashboard:market", args=[market.pk])
            )
        except NoReverseMatch:
            continue
        page50, page95, response = timed(lambda p=page_path: client.get(p + query), repeat)
        assert response.status_code == 200, (page_path, response.status_code)
        rows.append(row(f"{label}: dashboard page {page_path}", page50, page95, raw50, raw95, agree, raw, figures))
    return rows


def row(
    name: str, p50: float, p95: float, raw50: float, raw95: float, agree: bool, raw: Any, figures: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "raw_p50_ms": round(raw50, 1),
        "raw_p95_ms": round(raw95, 1),
        "ratio_p50": round(raw50 / p50, 1) if p50 else None,
        "agree": agree,
        "payments_count": figures["payments_count"],
        "raw_payments_count": raw["payments_count"],
    }


def measure_catch_up(count: int) -> dict[str, Any]:
    """``count`` new payments with the trigger on, then fold until nothing is pending;
    then the same for deleting them again (which leaves the database as it was)."""
    from django.db import connection
    from django.db.models import Sum

    from demo.load import TXN_PREFIX, copy_payments, paying_vendors_from_db, payment_lines
    from payments.models import Payment
    from stats.folding import fold_pending
    from stats.models import MarketDay, PaymentChange

    rng = random.Random(99)
    vendors = paying_vendors_from_db(rng=rng, days=7)
    run = f"catchup{int(time.time())}"
    started = time.perf_counter()
    copy_payments(payment_lines(rng=rng, vendors=vendors, count=count, run=run), skip_triggers=False)
    inserted = time.perf_counter() - started
    pending = PaymentChange.objects.count()
    started = time.perf_counter()
    folded = 0
    while n := fold_pending():
        folded += n
    fold_seconds = time.perf_counter() - started
    total = MarketDay.objects.aggregate(n=Sum("count"))["n"]
    consistent = total == Payment.objects.count()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM payments_payment WHERE provider_txn_id LIKE %s", [f"{TXN_PREFIX}{run}-%"])
    deleted = time.perf_counter() - started
    started = time.perf_counter()
    while fold_pending():
        pass
    undo_seconds = time.perf_counter() - started
    return {
        "payments": count,
        "copy_seconds": round(inserted, 1),
        "change_rows": pending,
        "folded": folded,
        "fold_seconds": round(fold_seconds, 1),
        "rollup_total_equals_payments": consistent,
        "delete_seconds": round(deleted, 1),
        "fold_deletions_seconds": round(undo_seconds, 1),
    }


def main() -> None:
    import django

    django.setup()
    repeat = int(os.environ.get("BENCH_STATS_REPEAT", "") or 30)
    catch_up = int(os.environ.get("BENCH_STATS_CATCHUP", "") or 1_000_000)
    from django.db import connection

    from payments.models import Payment

    with connection.cursor() as cursor:  # what autovacuum does soon after a load; a reused database may predate it
        # The people tables too: a market's follow-up list joins the onboarders' users, phones and
        # stalls, and with no statistics the planner takes auth_user for 40 rows (autovacuum is off on
        # the shared development server).
        for table in (
            "market_market",
            "vendors_vendor",
            "payments_payment",
            "auth_user",
            "accounts_userphone",
            "stats_target",
        ):
            cursor.execute(f"ANALYZE {table}")
        # The rollups are small: VACUUM too, for the visibility map the reads' index-only scans use.
        for table in (
            "stats_marketday",
            "stats_vendorday",
            "stats_vendormonth",
            "stats_vendoractivity",
            "stats_marketdayactive",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("VACUUM ANALYZE stats_paymentchange")
    result: dict[str, Any] = {"payments": Payment.objects.count(), "reads": measure_reads(repeat)}
    if catch_up:
        result["catch_up"] = measure_catch_up(catch_up)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
    sys.exit(0)
