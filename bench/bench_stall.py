"""Live receipts: from a signed webhook being answered to the receipt arriving
in a connected stall page's event stream, with 500 stalls connected at once
while the intake runs at its measured rate (issue 14, "Speed"; goal p95 ≤ 1 s).

What it does, all on loopback and bounded in time (about 1½ minutes, at most 3):

1. creates a scratch database (``cho40_bench_stall``, a copy of the bench's
   migrated template) and seeds
   ``BENCH_STALL_N`` (500) active vendors in five markets, each with a user and
   a signed-in session made by the project's session engine
   (``bench/stall_seed.py``);
2. starts gunicorn on ``config.asgi:application`` with 2 uvicorn workers, as the
   compose ``webhooks`` service runs it, with REDIS_URL on the benchmark's
   Redis database (14) and the SePay HMAC secret of the intake benchmark;
3. takes the intake rate measured by the intake benchmark earlier in the same
   ``make bench`` run (``bench_webhooks``), or measures it here with that
   benchmark's Python generator for a few seconds when run alone
   (``BENCH_STALL_RATE`` sets it instead);
4. opens one ``GET /stall/events/`` per vendor (2 processes of asyncio
   clients, ``bench/stall_sse.py``), each with the vendor's session cookie and
   ``?cursor=`` as the page does, and waits until all are open;
5. sends signed SePay credits, each to a random vendor, open-loop at that
   rate for ``BENCH_STALL_SECONDS`` (30) after a 2-second warm-up
   (``bench/stall_drive.py``), stamping each answer; each stream stamps each
   receipt as its bytes arrive (one monotonic clock for all processes);
   latency = received − answered, joined through the payment's
   provider transaction id in the database;
6. the baseline is the same webhooks' answer time (sent → answered): the
   receipt is published after the commit the answer also waits for, so
   answered → receipt is near zero by construction and the meaningful ratio
   is sent → receipt against sent → answer (1x: the page learns of the
   payment when the bank does). Where the time goes is timed beside it:
   receipt messages that are no payment PUBLISHed every 20 ms on the
   server's channel (the fan-out path alone) and a bare Redis round trip
   (``bench/stall_probe.py``);
7. counts receipts lost (not on their vendor's stream within 10 s of the
   answer), duplicated, or sent to another vendor's stream; all must be 0.

``run() -> list[dict]`` is used by ``make bench``; ``python -m bench.bench_stall``
runs it alone. Knobs (environment): BENCH_STALL_N (stalls, 500; 100 under
``--quick``), BENCH_STALL_SECONDS (30; 4 under ``--quick``), BENCH_STALL_RATE (payments/s; default the intake
rate), BENCH_STALL_WORKERS (2), BENCH_STALL_REDIS_URL
(redis://127.0.0.1:6379/14), BENCH_STALL_DB_CONNECTIONS (the scratch
database's connection limit, 60: the PostgreSQL server is shared),
BENCH_POSTGRES_URL (as the intake benchmark).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

import bench
from bench.bench_webhooks import _cpu_seconds, _free_port
from bench.stall_drive import build_requests, drive
from bench.stall_probe import RedisProbe
from bench.stall_sse import listener
from bench.webhooks_db import admin, db_url, django_env, migrated_database
from bench.webhooks_load import SECRET, fire_python
from drills.services import wait_http

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DB = bench.scratch("cho40_bench_stall")
TARGET_MS = 1000
WARMUP_SECONDS = 2
LOST_AFTER = 10.0  # seconds after its answer a receipt counts as lost
LISTENERS = 2  # client processes holding the streams
INTAKE_ROW = "signed webhook ingestion"


def _env_num(name: str, default: float) -> float:
    return float(os.environ.get(name, "") or default)


def _django(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=timeout
    ).stdout


def limited_role(db: str, limit: int) -> str:
    """The URL of ``db`` for a role of its own (named after it) allowed
    ``limit`` connections. The PostgreSQL server is shared: a server that held
    a connection per open stream would otherwise take every slot from everyone
    else (a superuser ignores connection limits). Capped, it fails here alone."""
    admin(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{db}') "
        f'THEN CREATE ROLE "{db}" LOGIN; END IF; END $$'
    )
    admin(f'ALTER ROLE "{db}" CONNECTION LIMIT {limit}')
    with psycopg.connect(db_url(db), autocommit=True) as conn:
        conn.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{db}"')  # type: ignore[arg-type]
        conn.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{db}"')  # type: ignore[arg-type]
    parts = urlsplit(db_url(db))
    host = parts.hostname or "127.0.0.1"
    return urlunsplit((parts.scheme, f"{db}@{host}:{parts.port or 5432}", parts.path, "", ""))


def intake_rate_of_this_run() -> float | None:
    """The payments/s the intake benchmark measured earlier in this ``make bench`` run."""
    for row in reversed(getattr(bench, "RESULTS", [])):
        if str(row.get("name", "")).startswith(INTAKE_ROW) and row.get("unit") == "payments/s":
            return float(row["value"])
    return None


def _measure_intake(port: int, codes: list[list[str]], seconds: float) -> float:
    """The intake benchmark's Python generator at full speed on this server (no stream open yet)."""
    load = fire_python(port, codes, first_id=3_000_000_000, total=200_000, clients=2, conns=8, seconds=seconds)
    return min(load["ok"], load["sent"] - load["failed"]) / load["elapsed"] if load["elapsed"] > 0 else 0.0


def _check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise RuntimeError(
            f"live receipts need Redis at {url} (BENCH_STALL_REDIS_URL): {exc}; without it the streams "
            "read the ledger every second and there is no push path to measure"
        ) from None


def _log_summary(log: Any) -> None:
    """The server's warnings and errors, counted by their first words (a
    benchmark that went wrong says why without a second run)."""
    log.seek(0)
    counts: dict[str, int] = {}
    for line in log.read().decode(errors="replace").splitlines():
        for level in (" ERROR ", " WARNING ", " CRITICAL "):
            if level in line:
                key = line.split(level, 1)[1][:160]
                key = " ".join(word for word in key.split() if not any(ch.isdigit() for ch in word))
                counts[level.strip() + " " + key] = counts.get(level.strip() + " " + key, 0) + 1
    for text, n in sorted(counts.items(), key=lambda item: -item[1])[:6]:
        print(f"   server log: {n}× {text}", flush=True)


def _stop(server: subprocess.Popen[bytes], procs: list[Any]) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _drop() -> None:
    try:
        admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        admin(f'DROP ROLE IF EXISTS "{DB}"')
    except Exception as exc:  # cleanup only
        print(f"   could not drop {DB} or its role: {exc}", flush=True)


def run() -> list[dict[str, Any]]:
    try:
        return _run()
    finally:
        _drop()  # also after a failure: no scratch database or role left behind


def _run() -> list[dict[str, Any]]:
    began = time.monotonic()
    stalls = int(_env_num("BENCH_STALL_N", bench.size(500, 100)))
    seconds = _env_num("BENCH_STALL_SECONDS", bench.size(30, 4))
    workers = int(_env_num("BENCH_STALL_WORKERS", 2))
    redis_url = os.environ.get("BENCH_STALL_REDIS_URL") or "redis://127.0.0.1:6379/14"
    db_limit = int(_env_num("BENCH_STALL_DB_CONNECTIONS", 60))

    _check_redis(redis_url)
    print(f"   preparing {DB} with {stalls} signed-in vendors …", flush=True)
    migrated_database(DB)
    env = django_env(DB, sepay_secret=SECRET)
    env.update(REDIS_URL=redis_url, DJANGO_SECURE_COOKIES="0")
    seeded = json.loads(_django(env, "-m", "bench.stall_seed", str(stalls)).strip().splitlines()[-1])
    server_env = {**env, "DATABASE_URL": limited_role(DB, db_limit)}
    vendors: list[list[Any]] = seeded["vendors"]
    codes = [[code, account] for _, code, account, _ in vendors]
    vendor_ids = [int(row[0]) for row in vendors]

    port = _free_port()
    command = [
        str(BIN / "gunicorn"), "config.asgi:application",
        "--worker-class", "config.workers.SpreadUvicornWorker", "--reuse-port",
        "-b", f"127.0.0.1:{port}", "-w", str(workers),
        "--keep-alive", "30", "--graceful-timeout", "5", "--backlog", "2048", "--log-level", "warning",
    ]  # fmt: skip
    server_log = tempfile.TemporaryFile()  # noqa: SIM115 (closed after the server stops)
    server = subprocess.Popen(
        command, cwd=ROOT, env=server_env, start_new_session=True, stdout=server_log, stderr=subprocess.STDOUT
    )
    procs: list[Any] = []
    probe = RedisProbe(redis_url)  # replaced by one with the server's channel once it is known
    try:
        try:
            wait_http(port, 60, process=server, answer=b"HTTP/1.1 200")
        except RuntimeError as exc:
            server_log.seek(0)
            print(server_log.read().decode(errors="replace")[-3000:], flush=True)
            raise RuntimeError(
                f"the ASGI server (gunicorn config.asgi) did not come up: {exc}; its log is above"
            ) from None

        rate = _env_num("BENCH_STALL_RATE", 0) or intake_rate_of_this_run()
        source = "BENCH_STALL_RATE" if os.environ.get("BENCH_STALL_RATE") else "the intake benchmark of this run"
        if not rate:
            probe_seconds = bench.size(5, 3)
            print(f"   measuring the intake rate (the intake benchmark's generator, {probe_seconds} s) …", flush=True)
            rate = _measure_intake(port, codes, probe_seconds)
            source = f"measured here for {probe_seconds} s with the intake benchmark's Python generator, no stream open"
        print(f"   intake rate {rate:,.0f} payments/s ({source})", flush=True)

        live = json.loads(_django(env, "-m", "bench.stall_seed", "--cursors").strip().splitlines()[-1])
        cursors = live["cursors"]
        probe = RedisProbe(redis_url, channel=live["channel"], vendor_ids=vendor_ids)
        cookie = seeded["cookie"]
        specs = [(int(vid), f"{cookie}={key}", cursors.get(str(vid))) for vid, _, _, key in vendors]
        ctx = mp.get_context("fork")
        pipes = []
        for part in range(LISTENERS):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=listener, args=(port, specs[part::LISTENERS], theirs), daemon=True)
            proc.start()
            procs.append(proc)
            pipes.append(mine)
        opened = 0
        refusals: list[str] = []
        for pipe in pipes:
            if not pipe.poll(90):
                raise RuntimeError("the stream clients did not report within 90 s")
            said = pipe.recv()
            opened += int(said["open"])
            refusals += said["errors"]
        print(f"   {opened} of {stalls} event streams open after {time.monotonic() - began:.0f}s", flush=True)
        if refusals:
            print(f"   first refusals: {refusals}", flush=True)
        if opened == 0:
            server_log.seek(0)
            print(server_log.read().decode(errors="replace")[-3000:], flush=True)
            raise RuntimeError("no event stream opened: is GET /stall/events/ there (stall-live merged)?")

        warmup = max(1, int(rate * WARMUP_SECONDS))
        total = warmup + int(rate * seconds)
        requests, targets = build_requests(port, codes, first_id=4_000_000_000, count=total, seed=14)
        mine, theirs = ctx.Pipe()
        driver = ctx.Process(target=drive, args=(port, requests, theirs), kwargs={"rate": rate, "warmup": warmup})
        driver.start()
        procs.append(driver)
        del requests
        load_start = os.getloadavg()[0]
        cpu_before = _cpu_seconds(server.pid)
        probe.start()
        print(f"   driving {rate:,.0f} signed credits/s for {WARMUP_SECONDS}+{seconds:.0f}s …", flush=True)
        mine.send("go")
        give_up = time.monotonic() + seconds + WARMUP_SECONDS + 90
        while not mine.poll(1):
            if not driver.is_alive() or time.monotonic() > give_up:
                raise RuntimeError("the webhook driver stopped or did not finish in time (its error is above)")
        driven = mine.recv()
        server_cpu = _cpu_seconds(server.pid) - cpu_before
        time.sleep(LOST_AFTER)  # receipts later than this after their answer are lost anyway
        probe.stop()
        load_end = os.getloadavg()[0]
        streams: list[dict[str, Any]] = []
        for pipe in pipes:
            pipe.send("stop")
        for pipe in pipes:
            if not pipe.poll(60):
                raise RuntimeError("the stream clients did not send their receipts")
            streams.extend(pipe.recv()["streams"])
    finally:
        probe.stop()
        _stop(server, procs)
        _log_summary(server_log)
        server_log.close()

    from bench.stall_report import payments_by_txn, report

    by_txn = payments_by_txn(DB)
    return report(
        stalls=stalls,
        opened=opened,
        rate=rate,
        source=source,
        driven=driven,
        targets=[vendor_ids[i] for i in targets],
        warmup=warmup,
        first_id=4_000_000_000,
        streams=streams,
        by_txn=by_txn,
        probe=probe.latencies_ms,
        injected=probe.injected,
        server_cpu=server_cpu,
        workers=workers,
        load=(load_start, load_end),
        elapsed=time.monotonic() - began,
        lost_after=LOST_AFTER,
        target_ms=TARGET_MS,
    )


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
