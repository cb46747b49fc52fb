"""Signed bank-credit webhook ingestion through gunicorn and PostgreSQL.

What it does, all on loopback and bounded in time:

1. creates a scratch database (``cho40_bench``), migrated (a copy of the
   bench's template database, ``bench/webhooks_db.py``), and seeds one
   market with vendors;
2. starts gunicorn with that database and a SePay HMAC secret: on
   ``config.asgi`` with uvicorn workers (the batching intake of
   ``payments/bank_credits/intake.py``, as the compose ``webhooks`` service runs
   it), or with BENCH_WEBHOOKS_SERVER=wsgi on ``config.wsgi`` with sync
   workers (the lane of ``payments/bank_credits/wsgi.py``);
3. fires SePay deliveries signed with HMAC-SHA256 (``X-SePay-Timestamp``,
   ``X-SePay-Signature``) with unique transaction ids (static-QR content
   ``CHO40 <merchant code>``, so each one is attributed to a vendor), with
   ``wrk`` and ``bench/webhooks_wrk.lua`` (deliveries signed beforehand) when wrk is installed
   (``apt-get install wrk``; it costs a tenth of the CPU of the Python
   generator, CPU the server would otherwise not get), else with the Python
   generator of ``bench/loadgen.py``; the bench installs nothing itself;
4. counts the payments actually recorded in PostgreSQL and divides by the
   wall time of the run, and checks that every one kept its vendor and every
   delivery was processed; measures the CPU each component spent per payment
   (gunicorn master and workers, the PostgreSQL backends serving them, the
   load generator), which unlike payments/s does not depend on what else the
   machine is running;
5. runs pgbench's built-in "simple-update" (``-N``) on a second scratch
   database just before each measured run and after the last, with the
   server idle: each run's baseline is the mean of the two that bracket it.

The two cores are shared by the load generator, gunicorn and PostgreSQL, so
the number is what the whole stack does on this box, not the server alone.

``run() -> dict`` is used by ``make bench``; ``python -m bench.bench_webhooks``
runs it alone. Knobs (environment): BENCH_POSTGRES_URL (server, default
postgres://postgres@127.0.0.1:5432), BENCH_WEBHOOKS_SECONDS (duration of each
measured run, 30; 5 under ``--quick``), BENCH_WEBHOOKS_N (deliveries cap per run,
Python generator only, 4,000 per second of run), BENCH_WEBHOOKS_SERVER
(``asgi``, default, or ``wsgi``), BENCH_WEBHOOKS_WORKERS (gunicorn workers, 3
for asgi as the compose ``webhooks`` service runs, 6 for wsgi),
BENCH_WEBHOOKS_WORKER_CLASS (asgi: ``config.workers.SpreadUvicornWorker``,
with ``--reuse-port``, as in compose; ``uvicorn_worker.UvicornWorker`` for
uvicorn's own), BENCH_WEBHOOKS_THREADS (wsgi, >1: gthread workers with
that many threads), BENCH_WEBHOOKS_CLIENTS (load threads/processes, 1 for wrk,
2 for Python), BENCH_WEBHOOKS_CONNECTIONS (total connections of each measured
run, comma-separated: "16,64" for asgi, "16" for wsgi; one row each),
BENCH_WEBHOOKS_CONNS (the older knob: connections per load thread/process, one
run only), BENCH_WEBHOOKS_HEALTH_CHECKS (DB_CONN_HEALTH_CHECKS of the server,
0: no ``SELECT 1`` per request), BENCH_WEBHOOKS_LOADGEN (``wrk`` or
``python``; default wrk when installed), BENCH_WEBHOOKS_REDIS_URL (the
server's REDIS_URL, as production's: every batch publishes its receipts;
default db 14 of the local Redis, "none" to run without),
BENCH_WEBHOOKS_PROFILE (PREFIX: py-spy samples the server during each
measured run into PREFIX-<connections>.txt, read with ``python -m
bench.profile_summary``; a profiled run's rate is not a benchmark figure), BENCH_WEBHOOKS_KEEP_DB (1: the scratch database is
left for inspection), BENCH_WEBHOOKS_SERVER_LOG (1: gunicorn's output to the
terminal instead of a file shown only if it never came up), BENCH_PGBENCH_SECONDS (each pgbench run:
10; 5 under ``--quick``, at scale 2 instead of 10). The server's
WEBHOOK_INTAKE_* settings come from the environment as in production.

Every row's baseline is pgbench's simple-update TPS of the same run, its
ratio intake payments/s ÷ that TPS (the issue's goal: ≥ 1.0 at 64
connections, and ≥ 1,000 payments/s at 16).

The scratch databases and pgbench are in ``bench/webhooks_db.py``, the signed
deliveries and the load generators in ``bench/webhooks_load.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench
from bench.webhooks_db import PgBench, admin, backend_pids, django_env, migrated_database, scalar, seed_vendors
from bench.webhooks_load import SECRET, choose_loadgen, fire_python, fire_wrk, signed_file
from drills.services import wait_http

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DB = "cho40_bench"
TARGET = 1000  # payments/s
SIGNED_PER_SECOND = 8_000  # deliveries signed for wrk per second of run: well above what two cores record


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_times(pids: list[str | int]) -> tuple[float, float]:
    """User and system CPU seconds of ``pids`` so far (0 for any that is gone or unreadable)."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11]) / tick
        system += int(fields[12]) / tick
    return user, system


def _server_pids(pid: int) -> list[str]:
    """``pid`` and its children (the gunicorn master and its workers)."""
    try:
        return [str(pid), *Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children (the gunicorn workers)."""
    return sum(_proc_times(_server_pids(pid)))  # type: ignore[arg-type]


def _ms_per(cpu: float | None, count: int) -> float | None:
    return round(cpu / count * 1000, 2) if cpu is not None and count else None


def _with_redis(env: dict[str, str]) -> str:
    """Give the server REDIS_URL as production has it (BENCH_WEBHOOKS_REDIS_URL,
    default db 14 of the local Redis; "none": without), so that every batch
    publishes its receipts to the stall pages as the compose ``webhooks``
    service does. Returns how the run was made, for its note."""
    url = os.environ.get("BENCH_WEBHOOKS_REDIS_URL", "redis://127.0.0.1:6379/14")
    if url.lower() == "none":
        return "no REDIS_URL (receipts not published)"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:
        print(f"   no Redis at {url} ({exc}): receipts are not published in this run", flush=True)
        return "no REDIS_URL: Redis unreachable (receipts not published)"
    env["REDIS_URL"] = url
    return "REDIS_URL set (each batch publishes its receipts)"


def _connections(wrk: bool, asgi: bool, clients: int) -> list[int]:
    """Total connections of each measured run: BENCH_WEBHOOKS_CONNECTIONS ("16,64"),
    or the older per-client BENCH_WEBHOOKS_CONNS for one run."""
    if os.environ.get("BENCH_WEBHOOKS_CONNS"):
        return [_env_int("BENCH_WEBHOOKS_CONNS", 8) * clients]
    raw = os.environ.get("BENCH_WEBHOOKS_CONNECTIONS") or ("16,64" if asgi else "16")
    return [max(int(part), clients) for part in raw.split(",") if part.strip()]


def run() -> list[dict[str, Any]]:
    loadgen = choose_loadgen()
    wrk = loadgen == "wrk"
    seconds = _env_int("BENCH_WEBHOOKS_SECONDS", bench.size(30, 5))
    total = _env_int("BENCH_WEBHOOKS_N", seconds * 4_000)
    asgi = os.environ.get("BENCH_WEBHOOKS_SERVER", "asgi").strip().lower() != "wsgi"
    workers = _env_int("BENCH_WEBHOOKS_WORKERS", 3 if asgi else 6)
    clients = _env_int("BENCH_WEBHOOKS_CLIENTS", 1 if wrk else 2)
    threads = _env_int("BENCH_WEBHOOKS_THREADS", 1)
    shapes = _connections(wrk, asgi, clients)
    db = bench.scratch(BENCH_DB)

    print(f"   preparing {db} …", flush=True)
    migrated_database(db)
    env = django_env(db, sepay_secret=SECRET)
    redis_note = _with_redis(env)
    codes = seed_vendors(env)

    def fire(first_id: int, duration: float, count: int, conns: int) -> dict[str, Any]:
        if wrk:
            # Signed just before the run (timestamps must be within 5 minutes),
            # more deliveries than it can send.
            signed = signed_file(codes, first_id=first_id, count=max(1_000, int(duration * SIGNED_PER_SECOND)))
            try:
                return fire_wrk(port, signed, threads=clients, conns=conns // clients, seconds=duration)
            finally:
                signed.unlink()
        return fire_python(
            port, codes, first_id=first_id, total=count, clients=clients, conns=conns // clients, seconds=duration
        )

    port = _free_port()
    command = [
        str(BIN / "gunicorn"),
        "config.asgi:application" if asgi else "config.wsgi",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(workers),
        "--preload",
        "--log-level",
        "warning",
        "--backlog",
        "2048",
        "--keep-alive",
        "30",
    ]
    if asgi:
        worker_class = os.environ.get("BENCH_WEBHOOKS_WORKER_CLASS", "config.workers.SpreadUvicornWorker")
        command += ["--worker-class", worker_class, "--reuse-port"]
    elif threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    kind = " uvicorn (config.asgi, batching intake)" if asgi else (f" gthread×{threads}" if threads > 1 else " sync")
    server_shape = f"gunicorn -w {workers}{kind}, DB_CONN_HEALTH_CHECKS={env['DB_CONN_HEALTH_CHECKS']}, {redis_note}"
    # gunicorn's own log (its workers' shutdown notices included) goes to a
    # file, shown only if the server never came up.
    server_log = tempfile.TemporaryFile()  # noqa: SIM115 (closed after the server stops)
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=(None if os.environ.get("BENCH_WEBHOOKS_SERVER_LOG") else server_log),
        stderr=subprocess.STDOUT,
    )
    measured: list[dict[str, Any]] = []
    pg_seconds = _env_int("BENCH_PGBENCH_SECONDS", bench.size(10, 5))
    pgbench = PgBench()
    baselines: list[float | None] = []
    try:
        try:
            wait_http(port, 60, process=server)
        except (RuntimeError, TimeoutError):
            server_log.seek(0)
            print(server_log.read().decode(errors="replace")[-3000:], flush=True)
            raise
        # Warm-up: every worker opens its database connection and fills its caches.
        fire(1, bench.size(3, 1), clients * 200, shapes[-1])
        time.sleep(1)  # let requests wrk abandoned at the warm-up's deadline finish before counting
        # pgbench brackets every measured run (before it and after it), on
        # the same idle server: the baseline of a run is the mean of the two.
        # This machine's speed drifts by 10-20 % from one minute to the next
        # (identical code has measured 0.23 and 0.28 ms of CPU per payment),
        # so a single pgbench taken minutes away would move the ratio by as
        # much as any change of the code.
        print(f"   pgbench simple-update (-N, 8 clients) for {pg_seconds}s before each run and after the last …")
        baselines.append(pgbench.tps(pg_seconds))
        for n, conns in enumerate(shapes):
            measured.append(
                _measure(db, server.pid, conns, seconds, fire, first_id=(n + 1) * 1_000_000_000, total=total)
            )
            baselines.append(pgbench.tps(pg_seconds))
        # Every delivery must have been attributed to its vendor and finished
        # as processed: a fast path that skipped work would show here.
        unattributed = int(scalar(db, "SELECT count(*) FROM payments_payment WHERE vendor_id IS NULL"))
        unfinished = int(scalar(db, "SELECT count(*) FROM payments_webhookdelivery WHERE status <> 'processed'"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        server_log.close()
        pgbench.close()

    try:
        if not os.environ.get("BENCH_WEBHOOKS_KEEP_DB"):
            admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    except Exception as exc:  # cleanup only
        print(f"   could not drop {db}: {exc}", flush=True)

    rows = []
    for n, m in enumerate(measured):
        load = m["load"]
        around = [b for b in baselines[n : n + 2] if b is not None]
        tps = sum(around) / len(around) if around else None
        tps_note = " and ".join(f"{b:,.0f}" for b in around)
        lost = load["ok"] - m["recorded"]
        # At 64 connections the issue asks for pgbench's rate (ratio ≥ 1); at 16, for 1,000/s.
        against_pgbench = m["conns"] >= 64
        goal = f">= pgbench TPS (ratio >= 1.0) and >= {TARGET}" if against_pgbench else f">= {TARGET}"
        reached = m["rate"] >= TARGET and (not against_pgbench or (tps is not None and m["rate"] >= tps))
        cpu_note = ", ".join(
            f"{name} {ms}" + (f" (sys {m['sys'][name]})" if m["sys"].get(name) is not None else "")
            for name, ms in m["cpu"].items()
            if ms is not None
        )
        print(
            f"   {m['conns']} connections: {m['counted']} payments recorded in {load['elapsed']:.1f}s = "
            f"{m['rate']:,.0f} payments/s (answers {load['statuses']}, p50 {load['p50_ms']} ms, "
            f"p95 {load.get('p95_ms')} ms, p99 {load['p99_ms']} ms); pgbench simple-update "
            f"{tps if tps is None else f'{tps:,.0f}'} TPS; CPU ms/payment: {cpu_note}; "
            f"{m['batches']['batches']} batches of {m['batches']['mean']} on average",
            flush=True,
        )
        rows.append(
            {
                "name": f"signed webhook ingestion (SePay HMAC → gunicorn → PostgreSQL), {m['conns']} connections",
                "value": round(m["rate"]),
                "unit": "payments/s",
                "target": goal,
                "ok": reached and lost <= 0 and load["failed"] == 0 and unattributed == 0 and unfinished == 0,
                "baseline": f"pgbench simple-update (-N, 8 clients, scale {bench.size(10, 2)}, {pg_seconds} s, run just before "
                f"and just after: {tps_note}): {tps:,.0f} TPS"
                if tps is not None
                else "pgbench unavailable",
                "ratio": bench.ratio(m["rate"], tps),
                "ratio_of": "intake payments/s ÷ pgbench simple-update TPS",
                "note": (
                    f"p50 {load['p50_ms']} ms, p95 {load.get('p95_ms')} ms, p99 {load['p99_ms']} ms; "
                    f"{m['recorded']} recorded for {load['ok']} answered of {load['sent']} sent in "
                    f"{load['elapsed']:.1f} s, {load['failed']} failed, "
                    f"{unattributed} without their vendor, {unfinished} deliveries not processed; "
                    f"{server_shape}, {loadgen} {clients}×{m['conns'] // clients} connections; "
                    f"CPU ms/payment: {cpu_note}; {m['batches']['batches']} batches of "
                    f"{m['batches']['mean']} deliveries on average; WAL per payment: "
                    f"{m['wal']['records_per_payment']} records, {m['wal']['bytes_per_payment']} bytes, "
                    f"{m['wal']['full_page_images_per_payment']} full-page images; load average {m['load_average']:.1f}→{m['load_average_end']:.1f} "
                    "(other work on the machine takes CPU from the run)"
                ),
                "pgbench_tps": tps,
                "recorded": m["recorded"],
                "sent": load["sent"],
                "failed": load["failed"],
                "connections": m["conns"],
                "p50_ms": load["p50_ms"],
                "p95_ms": load.get("p95_ms"),
                "p99_ms": load["p99_ms"],
                "server_cpu_ms_per_payment": m["cpu"]["gunicorn"],
                "postgres_cpu_ms_per_payment": m["cpu"]["postgres_backends"],
                "loadgen_cpu_ms_per_request": m["cpu"]["load_generator"],
                "load_average": m["load_average"],
                "batches": m["batches"],
                "wal": m["wal"],
            }
        )
    return rows


def _profile(server_pid: int, conns: int, seconds: int) -> subprocess.Popen[bytes] | None:
    """With BENCH_WEBHOOKS_PROFILE=PREFIX: py-spy samples gunicorn's workers
    during the measured run into PREFIX-<conns>.txt (collapsed stacks, as
    ``bench/profile_summary.py`` reads them). py-spy takes some CPU of its own:
    a profiled run's rate is not a benchmark figure."""
    prefix = os.environ.get("BENCH_WEBHOOKS_PROFILE")
    if not prefix:
        return None
    py_spy = BIN / "py-spy"
    out = Path(f"{prefix}-{conns}.txt")
    print(f"   profiling gunicorn with py-spy into {out}", flush=True)
    return subprocess.Popen(
        [
            str(py_spy),
            "record",
            "--pid",
            str(server_pid),
            "--subprocesses",
            "--nonblocking",
            "--threads",
            "--rate",
            "200",
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _batch_sizes(db: str, first_id: int) -> dict[str, float]:
    """How the run's deliveries were batched: every delivery of a batch is
    stored with the batch's ``processed_at``. Mean batch size, and the batch
    size the median delivery travelled in."""
    row = scalar(
        db,
        "WITH b AS (SELECT processed_at, count(*) AS n FROM payments_webhookdelivery "
        f"WHERE provider_txn_id >= '{first_id}' AND provider_txn_id < '{first_id + 999_999_999}' GROUP BY 1) "
        "SELECT count(*) || ' ' || coalesce(avg(n), 0) || ' ' || "
        "coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY n), 0) FROM b",
    )
    count, mean, median = (float(part) for part in str(row).split())
    return {"batches": int(count), "mean": round(mean, 1), "median_batch_of_batches": median}


def _wal(db: str) -> tuple[int, int, int, str]:
    """The server's WAL so far (records, full-page images, bytes; all
    databases: on a shared server, other work counts too) and its position."""
    row = scalar(
        db,
        "SELECT wal_records || ' ' || wal_fpi || ' ' || wal_bytes || ' ' || pg_current_wal_lsn() FROM pg_stat_wal",
    ).split()
    return int(row[0]), int(row[1]), int(row[2]), row[3]


def _measure(
    db: str, server_pid: int, conns: int, seconds: int, fire: Any, *, first_id: int, total: int
) -> dict[str, Any]:
    """One measured run at ``conns`` connections: payments recorded, CPU per payment."""
    before = int(scalar(db, "SELECT count(*) FROM payments_payment"))
    backends = backend_pids(db)
    load_average = os.getloadavg()[0]
    cpu_before = _proc_times(_server_pids(server_pid))  # type: ignore[arg-type]
    db_cpu_before = _proc_times(backends)  # type: ignore[arg-type]
    wal_before = _wal(db)
    print(f"   firing signed SePay deliveries for {seconds}s at {conns} connections", flush=True)
    profiler = _profile(server_pid, conns, seconds)
    load = fire(first_id, seconds, total, conns)
    if profiler is not None:
        profiler.wait(timeout=seconds + 60)
    cpu_after = _proc_times(_server_pids(server_pid))  # type: ignore[arg-type]
    db_cpu_after = _proc_times(backends)  # type: ignore[arg-type]
    server_cpu = sum(cpu_after) - sum(cpu_before)
    db_cpu = sum(db_cpu_after) - sum(db_cpu_before) if backends else None
    server_sys, db_sys = cpu_after[1] - cpu_before[1], db_cpu_after[1] - db_cpu_before[1]
    wal_after = _wal(db)
    time.sleep(1)  # requests wrk abandoned at its deadline may still be finishing
    recorded = int(scalar(db, "SELECT count(*) FROM payments_payment")) - before
    # Only answered-and-recorded payments count (wrk may leave a few requests
    # unanswered at its deadline that the server records anyway).
    counted = min(recorded, load["ok"])
    batches = _batch_sizes(db, first_id)
    print(f"   WAL of the run: {wal_before[3]}..{wal_after[3]} (pg_waldump -s/-e)", flush=True)
    return {
        "wal": {
            name: round((wal_after[i] - wal_before[i]) / recorded, 2) if recorded else None
            for i, name in enumerate(("records_per_payment", "full_page_images_per_payment", "bytes_per_payment"))
        },
        "batches": batches,
        "conns": conns,
        "load": load,
        "recorded": recorded,
        "counted": counted,
        "rate": counted / load["elapsed"] if load["elapsed"] > 0 else 0.0,
        "cpu": {
            "gunicorn": _ms_per(server_cpu, recorded),
            "postgres_backends": _ms_per(db_cpu, recorded),
            "load_generator": _ms_per(load["cpu"], load["sent"]),
        },
        # Of which in the kernel (sockets, the WAL's writes): no Python change touches it.
        "sys": {"gunicorn": _ms_per(server_sys, recorded), "postgres_backends": _ms_per(db_sys, recorded)},
        "load_average": load_average,
        "load_average_end": os.getloadavg()[0],
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
