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
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import re
import resource
import shutil
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
from payments.bank_credits.providers.sepay import hmac_signature

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_DB = "cho40_bench"
PGBENCH_DB = "cho40_pgbench"
SECRET = "bench-sepay-hmac-secret"  # SePay's HMAC-SHA256 mode: every delivery is signed
TARGET = 1000  # payments/s
PATH = "/api/v1/webhooks/sepay/"
SIGNED_PER_SECOND = 8_000  # deliveries signed for wrk per second of run: well above what two cores record


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
        DB_CONN_HEALTH_CHECKS=os.environ.get("BENCH_WEBHOOKS_HEALTH_CHECKS", "0"),
        LOG_LEVEL="WARNING",
        SEPAY_WEBHOOK_SECRET=SECRET,
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


def _delivery(codes: list[list[str]], rng: random.Random, txn_id: int) -> bytes:
    """One SePay credit paying a random seeded vendor by its static-QR content."""
    code, account = codes[rng.randrange(len(codes))]
    return json.dumps(
        {
            "id": txn_id,
            "gateway": "Vietcombank",
            "transactionDate": "2025-03-01 08:15:00",
            "accountNumber": account,
            "subAccount": None,
            "code": None,
            "content": f"CHO40 {code} rau cu",
            "transferType": "in",
            "transferAmount": rng.randrange(5, 500) * 1000,
            "accumulated": 0,
            "referenceCode": f"FT25{txn_id:012d}",
            "description": "",
        },
        separators=(",", ":"),
    ).encode()


def _signed(body: bytes) -> tuple[str, str]:
    """(X-SePay-Timestamp, X-SePay-Signature) for ``body``, as SePay's HMAC mode signs it."""
    timestamp = str(int(time.time()))
    return timestamp, hmac_signature(SECRET, timestamp, body)


def _signed_file(codes: list[list[str]], *, first_id: int, count: int) -> Path:
    """``count`` signed deliveries for wrk, one per line: timestamp, signature, body."""
    rng = random.Random(first_id)
    with tempfile.NamedTemporaryFile("wb", suffix=".tsv", delete=False) as out:
        for i in range(count):
            body = _delivery(codes, rng, first_id + i)
            timestamp, signature = _signed(body)
            out.write(f"{timestamp}\t{signature}\t".encode() + body + b"\n")
    return Path(out.name)


def _request_maker(port: int, codes: list[list[str]], first_id: int):  # type: ignore[no-untyped-def]
    head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
    rng = random.Random(first_id)

    def make(i: int) -> bytes:
        body = _delivery(codes, rng, first_id + i)
        timestamp, signature = _signed(body)
        headers = f"X-SePay-Timestamp: {timestamp}\r\nX-SePay-Signature: {signature}\r\n"
        return f"{head}{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body

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


WRK_SCRIPT = ROOT / "bench" / "webhooks_wrk.lua"


def _fire_wrk(port: int, signed_file: Path, *, threads: int, conns: int, seconds: float) -> dict[str, Any]:
    """One wrk run; its own CPU (user + system) comes from the kernel's rusage."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{max(conns * threads, threads)}",
        f"-d{max(int(seconds), 1)}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}{PATH}",
        "--",
        str(signed_file),
        str(threads),
    ]
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    match = re.search(r"^WRK_JSON (.*)$", text, re.MULTILINE)
    if process.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{text[-2000:]}")
    report = json.loads(match.group(1))
    statuses = {int(k): v for k, v in report["statuses"].items()}
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    errors = report["errors"]
    return {
        "elapsed": report["duration_us"] / 1e6,
        "sent": report["requests"],
        "ok": ok,
        # A request cut off by wrk's deadline counts as a timeout; only socket
        # errors and non-2xx answers are failures.
        "failed": report["requests"] - ok + errors["connect"] + errors["read"] + errors["write"],
        "statuses": statuses,
        "p50_ms": report["p50_ms"],
        "p99_ms": report["p99_ms"],
        "cpu": usage.ru_utime + usage.ru_stime,
    }


def _fire_python(
    port: int, codes: list[list[str]], *, first_id: int, total: int, clients: int, conns: int, seconds: float
) -> dict[str, Any]:
    """The Python generator's run, with the CPU of its processes (reaped children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = _fire(port, codes, first_id=first_id, total=total, clients=clients, conns=conns, seconds=seconds)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


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


def _backend_pids(db: str) -> list[int]:
    """The PostgreSQL backends serving ``db`` (the gunicorn workers' connections);
    their CPU is readable when the server runs on this machine."""
    import psycopg

    with psycopg.connect(_db_url(db), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db]
        ).fetchall()
    return [int(row[0]) for row in rows if Path(f"/proc/{row[0]}/stat").exists()]


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


def _loadgen() -> str:
    wanted = os.environ.get("BENCH_WEBHOOKS_LOADGEN", "").strip().lower()
    if wanted == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if wanted == "wrk":
        print("   wrk is not installed (apt-get install wrk): using the Python generator", flush=True)
    return "python"


def _ms_per(cpu: float | None, count: int) -> float | None:
    return round(cpu / count * 1000, 2) if cpu is not None and count else None


def run() -> dict[str, Any]:
    loadgen = _loadgen()
    wrk = loadgen == "wrk"
    total = _env_int("BENCH_WEBHOOKS_N", 20_000)
    seconds = _env_int("BENCH_WEBHOOKS_SECONDS", 30)
    asgi_default = os.environ.get("BENCH_WEBHOOKS_SERVER", "asgi").strip().lower() != "wsgi"
    workers = _env_int("BENCH_WEBHOOKS_WORKERS", 2 if asgi_default else 6)
    clients = _env_int("BENCH_WEBHOOKS_CLIENTS", 1 if wrk else 2)
    conns = _env_int("BENCH_WEBHOOKS_CONNS", (64 if asgi_default else 16) if wrk else 8)
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

    def fire(first_id: int, duration: float, count: int) -> dict[str, Any]:
        if wrk:
            # Signed just before the run (timestamps must be within 5 minutes),
            # more deliveries than it can send.
            signed = _signed_file(codes, first_id=first_id, count=max(1_000, int(duration * SIGNED_PER_SECOND)))
            try:
                return _fire_wrk(port, signed, threads=clients, conns=conns, seconds=duration)
            finally:
                signed.unlink()
        return _fire_python(port, codes, first_id=first_id, total=count, clients=clients, conns=conns, seconds=duration)

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
        before = int(_scalar(BENCH_DB, "SELECT count(*) FROM payments_payment"))
        backends = _backend_pids(BENCH_DB)
        load_average = os.getloadavg()[0]
        cpu_before = _cpu_seconds(server.pid)
        db_cpu_before = _proc_cpu(backends)
        print(f"   firing signed SePay deliveries for {seconds}s: {shape}", flush=True)
        load = fire(1_000_000_000, seconds, total)
        server_cpu = _cpu_seconds(server.pid) - cpu_before
        db_cpu = _proc_cpu(backends) - db_cpu_before if backends else None
        time.sleep(1)  # requests wrk abandoned at its deadline may still be finishing
        recorded = int(_scalar(BENCH_DB, "SELECT count(*) FROM payments_payment")) - before
        # Every delivery must have been attributed to its vendor and finished
        # as processed: a fast path that skipped work would show here.
        unattributed = int(_scalar(BENCH_DB, "SELECT count(*) FROM payments_payment WHERE vendor_id IS NULL"))
        unfinished = int(_scalar(BENCH_DB, "SELECT count(*) FROM payments_webhookdelivery WHERE status <> 'processed'"))
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
    tps = _pgbench(pg_seconds)
    try:
        _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
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
