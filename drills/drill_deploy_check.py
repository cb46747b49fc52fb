"""Deployment check: `manage.py check --deploy` clean with production settings,
the security headers on every kind of answer of a live gunicorn (every GET
route of the URL configuration, signed in and out, the API, static files,
errors, the ASGI lane), and no secret in the repository (detect-secrets
against the audited baseline, as CI runs it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

from drills.abuse_http import Answer, Browser
from drills.abuse_sections import PASSWORD
from drills.abuse_targets import Route
from drills.report import DrillResult
from drills.services import PYTHON, ROOT, Stack, manage

TITLE = "Deployment: check --deploy, security headers on every answer, no secret in the repository"
QUICK = True

HSTS = "max-age=31536000; includeSubDomains; preload"
EXPECTED = {
    "strict-transport-security": HSTS,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
SKIP = ("/stall/events/",)  # an event stream: it never ends (its headers are checked by tests/stall)
SETUP = f"""
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser("drill-admin", "", "{PASSWORD}")
"""


def missing_headers(answer: Answer) -> list[str]:
    wrong = [name for name, value in EXPECTED.items() if answer.headers.get(name) != value]
    csp = answer.headers.get("content-security-policy", "")
    if "frame-ancestors 'none'" not in csp:
        wrong.append("content-security-policy frame-ancestors")
    if "default-src 'self'" not in csp or "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
        wrong.append("content-security-policy default-src 'self' (no unsafe-inline, no unsafe-eval)")
    return wrong


def kind_of(path: str, status: int) -> str:
    if status >= 400:
        return f"error {status}"
    if path.startswith("/static/"):
        return "static"
    if path.startswith("/api/"):
        return "API"
    if path.startswith("/admin/"):
        return "admin"
    return "page"


def check_deploy(result: DrillResult) -> None:
    with tempfile.TemporaryDirectory() as var:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))},
            "DATABASE_URL": "postgres://cho40:not-used@127.0.0.1:1/cho40",  # checks only, never connected to
            "DJANGO_SECRET_KEY": "drill-production-like-key-" + "k" * 40,
            "DJANGO_ALLOWED_HOSTS": "cho40.thainguyen.gov.vn",
            "CHO_VAR_DIR": var,
        }
        out = subprocess.run(
            [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    said = (out.stdout + out.stderr).strip().splitlines()
    result.figures["check --deploy --fail-level WARNING (production settings)"] = said[-1] if said else "(nothing)"
    result.check(out.returncode == 0 and "no issues" in out.stdout, "check --deploy: " + " / ".join(said[-5:]))


def header_sweep(result: DrillResult, port: int, routes: list[list[object]], lane: str) -> None:
    admin = Browser(port, "203.0.113.60")
    signed_in = admin.post_form("/login/", {"username": "drill-admin", "password": PASSWORD}).status == 302
    result.check(signed_in, f"{lane}: the superuser could not sign in")
    paths = [Route(str(pattern), "", ()).path() for pattern, _n, _m in routes]
    paths += ["/static/css/cho40.css", "/static/no-such-file.js", "/no-such-page/", "/api/v1/no-such-thing/"]
    kinds: Counter[str] = Counter()
    wrong: list[str] = []
    sent = 0
    for who, browser in (("signed in", admin), ("anonymous", Browser(port, "203.0.113.61"))):
        for path in paths:
            if path.startswith(SKIP):
                continue
            answer = browser.get(path)
            sent += 1
            kinds[kind_of(path, answer.status)] += 1
            if answer.status >= 500:
                result.errors_5xx.append(f"{answer.status} GET {path} ({lane}, {who})")
            if missing := missing_headers(answer):
                wrong.append(f"{lane} {who} GET {path} ({answer.status}): {', '.join(missing)}")
    big = Browser(port, "203.0.113.62").request("POST", "/api/v1/vendors/", b"{}", "application/json")
    big_missing = missing_headers(big)  # a small body here; the 413 is below
    result.requests_sent += sent + 2
    result.figures[f"{lane}: answers swept (GET, every route signed in and out, static, 404s)"] = (
        f"{sent}: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common())
    )
    result.figures[f"{lane}: answers missing a security header"] = str(len(wrong))
    result.check(not wrong, f"{lane}: security headers missing on {len(wrong)} answers, e.g. {wrong[:5]}")
    result.check(not big_missing, f"{lane}: a refused POST lacks {big_missing}")


def secret_scan(result: DrillResult) -> None:
    env = dict(os.environ)
    pylib = ROOT / ".pylib"  # a helper's trial install (pip --target); CI has it in the venv
    if pylib.exists():
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(pylib), env.get("PYTHONPATH", "")] if p)
    out = subprocess.run([PYTHON, ".ci/secret_scan.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    said = (out.stdout + out.stderr).strip().splitlines()
    result.figures["secret scan (detect-secrets, audited .secrets.baseline)"] = said[-1] if said else "(nothing)"
    baseline = json.loads((ROOT / ".secrets.baseline").read_text())
    findings = sum(len(v) for v in baseline["results"].values())
    result.figures["baseline: audited findings (test keys, published vectors, placeholders)"] = str(findings)
    result.check(out.returncode == 0, "secret scan: " + " / ".join(said[-5:]))


def run() -> DrillResult:
    result = DrillResult(name="deploy_check", title=TITLE)
    check_deploy(result)
    secret_scan(result)
    with Stack(vendors=5, name="deploy") as stack:
        env = stack.env()
        manage(env, "shell", "-c", SETUP)
        routes = json.loads(
            subprocess.run(
                [sys.executable, "-m", "drills.abuse_targets"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        with stack.server("wsgi", workers=2, TRUSTED_PROXIES="127.0.0.1/32") as web:
            header_sweep(result, web.port, routes, "WSGI")
        with stack.server("asgi", workers=1, TRUSTED_PROXIES="127.0.0.1/32") as intake:
            sample = [r for r in routes if not str(r[0]).startswith("/admin/")]
            header_sweep(result, intake.port, sample, "ASGI")
    result.notes += [
        "`check --deploy` runs with the production settings a province deploys (DATABASE_URL set, DEBUG off, a "
        "real host list). The header sweep asks a live gunicorn, with production settings behind a TLS "
        "terminator (`X-Forwarded-Proto: https`), for every route of the URL configuration with placeholder "
        "parameters — so pages, redirects to sign-in, API answers and errors, the admin, 404s — plus a static "
        "file, signed in as the superuser and signed out, on the WSGI server and (without the admin) the ASGI "
        "lane; every answer must carry HSTS, nosniff, Referrer-Policy, X-Frame-Options DENY, "
        "Cross-Origin-Opener-Policy and a Content-Security-Policy with `default-src 'self'` (scripts, styles, "
        "connections and media from the site only, no `'unsafe-inline'`, no `'unsafe-eval'`) and "
        "`frame-ancestors 'none'`. That no page breaks under it is checked in Chromium by "
        "tests/web/test_csp_in_browser.py (every role's main pages, Swagger UI and the admin: no violation).",
    ]
    return result.finish()
