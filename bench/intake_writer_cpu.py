"""CPU of the intake's writer per delivery, without HTTP: what one batch of
signed SePay deliveries costs in Python (``webhook_ingest_batch`` on one
thread) and in the PostgreSQL backend that serves it.

``python -m bench.intake_writer_cpu [BATCH ...]`` (default: 8 32) creates a
scratch database (``cho40_bench_writer``, a copy of the bench template) with
500 vendors, then for each batch size records ``BENCH_WRITER_DELIVERIES``
(3,200) deliveries in batches of that size after a warm-up, and prints
microseconds per delivery: the process's CPU (``time.process_time``) and the
backend's (``/proc/<pid>/stat``, so PostgreSQL must run on this machine).
``BENCH_WRITER_CPROFILE=PREFIX``: cProfile the measured batches into
PREFIX-<batch>.prof (its own overhead inflates the figures printed).
``BENCH_WEBHOOKS_REDIS_URL`` as in ``bench_webhooks`` (default db 14 of the
local Redis; "none": receipts not published). ``BENCH_WRITER_INSTRUCTIONS=1``:
instead of CPU time, the instructions the writer executes per delivery,
counted by valgrind's callgrind (``apt-get install valgrind``): the same
process run with and without the batches written, the difference divided by
the deliveries — about fifty times slower, but the same count on a busy
machine as on an idle one, so that a change of a few per cent shows. Not part of ``make bench``:
a tool for before/after comparisons of the writer's code, unaffected by the
HTTP layer and far less by other load than a rate is.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _measure(batch: int, count: int, codes: list[list[str]]) -> dict[str, float]:
    import random

    from django.db import connection
    from django.http.request import HttpHeaders

    from bench.webhooks_load import delivery, signed
    from payments.bank_credits.batching import Delivery, webhook_ingest_batch
    from payments.bank_credits.providers import sepay

    rng = random.Random(batch)
    first = int(time.time() * 1000) * 1000

    def make(n: int, start: int) -> list[Delivery]:
        out = []
        for i in range(n):
            body = delivery(codes, rng, start + i)
            timestamp, signature = signed(body)
            meta = {
                "CONTENT_TYPE": "application/json",
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_HOST": "127.0.0.1",
                "HTTP_X_SEPAY_TIMESTAMP": timestamp,
                "HTTP_X_SEPAY_SIGNATURE": signature,
            }
            out.append(Delivery(provider=sepay, headers=HttpHeaders(meta), body=body, remote_addr="127.0.0.1"))
        return out

    webhook_ingest_batch(make(batch, first - 100_000))  # warm-up: connection, statement, caches
    batches = [make(batch, first + r * batch) for r in range(max(1, count // batch))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def backend_cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    profile_to = os.environ.get("BENCH_WRITER_CPROFILE")
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
    db_before, cpu_before = backend_cpu(), time.process_time()
    if profiler:
        profiler.enable()
    for deliveries in batches if not os.environ.get("BENCH_WRITER_SKIP") else ():
        outcomes = webhook_ingest_batch(deliveries)
        if not all(getattr(o, "status", None) == "processed" for o in outcomes):
            raise RuntimeError(f"not every delivery was processed: {outcomes[:3]}")
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{profile_to}-{batch}.prof")
    done = sum(len(b) for b in batches)
    return {
        "python_us": (time.process_time() - cpu_before) / done * 1e6,
        "postgres_us": (backend_cpu() - db_before) / done * 1e6,
    }


def _child(sizes: list[int]) -> None:
    import django

    django.setup()
    codes = json.loads(os.environ["BENCH_WRITER_CODES"])
    count = int(os.environ.get("BENCH_WRITER_DELIVERIES", "3200"))
    for batch in sizes:
        m = _measure(batch, count, codes)
        print(
            f"   batches of {batch}: Python {m['python_us']:.0f} µs/delivery, "
            f"PostgreSQL backend {m['postgres_us']:.0f} µs/delivery",
            flush=True,
        )


def _instructions(command: list[str], env: dict[str, str]) -> int:
    """Instructions the process ``command`` executed, counted by valgrind's callgrind."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))  # type: ignore[union-attr]


def main(sizes: list[int]) -> None:
    import bench
    from bench.bench_webhooks import _with_redis
    from bench.webhooks_db import admin, django_env, migrated_database, seed_vendors
    from bench.webhooks_load import SECRET

    db = bench.scratch("cho40_bench_writer")
    migrated_database(db)
    env = django_env(db, sepay_secret=SECRET)
    print(f"   {_with_redis(env)}", flush=True)
    env["BENCH_WRITER_CODES"] = json.dumps(seed_vendors(env))
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    try:
        if os.environ.get("BENCH_WRITER_INSTRUCTIONS"):
            count = int(env.get("BENCH_WRITER_DELIVERIES", "3200"))
            for batch in sizes:
                child = [sys.executable, "-c", f"from bench.intake_writer_cpu import _child; _child([{batch}])"]
                # The same process twice, with and without the batches written: the
                # difference is what writing them cost, set-up and signing excluded.
                written = _instructions(child, env)
                unwritten = _instructions(child, {**env, "BENCH_WRITER_SKIP": "1"})
                per = (written - unwritten) / (count // batch * batch)
                print(f"   batches of {batch}: {per:,.0f} instructions/delivery (valgrind callgrind)", flush=True)
            return
        subprocess.run(
            [sys.executable, "-c", f"from bench.intake_writer_cpu import _child; _child({sizes!r})"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    finally:
        admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [8, 32])
