"""Offline-sync upload: confirmations a vendor's device verified without a
connection, uploaded through ``POST /api/v1/payments/offline-sync/``, beside a
raw ``COPY`` of the same rows into their table in the same run.

1. A scratch PostgreSQL database (``cho40_bench_offline``) is created from the
   bench's migrated template (``bench/webhooks_db.py``).
2. Inside Django on that database (``python -m bench.bench_offline_sync
   --measure N``, a subprocess), N code-entry payments are written for N / 100
   vendors (each with a user, a key, and a confirmation code per payment, as
   ``confirmation_code_issue`` leaves them; not timed), and the codes each
   vendor's device computes from its key are the upload.
3. Timed: each vendor signed in (a session, Django's test client: middleware,
   authentication, DRF, JSON in and out; no socket) uploads its 100
   confirmations in one request, the API's batch limit. Every item is checked
   as the service does it (the vendor row locked, the confirmation attempt
   logged against the wrong-code limit, the code found and marked used, the
   payment marked vendor-confirmed, its event written) and must come back
   ``matched``. Before the clock starts, each vendor's client makes one
   untimed request (its list of offline confirmations): a test client builds
   its own request handler (middleware, static files' index) on its first
   request, and the process loads the URL configuration and API modules on
   its first — once per server process in production, not once per upload.
4. Baseline: the same rows, as the upload stored them, written into
   ``payments_offlineconfirmation`` with ``COPY`` (new client UUIDs; no
   checks, no attempts, no codes used): the floor any upload could reach.
   The ratio is upload ÷ COPY in seconds.

``run() -> dict`` is used by ``make bench``; ``python -m bench.bench_offline_sync``
runs it alone. BENCH_OFFLINE_N (confirmations: 3,000; 300 under ``--quick``),
BENCH_POSTGRES_URL as for the other benchmarks. The database is dropped after.
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
BATCH = 100  # OFFLINE_SYNC_MAX_ITEMS: one request per vendor
URL = "/api/v1/payments/offline-sync/"


def run() -> dict[str, Any]:
    from bench.webhooks_db import admin, django_env, migrated_database

    count = int(os.environ.get("BENCH_OFFLINE_N", "") or bench.size(3_000, 300))
    db = bench.scratch("cho40_bench_offline")
    print(f"   preparing {db} …", flush=True)
    migrated_database(db)
    env = {**django_env(db, sepay_secret="unused"), "CELERY_TASK_ALWAYS_EAGER": "1", "DJANGO_SECURE_SSL_REDIRECT": "0"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_offline_sync", "--measure", str(count)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )
    finally:
        try:
            admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        except Exception as exc:  # cleanup only
            print(f"   could not drop {db}: {exc}", flush=True)
    if done.returncode:
        raise RuntimeError(f"measure failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    seconds, copy_seconds = result["upload_seconds"], result["copy_seconds"]
    matched = result["statuses"].get("matched", 0)
    return {
        "name": f"offline-sync upload of {result['items']:,} confirmations (API, {BATCH} per request)",
        "value": round(seconds, 2),
        "unit": "s",
        "target": "-",
        "ok": matched == result["items"] and result["confirmed"] == result["items"],
        "baseline": f"raw COPY of the same {result['items']:,} rows into payments_offlineconfirmation: "
        f"{copy_seconds:.2f} s",
        "ratio": bench.ratio(seconds, copy_seconds),
        "ratio_of": "upload ÷ COPY, seconds",
        "note": (
            f"{result['items'] / seconds:,.0f} confirmations/s, {result['requests']} requests of {BATCH} "
            f"(p50 {result['p50_ms']} ms, max {result['max_ms']} ms per request) by {result['requests']} "
            f"signed-in vendors; results {result['statuses']}, {result['confirmed']:,} payments vendor-confirmed, "
            f"{result['attempts']:,} confirmation attempts logged; the upload checks every code and uses it, "
            "the COPY writes the rows only"
        ),
    }


# --- inside Django ------------------------------------------------------------------------


def _setup(count: int) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Vendors with their payments and codes (not timed); each vendor's upload."""
    import datetime as dt
    import uuid

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from chopay import codes
    from chopay.identifiers import generate_merchant_code
    from market.models import Market, Ward
    from payments.models import ConfirmationCode, Payment, local_date
    from vendors.models import Vendor

    ward = Ward.objects.filter(province_id="19").order_by("code").first()
    assert ward is not None, "no reference data: is the database migrated?"
    market = Market.objects.create(name="Chợ Bench offline", code="BENCH-OFF", ward=ward, province=ward.province)
    now = timezone.now()
    paid_at = now - dt.timedelta(hours=1)
    captured_at = now - dt.timedelta(minutes=30)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-offline-{i}") for i in range(-(-count // BATCH))
    )
    vendors = Vendor.objects.bulk_create(
        Vendor(
            market=market,
            user=user,
            full_name=f"Tiểu thương {i}",
            phone=f"+8492{i:07d}",
            stall_label=f"O-{i}",
            bank_id="970436",
            account_number=f"88{i:08d}",
            account_name="TIEU THUONG",
            merchant_code=generate_merchant_code(),
            status=Vendor.Status.ACTIVE,
            code_counter=BATCH,
        )
        for i, user in enumerate(users)
    )
    uploads = []
    for v, (user, vendor) in enumerate(zip(users, vendors, strict=True)):
        n = min(BATCH, count - v * BATCH)
        payments = Payment.objects.bulk_create(
            Payment(
                vendor=vendor,
                market=market,
                amount=(k + 1) * 1_000,
                channel="code_entry",
                source="ussd",
                provider_txn_id=f"bench-offline-{v}-{k}",
                status=Payment.Status.SUCCEEDED,
                attribution=Payment.Attribution.CODE_ENTRY,
                occurred_at=paid_at,
                local_date=local_date(paid_at),
            )
            for k in range(n)
        )
        ConfirmationCode.objects.bulk_create(
            ConfirmationCode(payment=p, vendor=vendor, counter=k + 1, expires_at=now + dt.timedelta(days=1))
            for k, p in enumerate(payments)
        )
        key = codes.key_from_hex(vendor.code_secret)
        items = [
            {
                "client_uuid": str(uuid.uuid4()),
                "code": codes.confirmation_code(key, counter=k + 1, amount=p.amount),
                "amount": p.amount,
                "captured_at": captured_at.isoformat(),
            }
            for k, p in enumerate(payments)
        ]
        uploads.append((user, items))
    return uploads


def measure(count: int) -> dict[str, Any]:
    import statistics
    import uuid
    from collections import Counter

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection
    from django.test import Client

    from payments.models import ConfirmationAttempt, OfflineConfirmation, Payment

    uploads = _setup(count)
    clients = []
    for user, items in uploads:
        client = Client()
        client.force_login(user)
        clients.append((client, items))
    for client, _ in clients:  # each test client's first request loads its handler's middleware: not timed
        warm = client.get("/api/v1/payments/offline-confirmations/")
        if warm.status_code != 200:
            raise RuntimeError(f"warm-up {warm.status_code}: {warm.content[:500]!r}")
    statuses: Counter[str] = Counter()
    latencies = []
    started = time.perf_counter()
    for client, items in clients:
        sent = time.perf_counter()
        response = client.post(URL, {"confirmations": items}, content_type="application/json")
        latencies.append((time.perf_counter() - sent) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.content[:500]!r}")
        statuses.update(item["status"] for item in response.json()["results"])
    upload_seconds = time.perf_counter() - started

    columns = [
        "client_uuid",
        "vendor_id",
        "code",
        "amount",
        "captured_at",
        "status",
        "payment_id",
        "flag_reason",
        "received_at",
        "reconcile_by",
    ]
    stored = list(OfflineConfirmation.objects.values_list(*columns))
    copies = [(uuid.uuid4(), *row[1:6], None, *row[7:]) for row in stored]  # no payment: not a second match
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.connection  # psycopg 3
        with (
            raw.cursor() as pg,
            pg.copy(f"COPY payments_offlineconfirmation ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in copies:
                copy.write_row(row)
    copy_seconds = time.perf_counter() - started
    return {
        "items": count,
        "requests": len(clients),
        "statuses": dict(statuses),
        "confirmed": Payment.objects.filter(vendor_confirmed_at__isnull=False).count(),
        "attempts": ConfirmationAttempt.objects.count(),
        "upload_seconds": upload_seconds,
        "copy_seconds": copy_seconds,
        "p50_ms": round(statistics.median(latencies), 1),
        "max_ms": round(max(latencies), 1),
    }


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        print(json.dumps(run(), ensure_ascii=False, indent=1))
