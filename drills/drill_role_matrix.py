"""Drill 2: the role × endpoint matrix (``drills/matrix.py``) against a real
gunicorn (``config.wsgi``) on a scratch PostgreSQL and Redis: the cast is
built in that database, each role signs in through ``/login/`` as a person
would (session cookie, CSRF token), and every cell is sent over HTTP.

Unlike the pytest test, nothing is rolled back between requests: a role's
write stays (a payout change approved by the superuser answers the board 409,
still "let in"). Two writes would change who plays, and are undone after each:
signing out (the role signs in again) and removing the spare volunteer (put
back by SQL). The sign-in and webhook refusal throttles are raised for the
run: they are the abuse drill's subject, not this one's.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from drills import matrix_run
from drills.matrix_cast import PASSWORD, ROLES, Cast
from drills.report import DrillResult
from drills.services import PYTHON, ROOT, Stack

TITLE = "Role × endpoint matrix against gunicorn"
QUICK = True

SERVER_ENV = {
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_HSTS_SECONDS": "0",
    "USSD_SHARED_SECRET": "matrix-ussd-secret",
    "LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": "100000",
    "WEBHOOK_REFUSALS_PER_WINDOW": "100000",
}

_BUILD = """
import json, django
django.setup()
from drills.matrix_cast import build_cast
cast = build_cast()
users = {role: user.username for role, user in cast.users.items()}
print(json.dumps({"ids": cast.ids, "home_account": cast.home_account, "users": users}))
"""


def setup_django(stack: Stack) -> None:
    """Django in this process too (the matrix walks the URL resolver), on the stack's settings."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    env = stack.env()
    for key in ("DATABASE_URL", "DJANGO_SECRET_KEY"):
        os.environ.setdefault(key, env[key])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()


def _build_cast(stack: Stack) -> Cast:
    env = stack.env(DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [PYTHON, "-c", _BUILD], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=300
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return Cast(users=data["users"], ids=data["ids"], home_account=data["home_account"])


class Browser:
    """One role's cookies (session, CSRF) over plain HTTP to the server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> matrix_run.Answer:
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        if content_type:
            headers["Content-Type"] = content_type
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            streaming = "text/event-stream" in (response.getheader("Content-Type") or "")
            content = b"" if streaming else response.read(200_000)
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel.value and morsel["max-age"] != "0":
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
        finally:
            conn.close()
        is_json = "json" in (response.getheader("Content-Type") or "")
        return matrix_run.Answer(
            response.status,
            response.getheader("Location") or "",
            matrix_run.error_code(content) if is_json else "",
            content.decode(errors="replace"),
        )

    def sign_in(self, username: str) -> None:
        self.cookies.clear()
        self.request("GET", "/login/")
        form = urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.cookies["csrftoken"]})
        answer = self.request("POST", "/login/", form.encode(), "application/x-www-form-urlencoded")
        if answer.status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{username} could not sign in: {answer.status} {answer.text[:200]}")


def run() -> DrillResult:
    result = DrillResult(name="role_matrix", title=TITLE)
    with Stack(vendors=0, name="matrix") as stack:
        setup_django(stack)
        cast = _build_cast(stack)
        with stack.server("wsgi", workers=2, **SERVER_ENV) as web:  # type: ignore[arg-type]
            browsers = {role: Browser(web.port) for role in ROLES}
            for role, username in cast.users.items():
                browsers[role].sign_in(username)
            remove_path = f"/onboard/people/{cast.ids['market']}/remove/volunteer/{cast.ids['spare_user']}/"

            def send(role: str, method: str, path: str, body: dict[str, Any] | None) -> matrix_run.Answer:
                data = json.dumps(body).encode() if body is not None else None
                answer = browsers[role].request(method, path, data, "application/json" if data else "")
                if method == "POST" and path == "/logout/" and role != "anonymous":
                    browsers[role].sign_in(cast.users[role])
                if method == "POST" and path == remove_path:
                    stack.postgres.query(
                        "INSERT INTO market_volunteerassignment (user_id, market_id, created_at)"
                        " VALUES (%s, %s, now()) ON CONFLICT DO NOTHING RETURNING id",
                        [int(cast.ids["spare_user"]), int(cast.ids["market"])],
                    )
                    stack.postgres.query(
                        "UPDATE auth_user SET is_active = true WHERE id = %s RETURNING id",
                        [int(cast.ids["spare_user"])],
                    )
                return answer

            started = time.monotonic()
            # Outsiders first, the superuser last: a refusal is checked before any
            # let-in role's write has changed the object (an assignment, a decision).
            played = matrix_run.play(cast, send, roles=tuple(reversed(ROLES)))
            elapsed = time.monotonic() - started
            if not web.alive():
                result.failures.append("gunicorn died during the run:\n\n```\n" + web.tail() + "\n```")
    result.requests_sent = played.requests
    result.errors_5xx = played.errors_5xx
    result.figures = {
        "URLs in the matrix": str(len(matrix_run.ENTRIES)),
        "roles": f"{len(ROLES)} (6 inside the home market's scope, 5 outsiders)",
        "cells (URL × method × role)": str(played.cells),
        "mismatches": str(len(played.mismatches)),
        "requests per second": f"{played.requests / elapsed:.0f}",
    }
    result.check(
        not matrix_run.coverage_problems(), "URLs without an entry: " + "; ".join(matrix_run.coverage_problems())
    )
    result.check(
        not played.mismatches,
        f"{len(played.mismatches)} cells differ:\n" + "\n".join(f"  - {m}" for m in played.mismatches[:60]),
    )
    result.check(not played.errors_5xx, f"{len(played.errors_5xx)} answers were 5xx")
    result.notes.append(
        "Every named URL of `config.urls` (the admin site aside, which has its own gate) has an entry in "
        "`drills/matrix.py`: what it is about and, per method, what each role gets — let in, 403 (the role sees "
        "the object but may not act), 404 (outside its scope, as if it did not exist), or the sign-in (401 or a "
        "redirect to `/login/`). The cast (`drills/matrix_cast.py`) has one login of each role inside the home "
        "market's scope (superuser, officer of its province, its board, its volunteer, its trader, anonymous) and "
        "an outsider of each (board and volunteer of another market, trader of another stall, officer of another "
        "province, a login with no role); every object a URL names is in the home market. Each role signs in "
        "through `/login/` and every cell is sent to gunicorn over HTTP; any page an outsider is let into is also "
        "searched for the home stall's merchant code, bank account and payment reference. "
        "`tests/drills/test_role_matrix.py` plays the same matrix in the test database (each request rolled "
        "back) and fails on a URL without an entry."
    )
    result.notes.append(
        "Found and fixed by its first runs (regression tests in tests/market/test_markets_api.py and "
        "tests/vendors/test_vendors_status.py): `POST /api/v1/markets/` and `PUT/PATCH /api/v1/markets/{id}/` "
        "checked whether a market code was taken before checking who asked, so any login (a trader, a login with "
        "no role) learned which market codes exist anywhere (400 `duplicate_market_code` against 403); the check "
        "now runs in the service after the role check. `POST /api/v1/vendors/{id}/status/` asking for the status a "
        "stall already had answered 200 to anyone who could see it — its trader, a volunteer — as if they could "
        "decide it; it now answers them 403 like any other status change."
    )
    return result.finish()
