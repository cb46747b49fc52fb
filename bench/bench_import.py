"""Bulk import of traders: 10,000 rows through the import service on
PostgreSQL, beside a raw ``COPY`` of the same rows into the vendors table in
the same run.

1. A scratch PostgreSQL database (``cho40_bench_import``, BENCH_IMPORT_DB) is
   made anew, a copy of the bench's migrated template (``bench/webhooks_db.py``),
   and dropped at the end.
2. Inside Django on that database (``python -m bench.bench_import --measure``,
   a subprocess), each run makes two new markets of Thái Nguyên with one board
   member, writes a CSV of BENCH_IMPORT_ROWS (10,000) traders as a person fills
   the template in (banks named by name, short name or BIN; phones as people
   write them), and times ``onboarding.imports.services.import_start`` from the
   file's bytes to the committed job (reading, every row's checks, the
   market's phones and accounts fetched, the writes of vendors and consent
   rows in one transaction; the file is over 500 rows, so it runs as the
   Celery task, eagerly in-process here as under ``make run``). Then the same
   rows, already cleaned, are written into ``vendors_vendor`` of the second
   market with ``COPY`` (no checks, no consent rows): the floor any import
   could reach. The ratio is import ÷ COPY. Both markets are deleted after.

``run() -> dict`` is used by ``make bench``; ``python -m bench.bench_import``
runs it alone. BENCH_POSTGRES_URL as for the other benchmarks. Under
``--quick``: 2,000 rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("BENCH_IMPORT_DB") or bench.scratch("cho40_bench_import")
TARGET_SECONDS = 30.0


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


def _env() -> dict[str, str]:
    from bench.webhooks_db import db_url

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_"))}
    env.update(
        DATABASE_URL=db_url(DB),
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_DEBUG="0",
        DJANGO_SECURE_SSL_REDIRECT="0",
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
    )
    return env


def prepare() -> None:
    from bench.webhooks_db import migrated_database

    started = time.monotonic()
    migrated_database(DB)
    print(f"   {DB} ready in {time.monotonic() - started:.0f} s", flush=True)


def run() -> dict[str, Any]:
    from bench.webhooks_db import admin

    rows = _env_int("BENCH_IMPORT_ROWS", bench.size(10_000, 2_000))
    prepare()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_import", "--measure", str(rows)],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    if done.returncode:
        raise RuntimeError(f"measure failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = result["import_seconds"]
    return {
        "name": f"bulk import of {result['rows']:,} traders (onboarding.imports), PostgreSQL",
        "value": round(seconds, 2),
        "unit": "s",
        "target": f"<= {TARGET_SECONDS:.0f} s",
        "ok": seconds <= TARGET_SECONDS and result["created"] == result["rows"],
        "baseline": f"raw COPY of the same {result['rows']:,} rows into vendors_vendor: {result['copy_seconds']:.2f} s",
        "ratio": bench.ratio(seconds, result["copy_seconds"]),
        "ratio_of": "import ÷ COPY, seconds",
        "note": (
            f"{result['rows'] / seconds:,.0f} rows/s; of which reading the file {result['parse_seconds']:.2f} s; "
            f"the import also checks every row and writes {result['consents']:,} consent rows, "
            f"the COPY neither; status {result['status']}, {result['created']:,} created"
        ),
    }


# --- inside Django ------------------------------------------------------------------------

BANK_NAMES = ["Vietcombank", "VCB", "970436", "BIDV", "970418", "Techcombank", "MB", "970422", "Agribank", "ACB"]


def _csv(rows: int) -> bytes:
    import csv
    import io

    from onboarding.imports.spreadsheet import columns_for

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.header for column in columns_for(with_market=False)])
    goods = ["Rau củ, trái cây", "Thịt", "Cá, hải sản", "", "Khác"]
    for n in range(rows):
        writer.writerow(
            [
                f"Nguyễn Thị Bench {n}",
                f"0986 {n // 1000:03d} {n % 1000:03d}",
                f"B-{n}",
                goods[n % len(goods)],
                BANK_NAMES[n % len(BANK_NAMES)],
                f"7{n:011d}",
                "",
                "có",
            ]
        )
    return "\ufeff".encode() + out.getvalue().encode()


def measure(rows: int) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from market.models import BoardMember, Market, Ward
    from onboarding.imports.models import ImportJob
    from onboarding.imports.services import import_start
    from onboarding.imports.spreadsheet import parse
    from vendors.models import Consent, Vendor

    stamp = str(int(time.time()))
    ward = Ward.objects.filter(province_id="19").order_by("code").first()
    assert ward is not None, "no reference data: is the database migrated?"
    market = Market.objects.create(
        name=f"Chợ Bench {stamp}", code=f"BENCH-IMP-{stamp}", ward=ward, province=ward.province
    )
    copy_market = Market.objects.create(
        name=f"Chợ Bench COPY {stamp}", code=f"BENCH-COPY-{stamp}", ward=ward, province=ward.province
    )
    board = get_user_model().objects.create(username=f"bench-import-{stamp}")
    BoardMember.objects.create(user=board, market=market)
    content = _csv(rows)
    try:
        started = time.perf_counter()
        parse(file_name="bench.csv", content=content, with_market=False)
        parse_seconds = time.perf_counter() - started

        started = time.perf_counter()
        job = import_start(actor=board, market=market, file_name="bench.csv", content=content, consent_confirmed=True)
        job.refresh_from_db()
        import_seconds = time.perf_counter() - started
        if job.status != ImportJob.Status.DONE:
            raise RuntimeError(f"import {job.status}: {job.failure} {job.errors[:5]}")
        consents = Consent.objects.filter(vendor__market=market, method="import").count()

        # The same rows as the import stored them, COPYed for the second market.
        columns = [
            "market_id",
            "full_name",
            "phone",
            "stall_label",
            "goods_category",
            "bank_id",
            "account_number",
            "account_name",
            "merchant_code",
            "status",
            "onboarded_by_id",
            "onboarded_at",
            "code_secret",
            "code_counter",
            "created_at",
            "updated_at",
        ]
        stored = list(Vendor.objects.filter(market=market).values_list(*columns))
        # Merchant codes are unique across markets: the copies get others (not timed).
        taken = set(Vendor.objects.values_list("merchant_code", flat=True))
        fresh = (str(code) for code in range(20_000_000, 99_999_999) if str(code) not in taken)
        copies = [(copy_market.pk, *row[1:8], next(fresh), *row[9:]) for row in stored]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            raw = cursor.connection  # psycopg 3
            with raw.cursor() as pg, pg.copy(f"COPY vendors_vendor ({', '.join(columns)}) FROM STDIN") as copy:
                for row in copies:
                    copy.write_row(row)
        copy_seconds = time.perf_counter() - started
        return {
            "rows": rows,
            "status": job.status,
            "created": job.created_count,
            "consents": consents,
            "parse_seconds": parse_seconds,
            "import_seconds": import_seconds,
            "copy_seconds": copy_seconds,
        }
    finally:
        for each in (market, copy_market):
            Vendor.objects.filter(market=each).delete()
            ImportJob.objects.filter(market=each).delete()
            each.delete()
        board.delete()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        print(json.dumps(run(), ensure_ascii=False, indent=1))
