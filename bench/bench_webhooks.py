"""Signed bank-credit webhook ingestion through gunicorn and PostgreSQL.

What it does, all on loopback and bounded in time:

1. creates a scratch database (``cho40_bench``), migrates it and seeds one
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
5. stops gunicorn and runs pgbench's built-in "simple-update" (``-N``) on a
   second scratch database for the same machine's reference TPS.

The two cores are shared by the load generator, gunicorn and PostgreSQL, so
the number is what the whole stack does on this box, not the server alone.

``run() -> dict`` is used by ``make bench``; ``python -m bench.bench_webhooks``
runs it alone. Knobs (environment): BENCH_POSTGRES_URL (server, default
postgres://postgres@127.0.0.1:5432), BENCH_WEBHOOKS_SECONDS (duration of the
measured run, 30), BENCH_WEBHOOKS_N (deliveries cap, Python generator only,
20000), BENCH_WEBHOOKS_SERVER (``asgi``, default, or ``wsgi``),
BENCH_WEBHOOKS_WORKERS (gunicorn workers, 2 for asgi, 6 for wsgi),
BENCH_WEBHOOKS_THREADS (wsgi, >1: gthread workers with that many threads),
BENCH_WEBHOOKS_CLIENTS (load threads/processes, 1 for wrk, 2 for Python),
BENCH_WEBHOOKS_CONNS (connections per load thread/process: wrk 64 for asgi,
16 for wsgi; 8 for Python),
BENCH_WEBHOOKS_HEALTH_CHECKS (DB_CONN_HEALTH_CHECKS of the server, 0: no
``SELECT 1`` per request), BENCH_WEBHOOKS_LOADGEN (``wrk`` or ``python``;
default wrk when installed), BENCH_PGBENCH_SECONDS (10).

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

from bench.webhooks_db import admin, backend_pids, django_env, fresh_database, pgbench_tps, scalar
from bench.webhooks_load import SECRET, choose_loadgen, fire_python, fire_wrk, signed_file

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


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen on {port} within {timeout}s")


def _proc_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (0 for any that is gone or unreadable)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children (the gunicorn workers)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    for child in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _ms_per(cpu: float | None, count: int) -> float | None:
    return round(cpu / count * 1000, 2) if cpu is not None and count else None


def run() -> dict[str, Any]:
    loadgen = choose_loadgen()
    wrk = loadgen == "wrk"
    total = _env_int("BENCH_WEBHOOKS_N", 20_000)
    seconds = _env_int("BENCH_WEBHOOKS_SECONDS", 30)
    asgi_default = os.environ.get("BENCH_WEBHOOKS_SERVER", "asgi").strip().lower() != "wsgi"
    workers = _env_int("BENCH_WEBHOOKS_WORKERS", 2 if asgi_default else 6)
    clients = _env_int("BENCH_WEBHOOKS_CLIENTS", 1 if wrk else 2)
    conns = _env_int("BENCH_WEBHOOKS_CONNS", (64 if asgi_default else 16) if wrk else 8)
    threads = _env_int("BENCH_WEBHOOKS_THREADS", 1)

    print(f"   preparing {BENCH_DB} …", flush=True)
    fresh_database(BENCH_DB)
    env = django_env(BENCH_DB, sepay_secret=SECRET)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    seeded = subprocess.run(
        [sys.executable, "-m", "bench.webhooks_seed", "500"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    codes: list[list[str]] = json.loads(seeded.stdout.strip().splitlines()[-1])

    def fire(first_id: int, duration: float, count: int) -> dict[str, Any]:
        if wrk:
            # Signed just before the run (timestamps must be within 5 minutes),
            # more deliveries than it can send.
            signed = signed_file(codes, first_id=first_id, count=max(1_000, int(duration * SIGNED_PER_SECOND)))
            try:
                return fire_wrk(port, signed, threads=clients, conns=conns, seconds=duration)
            finally:
                signed.unlink()
        return fire_python(port, codes, first_id=first_id, total=count, clients=clients, conns=conns, seconds=duration)

    port = _free_port()
    asgi = os.environ.get("BENCH_WEBHOOKS_SERVER", "asgi").strip().lower() != "wsgi"
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
        command += ["--worker-class", "uvicorn_worker.UvicornWorker"]
    elif threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    kind = " uvicorn (config.asgi, batching intake)" if asgi else (f" gthread×{threads}" if threads > 1 else " sync")
    shape = f"gunicorn -w {workers}{kind}"
    shape += f", {loadgen} {clients}×{conns} connections, DB_CONN_HEALTH_CHECKS={env['DB_CONN_HEALTH_CHECKS']}"
    # gunicorn's own log (its workers' shutdown notices included) goes to a
    # file, shown only if the server never came up.
    server_log = tempfile.TemporaryFile()  # noqa: SIM115 (closed after the server stops)
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stdout=server_log, stderr=subprocess.STDOUT
    )
    try:
        try:
            _wait_for_port(port, 60)
        except RuntimeError:
            server_log.seek(0)
            print(server_log.read().decode(errors="replace")[-3000:], flush=True)
            raise
        # Warm-up: every worker opens its database connection and fills its caches.
        fire(1, 3, clients * 200)
        time.sleep(1)  # let requests wrk abandoned at the warm-up's deadline finish before counting
        before = int(scalar(BENCH_DB, "SELECT count(*) FROM payments_payment"))
        backends = backend_pids(BENCH_DB)
        load_average = os.getloadavg()[0]
        cpu_before = _cpu_seconds(server.pid)
        db_cpu_before = _proc_cpu(backends)
        print(f"   firing signed SePay deliveries for {seconds}s: {shape}", flush=True)
        load = fire(1_000_000_000, seconds, total)
        server_cpu = _cpu_seconds(server.pid) - cpu_before
        db_cpu = _proc_cpu(backends) - db_cpu_before if backends else None
        time.sleep(1)  # requests wrk abandoned at its deadline may still be finishing
        recorded = int(scalar(BENCH_DB, "SELECT count(*) FROM payments_payment")) - before
        # Every delivery must have been attributed to its vendor and finished
        # as processed: a fast path that skipped work would show here.
        unattributed = int(scalar(BENCH_DB, "SELECT count(*) FROM payments_payment WHERE vendor_id IS NULL"))
        unfinished = int(scalar(BENCH_DB, "SELECT count(*) FROM payments_webhookdelivery WHERE status <> 'processed'"))
        load_average_end = os.getloadavg()[0]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        server_log.close()

    # Only answered-and-recorded payments count (wrk may leave a few requests
    # unanswered at its deadline that the server records anyway).
    counted = min(recorded, load["ok"])
    rate = counted / load["elapsed"] if load["elapsed"] > 0 else 0.0
    pg_seconds = _env_int("BENCH_PGBENCH_SECONDS", 10)
    print(f"   pgbench simple-update (-N, 8 clients) for {pg_seconds}s …", flush=True)
    tps = pgbench_tps(pg_seconds)
    try:
        admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    except Exception as exc:  # cleanup only
        print(f"   could not drop {BENCH_DB}: {exc}", flush=True)

    lost = load["ok"] - recorded
    cpu = {
        "gunicorn": _ms_per(server_cpu, recorded),
        "postgres_backends": _ms_per(db_cpu, recorded),
        "load_generator": _ms_per(load["cpu"], load["sent"]),
    }
    cpu_note = ", ".join(f"{name} {ms}" for name, ms in cpu.items() if ms is not None)
    print(
        f"   {counted} payments recorded in {load['elapsed']:.1f}s = {rate:,.0f} payments/s "
        f"(answers {load['statuses']}, p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms; "
        f"{unattributed} without their vendor, {unfinished} deliveries not processed); "
        f"pgbench simple-update {tps if tps is None else f'{tps:,.0f}'} TPS; "
        f"CPU ms/payment: {cpu_note}; load average {load_average:.1f}→{load_average_end:.1f}",
        flush=True,
    )
    return {
        "name": "signed webhook ingestion (SePay HMAC → gunicorn → PostgreSQL)",
        "value": round(rate),
        "unit": "payments/s",
        "target": f">= {TARGET}",
        "ok": rate >= TARGET and lost <= 0 and load["failed"] == 0 and unattributed == 0 and unfinished == 0,
        "note": (f"pgbench simple-update {tps:,.0f} TPS same run; " if tps is not None else "pgbench unavailable; ")
        + (
            f"{recorded} recorded for {load['ok']} answered of {load['sent']} sent, {load['failed']} failed, "
            f"{unattributed} without their vendor, {unfinished} deliveries not processed, "
            f"p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms; {shape}; CPU ms/payment: {cpu_note}; "
            f"load average {load_average:.1f} at start (other work on the machine takes CPU from the run)"
        ),
        "pgbench_tps": tps,
        "recorded": recorded,
        "sent": load["sent"],
        "failed": load["failed"],
        "server_cpu_ms_per_payment": cpu["gunicorn"],
        "postgres_cpu_ms_per_payment": cpu["postgres_backends"],
        "loadgen_cpu_ms_per_request": cpu["load_generator"],
        "load_average": load_average,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
