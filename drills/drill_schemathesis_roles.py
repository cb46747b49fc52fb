"""Drill 1: schemathesis against ``/api/v1/schema/`` once per role, on a
gunicorn (``config.wsgi``) over a scratch PostgreSQL and Redis seeded with the
demo data (``seed_demo``): every operation with boundary and fuzzed input,
checked for no 5xx (``not_a_server_error``) and for answers that match the
schema (``response_schema_conformance``). Each role signs in with its demo
login for a token; the anonymous run sends none.

Bounded: a fixed seed, a few cases per operation and a time budget per role.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import tempfile
import time
from pathlib import Path

from drills import schemathesis_report as st_report
from drills.report import DrillResult
from drills.services import PYTHON, Stack, manage

TITLE = "Schemathesis as each role"
QUICK = False

ROLES = {  # role → demo login (seed_demo); None: anonymous
    "superuser": "admin",
    "province officer": "sct.thainguyen",
    "market board": "bql.tn.thai",
    "volunteer": "tn.tn.thai",
    "vendor": "tt.demo",
    "anonymous": None,
}
DEMO_PASSWORD = "cho40-demo"
MAX_EXAMPLES = 4
SECONDS_PER_ROLE = 240  # the run of one role is stopped after this (counted as a failure)
# As CI: the whole-market card PDF renders every stall of a market per call.
EXCLUDE = r"markets/\{id\}/cards\.pdf"
SERVER_ENV = {
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_HSTS_SECONDS": "0",
    # Fuzzing refuses many sign-ins and webhook deliveries on purpose; the throttles
    # would then answer 429 to everything (the abuse drill's subject, not this one's).
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": "100000",
    "WEBHOOK_REFUSALS_PER_WINDOW": "100000",
    "USSD_SHARED_SECRET": "drill-ussd-secret",
    # Every provider's webhook on (unset, it answers 503 "not configured" by design).
    "CASSO_CHECKSUM_KEY": "drill-casso-key",
    "PAYOS_CHECKSUM_KEY": "drill-payos-key",
}


def _token(port: int, username: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"username": username, "password": DEMO_PASSWORD})
    conn.request("POST", "/api/v1/auth/token/", body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"no token for {username}: {response.status} {data[:200]!r}")
    return str(json.loads(data)["token"])


def _schemathesis(port: int, token: str | None, report_dir: Path) -> tuple[int, str]:
    cmd = [
        str(Path(PYTHON).parent / "schemathesis"),
        "run",
        f"http://127.0.0.1:{port}/api/v1/schema/",
        "--checks",
        "not_a_server_error,response_schema_conformance",
        "--phases",
        "coverage,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "1",
        "--workers",
        "2",
        "--exclude-path-regex",
        EXCLUDE,
        "--no-color",
        "--continue-on-failure",
        "--report",
        "ndjson",
        "--report-dir",
        str(report_dir),
        "--request-timeout",
        "30",
    ]
    if token:
        cmd += ["-H", f"Authorization: Token {token}"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS_PER_ROLE)
    except subprocess.TimeoutExpired as exc:
        return -1, (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    return out.returncode, out.stdout + out.stderr


def run() -> DrillResult:
    result = DrillResult(name="schemathesis_roles", title=TITLE)
    with Stack(vendors=0, name="schemathesis") as stack:
        seed_started = time.monotonic()
        manage(stack.env(), "seed_demo", "--force", "--payment-days", "14", timeout=900)
        result.figures["seed_demo (14 days of payments)"] = f"{time.monotonic() - seed_started:.0f} s"
        with stack.server("wsgi", workers=2, **SERVER_ENV) as web:  # type: ignore[arg-type]
            for role, login in ROLES.items():
                token = _token(web.port, login) if login else None
                log_start = web.log_path.stat().st_size
                with tempfile.TemporaryDirectory(prefix="cho40-st-") as tmp:
                    started = time.monotonic()
                    code, output = _schemathesis(web.port, token, Path(tmp))
                    summary = st_report.summarize(st_report.load_events(Path(tmp)))
                summary["seconds"] = round(time.monotonic() - started)
                with web.log_path.open("rb") as log:
                    log.seek(log_start)
                    causes = st_report.exceptions_in(log.read().decode(errors="replace"))
                if summary["operations"] == 0:
                    result.notes.append(f"{role}: schemathesis said:\n\n```\n{output[-2000:]}\n```")
                st_report.record(result, role, code, summary, causes)
            if not web.alive():
                result.failures.append("gunicorn died during the run:\n\n```\n" + web.tail() + "\n```")
    result.notes.append(
        "Schemathesis (fixed seed 1, the coverage and fuzzing phases, "
        f"{MAX_EXAMPLES} fuzzed cases per operation) sends every operation of `/api/v1/schema/` to gunicorn "
        "as each demo login of `seed_demo` (token from `/api/v1/auth/token/`) and without one, checking "
        "`not_a_server_error` and `response_schema_conformance`; only the whole-market card PDF is left out, "
        "as in CI. The sign-in and webhook refusal throttles are raised for the run."
    )
    result.notes.append(
        "`response_schema_conformance` checks the answers whose status the schema documents. Found and fixed "
        "by its first runs (regression tests in tests/market/test_markets_api.py, tests/vendors/test_vendors_edit.py "
        "and tests/config/test_schema.py): a ward code, former province or bank BIN holding a NUL character "
        "reached PostgreSQL, which cannot take NUL in text (500 on `PUT /api/v1/vendors/{id}/` as the trader, "
        "and on the markets' writes); they are now refused as unknown (400). The schema gave `POST "
        "/api/v1/markets/` and `PUT/PATCH /api/v1/markets/{id}/` the input's shape as their answer (ward and "
        "former province as strings) where they answer the market as read (objects): 52–57 failing cases per "
        "role that may write markets, none since."
    )
    return result.finish()
