"""Abuse: sign-in and confirmation-code brute force, webhook replay and
forgery, 20 MB bodies on every write route, odd text in every text field of
the API and in every page's form, CSRF on every form, session fixation — against gunicorn (WSGI, the
`web` service, and the ASGI intake for the replay) on a drill Stack.

The sweeps enumerate the URL configuration and the OpenAPI schema, so a new
endpoint is swept without touching the drill. Their fast twins run in CI:
tests/common/test_request_limits.py, tests/drills/test_csrf_sweep.py,
tests/drills/test_odd_text_sweep.py, tests/common/test_form_text.py,
tests/accounts/test_session_fixation.py.
"""

from __future__ import annotations

import json
import subprocess
import time

from drills import abuse_sections as s
from drills import abuse_sessions
from drills.abuse_http import Browser
from drills.report import DrillResult
from drills.services import PYTHON, ROOT, Stack, manage

TITLE = "Abuse: brute force, replay and forgery, 20 MB bodies, odd text, CSRF, session fixation"
QUICK = True
SIZE = 20 * 1024 * 1024
# config.asgi serves the webhooks (compose's `webhooks`); the rest of the site is config.wsgi's.
ASGI_SAMPLE = {"/api/v1/webhooks/sepay/", "/api/v1/webhooks/casso/", "/api/v1/vendors/", "/login/", "/api/v1/markets/"}

SETUP = f"""
import json
from django.contrib.auth import get_user_model
from market.models import Market
from vendors.models import Vendor
from tests.factories import make_board, make_vendor_user
U = get_user_model()
market = Market.objects.get(code="BENCH")
vendor = Vendor.objects.order_by("id").first()
U.objects.create_superuser("drill-admin", "", "{s.PASSWORD}")
for user in [make_board(market, "drill-board"), make_vendor_user(vendor, "drill-vendor")]:
    user.set_password("{s.PASSWORD}"); user.save()
for name in ["drill-user-0", "drill-user-1", "drill-user-2", "drill-attacker"]:
    U.objects.create_user(name, password="{s.PASSWORD}")
print(json.dumps({{"market_id": market.pk, "vendor_id": vendor.pk, "merchant": vendor.merchant_code, "ward": market.ward_id}}))
"""


def run() -> DrillResult:
    result = DrillResult(name="abuse", title=TITLE)
    timings: dict[str, float] = {}
    with Stack(vendors=20, name="abuse") as stack:
        env = stack.env()
        made = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
        routes = json.loads(
            subprocess.run(
                [PYTHON, "-m", "drills.abuse_targets"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        write = [r for r in routes if r[2]]
        with stack.server("wsgi", workers=2, TRUSTED_PROXIES="127.0.0.1/32") as web:
            port = web.port
            tokens = {}
            for who, name in (("superuser", "drill-admin"), ("board", "drill-board")):
                answer = Browser(port, "203.0.113.99").post_json(
                    "/api/v1/auth/token/", {"username": name, "password": s.PASSWORD}
                )
                tokens[who] = (answer.json() or {}).get("token", "")
            steps = [
                ("sign-in brute force", lambda: s.brute_force_sign_in(port, result)),
                ("confirmation codes", lambda: s.brute_force_codes(port, result, made["merchant"])),
                (
                    "webhook replay (WSGI)",
                    lambda: s.webhook_replay(port, "WSGI", 9_000_001, stack.codes, stack.postgres.query, result),
                ),
                ("webhook forgery", lambda: s.webhook_forgery(port, stack.codes, stack.postgres.query, result)),
                ("20 MB bodies", lambda: s.huge_bodies(web, write, tokens["superuser"], result, SIZE)),
                ("odd text", lambda: s.odd_text(port, tokens, {**made, "code": "19"}, stack.postgres.query, result)),
                ("CSRF", lambda: abuse_sessions.csrf(port, routes, result)),
                ("odd text in forms", lambda: abuse_sessions.form_odd_text(port, write, result)),
                ("session fixation", lambda: abuse_sessions.session_fixation(port, stack.postgres.query, result)),
            ]
            for label, step in steps:
                started = time.monotonic()
                step()
                timings[label] = time.monotonic() - started
            result.check(web.alive(), "the WSGI server died during the drill")
        with stack.server("asgi", workers=2) as intake:
            started = time.monotonic()
            s.webhook_replay(intake.port, "ASGI intake", 9_000_002, stack.codes, stack.postgres.query, result)
            timings["webhook replay (ASGI)"] = time.monotonic() - started
            started = time.monotonic()
            sample = [r for r in write if r[0] in ASGI_SAMPLE]
            s.huge_bodies(intake, sample, tokens["superuser"], result, SIZE, lane="ASGI")
            timings["20 MB bodies (ASGI)"] = time.monotonic() - started
    result.figures["time per section"] = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    result.notes += [
        "The drill starts its own PostgreSQL and Redis, seeds one market of 20 active stalls and a few users, and "
        "runs gunicorn as compose's `web` service (sync workers, production settings, `TRUSTED_PROXIES` set so "
        "that each simulated client has its own address through `X-Forwarded-For`, HTTPS vouched for by "
        "`X-Forwarded-Proto`).",
        "Brute force counts how many wrong passwords or codes are actually checked before the lock: the limits "
        "are 5 per account and 20 per address in 15 minutes (sign-in, shared by the API, the web form and the "
        "admin) and 5 wrong codes per stall in 15 minutes (code entry). Replay sends one signed SePay delivery "
        "50 times at once (a barrier releases the threads together) to each lane; forgery changes one thing each.",
        "The sweeps enumerate the URL configuration (every write route × method, admin included, path parameters "
        "as placeholders) and the OpenAPI schema (every text field of every JSON write operation, one odd value "
        "at a time, as the superuser and a board member), so a new endpoint is swept without changing the drill. "
        "A 20 MB body is sent in 64 KiB pieces, watching for an answer between pieces: 'most body sent before "
        "the answer' shows that the server refuses on the header alone.",
        "The odd-text sample bodies carry real values where the schema only says 'string' (a bank, a ward, a "
        "phone…), and the same bodies with plain text are sent afterwards to show how far the sweep reaches: "
        "DRF validates every field of a body before a view's own checks, so an odd value is judged even where the "
        "plain body is refused later for its state; where the plain body is a 404 (a placeholder id in the path) "
        "the odd value never reached a serializer.",
    ]
    return result.finish()
