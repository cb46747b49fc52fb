"""The load of the webhook benchmark: SePay credits to random seeded vendors,
signed with HMAC-SHA256 as SePay's HMAC mode signs them, fired with wrk
(``bench/webhooks_wrk.lua``, deliveries signed beforehand into a file) or the
Python generator of ``bench/loadgen.py`` (processes started together), each
run reporting its answers, latencies and its own CPU."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.loadgen import LoadResult, run_load
from payments.bank_credits.providers.sepay import hmac_signature

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-sepay-hmac-secret"  # SePay's HMAC-SHA256 mode: every delivery is signed
PATH = "/api/v1/webhooks/sepay/"


def delivery(codes: list[list[str]], rng: random.Random, txn_id: int) -> bytes:
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


def signed(body: bytes) -> tuple[str, str]:
    """(X-SePay-Timestamp, X-SePay-Signature) for ``body``, as SePay's HMAC mode signs it."""
    timestamp = str(int(time.time()))
    return timestamp, hmac_signature(SECRET, timestamp, body)


def signed_file(codes: list[list[str]], *, first_id: int, count: int) -> Path:
    """``count`` signed deliveries for wrk, one per line: timestamp, signature, body."""
    rng = random.Random(first_id)
    with tempfile.NamedTemporaryFile("wb", suffix=".tsv", delete=False) as out:
        for i in range(count):
            body = delivery(codes, rng, first_id + i)
            timestamp, signature = signed(body)
            out.write(f"{timestamp}\t{signature}\t".encode() + body + b"\n")
    return Path(out.name)


def request_maker(port: int, codes: list[list[str]], first_id: int):  # type: ignore[no-untyped-def]
    head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
    rng = random.Random(first_id)

    def make(i: int) -> bytes:
        body = delivery(codes, rng, first_id + i)
        timestamp, signature = signed(body)
        headers = f"X-SePay-Timestamp: {timestamp}\r\nX-SePay-Signature: {signature}\r\n"
        return f"{head}{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body

    return make


def _client(args: tuple[int, list[list[str]], int, int, int, float, Any]) -> dict[str, Any]:
    port, codes, first_id, count, conns, seconds, start = args
    make = request_maker(port, codes, first_id)
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
        "p95_ms": round(latencies[max(int(len(latencies) * 0.95) - 1, 0)], 1) if latencies else None,
        "p99_ms": round(latencies[max(int(len(latencies) * 0.99) - 1, 0)], 1) if latencies else None,
    }


WRK_SCRIPT = ROOT / "bench" / "webhooks_wrk.lua"


def fire_wrk(port: int, signed_file: Path, *, threads: int, conns: int, seconds: float) -> dict[str, Any]:
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
    errors = report["errors"]
    # wrk counts the answers over 399 itself (errors.status); the bench's server answers 200 or an error.
    ok = report["requests"] - errors["status"]
    statuses = {"2xx": ok, "4xx/5xx": errors["status"]} if errors["status"] else {"2xx": ok}
    return {
        "elapsed": report["duration_us"] / 1e6,
        "sent": report["requests"],
        "ok": ok,
        # A request cut off by wrk's deadline counts as a timeout; only socket
        # errors and non-2xx answers are failures.
        "failed": report["requests"] - ok + errors["connect"] + errors["read"] + errors["write"],
        "statuses": statuses,
        "p50_ms": report["p50_ms"],
        "p95_ms": report["p95_ms"],
        "p99_ms": report["p99_ms"],
        "cpu": usage.ru_utime + usage.ru_stime,
    }


def fire_python(
    port: int, codes: list[list[str]], *, first_id: int, total: int, clients: int, conns: int, seconds: float
) -> dict[str, Any]:
    """The Python generator's run, with the CPU of its processes (reaped children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = _fire(port, codes, first_id=first_id, total=total, clients=clients, conns=conns, seconds=seconds)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def choose_loadgen() -> str:
    wanted = os.environ.get("BENCH_WEBHOOKS_LOADGEN", "").strip().lower()
    if wanted == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if wanted == "wrk":
        print("   wrk is not installed (apt-get install wrk): using the Python generator", flush=True)
    return "python"
