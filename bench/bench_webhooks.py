"""Signed bank-credit webhook ingestion through gunicorn and PostgreSQL.

What it does, all on loopback and bounded in time:

1. creates a scratch database (``cho40_bench``), migrates it and seeds one
   market with vendors;
2. starts gunicorn on ``config.wsgi`` with that database and a SePay API key;
3. fires signed SePay deliveries with unique transaction ids (static-QR
   content ``CHO40 <merchant code>``, so each one is attributed to a vendor)
   from a few load-generator processes;
4. counts the payments actually recorded in PostgreSQL and divides by the
   wall time of the run;
5. stops gunicorn and runs pgbench's built-in "simple-update" (``-N``) on a
   second scratch database for the same machine's reference TPS.

The two cores are shared by the load generator, gunicorn and PostgreSQL, so
the number is what the whole stack does on this box, not the server alone.

``run() -> dict`` is used by ``make bench``; ``python -m bench.bench_webhooks``
runs it alone. Knobs (environment): BENCH_POSTGRES_URL (server, default
postgres://postgres@127.0.0.1:5432), BENCH_WEBHOOKS_N (deliveries, 20000),
BENCH_WEBHOOKS_SECONDS (time cap, 60), BENCH_WEBHOOKS_WORKERS (gunicorn
workers), BENCH_WEBHOOKS_CLIENTS (load processes), BENCH_WEBHOOKS_CONNS
(connections per load process), BENCH_PGBENCH_SECONDS (10).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.loadgen import LoadResult, run_load

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DB = "cho40_bench"
PGBENCH_DB = "cho40_pgbench"
API_KEY = "bench-sepay-api-key"
TARGET = 1000  # payments/s
PATH = "/api/v1/webhooks/sepay/"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


def _server_url() -> str:
    raw = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432"
    parts = urlsplit(raw)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _db_url(name: str) -> str:
    return f"{_server_url()}/{name}"


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_db_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _scalar(db: str, sql: str) -> Any:
    import psycopg

    with psycopg.connect(_db_url(db), autocommit=True) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
        return row[0] if row else None


def _fresh_database(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')


def _django_env(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "CELERY_"))}
    env.update(
        DATABASE_URL=_db_url(db),
        DJANGO_SECRET_KEY="bench-only-not-secret",
        DJANGO_DEBUG="0",
        DB_CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
        SEPAY_API_KEY=API_KEY,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


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


def _request_maker(port: int, codes: list[list[str]], first_id: int):  # type: ignore[no-untyped-def]
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Apikey {API_KEY}\r\nConnection: keep-alive\r\n"
    )
    rng = random.Random(first_id)

    def make(i: int) -> bytes:
        code, account = codes[rng.randrange(len(codes))]
        body = json.dumps(
            {
                "id": first_id + i,
                "gateway": "Vietcombank",
                "transactionDate": "2025-03-01 08:15:00",
                "accountNumber": account,
                "subAccount": None,
                "code": None,
                "content": f"CHO40 {code} rau cu",
                "transferType": "in",
                "transferAmount": rng.randrange(5, 500) * 1000,
                "accumulated": 0,
                "referenceCode": f"FT25{first_id + i:012d}",
                "description": "",
            },
            separators=(",", ":"),
        ).encode()
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body

    return make


def _client(args: tuple[int, list[list[str]], int, int, int, float, Any]) -> dict[str, Any]:
    port, codes, first_id, count, conns, seconds, start = args
    make = _request_maker(port, codes, first_id)
    start.wait()
    result = run_load(
        host="127.0.0.1",
        port=port,
        make_request=make,
        count=count,
        connections=conns,
        deadline=time.monotonic() + seconds,
    )
    return {
        "finished": time.time(),
        "sent": result.sent,
        "ok": result.ok,
        "failed": result.failed,
        "statuses": result.statuses,
        "latencies": result.latencies_ms,
    }


def _fire(
    port: int, codes: list[list[str]], *, first_id: int, total: int, clients: int, conns: int, seconds: float
) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    start = ctx.Manager().Event()
    per = total // clients
    jobs = [(port, codes, first_id + k * per, per, conns, seconds, start) for k in range(clients)]
    with ctx.Pool(clients) as pool:
        pending = pool.map_async(_client, jobs)
        time.sleep(0.5)  # let every process reach the start line
        began = time.time()
        start.set()
        parts = pending.get(timeout=seconds + 120)
    merged = LoadResult()
    latencies: list[float] = []
    for part in parts:
        merged.sent += part["sent"]
        merged.ok += part["ok"]
        merged.failed += part["failed"]
        for status, n in part["statuses"].items():
            merged.statuses[status] = merged.statuses.get(status, 0) + n
        latencies.extend(part["latencies"])
    latencies.sort()
    return {
        "elapsed": max(p["finished"] for p in parts) - began,
        "sent": merged.sent,
        "ok": merged.ok,
        "failed": merged.failed,
        "statuses": merged.statuses,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1) if latencies else None,
    }


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


def _pgbench(seconds: int) -> float | None:
    pgbench = "pgbench"
    parts = urlsplit(_server_url())
    env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432)}
    if parts.username:
        env["PGUSER"] = parts.username
    if parts.password:
        env["PGPASSWORD"] = parts.password
    try:
        _fresh_database(PGBENCH_DB)
        subprocess.run(
            [pgbench, "-i", "-q", "-s", "10", PGBENCH_DB], env=env, check=True, capture_output=True, timeout=300
        )
        out = subprocess.run(
            [pgbench, "-N", "-c", "8", "-j", "2", "-T", str(seconds), PGBENCH_DB],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"   pgbench unavailable: {exc}", flush=True)
        return None
    finally:
        try:
            _admin(f'DROP DATABASE IF EXISTS "{PGBENCH_DB}" WITH (FORCE)')
        except Exception as exc:  # cleanup only
            print(f"   could not drop {PGBENCH_DB}: {exc}", flush=True)
    match = re.search(r"tps = ([0-9.]+)", out)
    return float(match.group(1)) if match else None


def run() -> dict[str, Any]:
    total = _env_int("BENCH_WEBHOOKS_N", 20_000)
    seconds = _env_int("BENCH_WEBHOOKS_SECONDS", 60)
    workers = _env_int("BENCH_WEBHOOKS_WORKERS", 6)
    clients = _env_int("BENCH_WEBHOOKS_CLIENTS", 2)
    conns = _env_int("BENCH_WEBHOOKS_CONNS", 8)
    threads = _env_int("BENCH_WEBHOOKS_THREADS", 1)

    print(f"   preparing {BENCH_DB} …", flush=True)
    _fresh_database(BENCH_DB)
    env = _django_env(BENCH_DB)
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

    port = _free_port()
    command = [
        str(BIN / "gunicorn"),
        "config.wsgi",
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
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
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
        _fire(port, codes, first_id=1, total=clients * 200, clients=clients, conns=conns, seconds=30)
        before = int(_scalar(BENCH_DB, "SELECT count(*) FROM payments_payment"))
        load_average = os.getloadavg()[0]
        cpu_before = _cpu_seconds(server.pid)
        print(
            f"   firing {total} signed SePay deliveries: gunicorn -w {workers}"
            f"{f' gthread×{threads}' if threads > 1 else ''}, {clients} load processes × {conns} connections",
            flush=True,
        )
        load = _fire(port, codes, first_id=1_000_000, total=total, clients=clients, conns=conns, seconds=seconds)
        server_cpu = _cpu_seconds(server.pid) - cpu_before
        recorded = int(_scalar(BENCH_DB, "SELECT count(*) FROM payments_payment")) - before
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        server_log.close()

    rate = recorded / load["elapsed"] if load["elapsed"] > 0 else 0.0
    pg_seconds = _env_int("BENCH_PGBENCH_SECONDS", 10)
    print(f"   pgbench simple-update (-N, 8 clients) for {pg_seconds}s …", flush=True)
    tps = _pgbench(pg_seconds)
    try:
        _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    except Exception as exc:  # cleanup only
        print(f"   could not drop {BENCH_DB}: {exc}", flush=True)

    lost = load["ok"] - recorded
    cpu_ms = server_cpu / recorded * 1000 if recorded else 0.0
    print(
        f"   {recorded} payments recorded in {load['elapsed']:.1f}s = {rate:,.0f} payments/s "
        f"(answers {load['statuses']}, p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms); "
        f"pgbench simple-update {tps if tps is None else f'{tps:,.0f}'} TPS",
        flush=True,
    )
    return {
        "name": "signed webhook ingestion (SePay → gunicorn → PostgreSQL)",
        "value": round(rate),
        "unit": "payments/s",
        "target": f">= {TARGET}",
        "ok": rate >= TARGET and lost == 0 and load["failed"] == 0,
        "note": (f"pgbench simple-update {tps:,.0f} TPS same run; " if tps is not None else "pgbench unavailable; ")
        + (
            f"{recorded}/{load['sent']} recorded, {load['failed']} failed answers, p50 {load['p50_ms']} ms, "
            f"p99 {load['p99_ms']} ms; gunicorn -w {workers}{f' gthread×{threads}' if threads > 1 else ''}, "
            f"{clients}×{conns} client connections; gunicorn CPU {cpu_ms:.1f} ms/payment; "
            f"load average {load_average:.1f} at start"
        ),
        "pgbench_tps": tps,
        "recorded": recorded,
        "sent": load["sent"],
        "failed": load["failed"],
        "server_cpu_ms_per_payment": round(cpu_ms, 2),
        "load_average": load_average,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
