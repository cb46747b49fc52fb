"""Adoption statistics at scale: reads from the rollups beside the same figures
from raw payments, and the catch-up of 1 M new payments.

1. A scratch PostgreSQL database (``cho40_bench_stats``) is migrated and
   filled by ``manage.py seed_load --payments N`` (N = BENCH_STATS_PAYMENTS,
   default 10,000,000: 50 markets, ~15,000 vendors, 365 days). The database
   is kept afterwards, and a later run that finds exactly N load payments in it
   reuses it instead of seeding again (BENCH_STATS_FRESH=1 forces a new load;
   BENCH_STATS_KEEP=0 drops it at the end). The seeding rate is reported when
   it seeds.
2. ``bench/stats_measure.py`` runs inside Django on that database and times,
   BENCH_STATS_REPEAT times each (30), for the province of the load markets'
   Thái Nguyên part and for the load market with the most vendors, over the
   last 30 days: the selector ``stats.selectors.scope_stats``, the API
   (``/api/v1/stats/provinces/{code}/``, ``/api/v1/stats/markets/{id}/``)
   through Django's test client (the full request cycle in process, no
   socket), and the dashboard pages when their URLs exist; beside each, the
   same headline figures aggregated straight from ``payments_payment``
   in the same run (ratio = raw ÷ rollup at p50), checked to agree.
3. Catch-up: BENCH_STATS_CATCHUP (1,000,000) new payments COPYed with the
   change-log trigger on, then ``stats.folding.fold_pending()`` until nothing
   is pending (target ≤ 60 s); then they are deleted again and that is folded
   too, which leaves the database as it was for the next run.

``run() -> list[dict]`` is used by ``make bench``; ``python -m bench.bench_stats``
runs it alone. BENCH_POSTGRES_URL as for the other benchmarks; BENCH_STATS_DB
names the scratch database (default ``cho40_bench_stats``).

Each read's baseline is the raw aggregate of the same run and its ratio is
read ÷ raw at p50 (below 1: the rollups answer faster than the ledger could).
The catch-up's baseline is the COPY of the same new payments (trigger on),
its ratio fold ÷ COPY. Under ``--quick``: a database of 200,000 payments
(``cho40_bench_stats_quick``, kept and reused like the full one), 5 calls per
read, a catch-up of 10,000 payments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import bench

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("BENCH_STATS_DB") or bench.scratch(
    "cho40_bench_stats_quick" if bench.QUICK else "cho40_bench_stats"
)
TARGETS = {"province": 50.0, "market": 20.0, "page": 150.0}
CATCH_UP_TARGET = 60.0  # seconds for 1 M payments


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


def _server_url() -> str:
    raw = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432"
    parts = urlsplit(raw)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _scalar(db: str, sql: str) -> Any:
    import psycopg

    try:
        with psycopg.connect(f"{_server_url()}/{db}", autocommit=True) as conn:
            row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
            return row[0] if row else None
    except psycopg.Error:
        return None


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{_server_url()}/postgres", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_"))}
    env.update(
        DATABASE_URL=f"{_server_url()}/{DB}",
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_DEBUG="0",
        DJANGO_SECURE_SSL_REDIRECT="0",
        CELERY_TASK_ALWAYS_EAGER="1",
    )
    if bench.QUICK:
        env.setdefault("BENCH_STATS_REPEAT", "5")
        env.setdefault("BENCH_STATS_CATCHUP", "10000")
    return env


def _manage(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=_env(), capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(payments: int) -> dict[str, Any] | None:
    """The loaded database; returns the seeding row when it had to seed."""
    loaded = _scalar(DB, "SELECT count(*) FROM payments_payment WHERE provider_txn_id LIKE 'LOAD-%'")
    pending = _scalar(DB, "SELECT count(*) FROM stats_paymentchange")
    if loaded == payments and pending == 0 and os.environ.get("BENCH_STATS_FRESH") != "1":
        print(f"   reusing {DB} with {payments} load payments", flush=True)
        from bench.webhooks_db import migrated_like_template

        if not migrated_like_template(DB):  # code newer than the load: its new migrations
            _manage("migrate", "--noinput", "-v0")
        return None
    _admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DB}"')
    _manage("migrate", "--noinput", "-v0")
    _manage("createcachetable")
    started = time.monotonic()
    out = _manage("seed_load", "--payments", str(payments))
    seconds = time.monotonic() - started
    print(f"   {out.strip()}", flush=True)
    return {
        "name": f"seed_load --payments {payments:,}",
        "value": round(payments / seconds),
        "unit": "payments/s",
        "target": "-",
        "ok": True,
        "note": f"{seconds:.0f} s in all; {' '.join(out.split())}",
    }


def run() -> list[dict[str, Any]]:
    payments = _env_int("BENCH_STATS_PAYMENTS", bench.size(10_000_000, 200_000))
    rows: list[dict[str, Any]] = []
    seeded = prepare(payments)
    if seeded:
        rows.append(seeded)
    done = subprocess.run(
        [sys.executable, "-m", "bench.stats_measure"], cwd=ROOT, env=_env(), capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"stats_measure failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    scale = f"{result['payments']:,} payments"
    for read in result["reads"]:
        kind = "page" if "page" in read["name"] else ("province" if read["name"].startswith("province") else "market")
        target = TARGETS[kind]
        rows.append(
            {
                "name": f"stats {read['name']}, 30 days, p95",
                "value": read["p95_ms"],
                "unit": "ms",
                "target": f"<= {target:.0f} ms",
                "ok": read["p95_ms"] <= target and read["agree"],
                "baseline": f"the same figures aggregated from payments_payment: p50 {read['raw_p50_ms']} ms",
                "ratio": bench.ratio(read["p50_ms"], read["raw_p50_ms"]),
                "ratio_of": "read ÷ raw aggregate, p50",
                "note": (
                    f"{scale}; p50 {read['p50_ms']} ms; raw aggregate p50 {read['raw_p50_ms']} ms / "
                    f"p95 {read['raw_p95_ms']} ms, raw ÷ read {read['ratio_p50']}; figures agree: {read['agree']}"
                ),
            }
        )
    catch = result.get("catch_up")
    if catch:
        rows.append(
            {
                "name": f"stats catch-up of {catch['payments']:,} new payments (fold_pending)",
                "value": catch["fold_seconds"],
                "unit": "s",
                "target": f"<= {CATCH_UP_TARGET:.0f} s",
                "ok": catch["fold_seconds"] <= CATCH_UP_TARGET and catch["rollup_total_equals_payments"],
                "baseline": f"COPY of the same {catch['payments']:,} payments (trigger on): {catch['copy_seconds']} s",
                "ratio": bench.ratio(catch["fold_seconds"], catch["copy_seconds"]),
                "ratio_of": "fold_pending ÷ COPY of the same payments",
                "note": (
                    f"{scale} before; COPY with the trigger on {catch['copy_seconds']} s "
                    f"({catch['change_rows']:,} change rows); rollups total = payments: "
                    f"{catch['rollup_total_equals_payments']}; deleting them again {catch['delete_seconds']} s, "
                    f"folding the deletions {catch['fold_deletions_seconds']} s"
                ),
            }
        )
    if os.environ.get("BENCH_STATS_KEEP", "1") == "0":
        _admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    return rows


if __name__ == "__main__":
    for item in run():
        print(item)
