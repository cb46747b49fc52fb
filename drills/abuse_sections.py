"""The abuse drill's sections, each against a live server on a drill Stack
(drills/drill_abuse.py runs them and writes the result)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from drills.abuse_http import Browser, send_big
from drills.abuse_targets import operations, set_field, with_hints
from drills.providers import PATH as SEPAY_PATH
from drills.providers import recorded
from drills.report import DrillResult
from drills.services import SEPAY_SECRET
from payments.bank_credits.providers.sepay import hmac_signature

PASSWORD = "drill-pass-7f3k"  # the scratch users' password (not a secret)
LOCKED_PAGE = "Quá nhiều lần đăng nhập sai"
NO_SESSION = ("/api/v1/webhooks/", "/api/v1/ussd/", "/api/v1/auth/token/")
ODD = {"NUL": "a\x00b", "lone surrogate": "a\ud800b", "RTL override": "Nguy\u202eễn", "10,000 characters": "x" * 10_000}


def count(result: DrillResult, n: int = 1) -> None:
    result.requests_sent += n


def five_xx(result: DrillResult, status: int, method: str, path: str, cause: str) -> None:
    if status >= 500:
        result.errors_5xx.append(f"{status} {method} {path}: {cause}")


# --- sign-in brute force -------------------------------------------------------------------------


def api_sign_in(port: int, address: str, username: str, password: str) -> int:
    return Browser(port, address).post_json("/api/v1/auth/token/", {"username": username, "password": password}).status


def web_sign_in(port: int, address: str, username: str, password: str) -> tuple[int, bool]:
    """(status, locked message shown) of the /login/ form; 302 means signed in."""
    browser = Browser(port, address)
    answer = browser.post_form("/login/", {"username": username, "password": password})
    return answer.status, LOCKED_PAGE in answer.body.decode(errors="replace")


def brute_force_sign_in(port: int, result: DrillResult) -> None:
    # Per account, API: 60 wrong passwords, each from an address of its own.
    api = [api_sign_in(port, f"203.0.113.{i + 1}", "drill-user-0", f"wrong-{i}") for i in range(60)]
    right = api_sign_in(port, "203.0.113.200", "drill-user-0", PASSWORD)
    count(result, 61)
    checked = api.index(429) if 429 in api else len(api)
    result.figures["API sign-in, 1 account × 60 addresses: wrong passwords checked before the lock"] = str(checked)
    result.figures["API sign-in: the right password while locked"] = str(right)
    result.check(checked <= 6 and set(api[checked:]) == {429}, f"per-account API lock: answers {Counter(api)}")
    result.check(right == 429, f"the right password while the account is locked answered {right}")

    # Per address, API: one address, 60 usernames (most unknown), then a real account from it and from elsewhere.
    spray = [api_sign_in(port, "198.51.100.7", f"spray-{i}", "wrong") for i in range(60)]
    from_there = api_sign_in(port, "198.51.100.7", "drill-user-1", PASSWORD)
    from_elsewhere = api_sign_in(port, "198.51.100.8", "drill-user-1", PASSWORD)
    count(result, 62)
    checked = spray.index(429) if 429 in spray else len(spray)
    result.figures["API sign-in, 1 address × 60 accounts: wrong passwords checked before the lock"] = str(checked)
    result.check(checked <= 21 and set(spray[checked:]) == {429}, f"per-address API lock: answers {Counter(spray)}")
    result.check(
        (from_there, from_elsewhere) == (429, 200), f"after the spray: {from_there} there, {from_elsewhere} elsewhere"
    )

    # The web form: per account (30 addresses), then per address (30 accounts).
    web = [web_sign_in(port, f"192.0.2.{i + 1}", "drill-user-2", f"wrong-{i}") for i in range(30)]
    web_right = web_sign_in(port, "192.0.2.200", "drill-user-2", PASSWORD)
    count(result, 62)  # each with its GET for the CSRF token
    first_locked = next((i for i, (_, locked) in enumerate(web) if locked), len(web))
    result.figures["web /login/, 1 account × 30 addresses: wrong passwords checked before the lock"] = str(first_locked)
    result.check(first_locked <= 6 and all(s == 200 for s, _ in web), f"per-account web lock: {web[:8]}")
    result.check(web_right == (200, True), f"the right password on the web while locked: {web_right}")
    spray_web = [web_sign_in(port, "192.0.2.250", f"spray-web-{i}", "wrong") for i in range(30)]
    there = web_sign_in(port, "192.0.2.250", "drill-board", PASSWORD)
    elsewhere = web_sign_in(port, "192.0.2.251", "drill-board", PASSWORD)
    count(result, 64)
    first_locked = next((i for i, (_, locked) in enumerate(spray_web) if locked), len(spray_web))
    result.figures["web /login/, 1 address × 30 accounts: wrong passwords checked before the lock"] = str(first_locked)
    result.check(first_locked <= 21, f"per-address web lock came after {first_locked}")
    result.check(there[0] == 200 and elsewhere[0] == 302, f"after the web spray: {there} there, {elsewhere} elsewhere")


# --- confirmation codes --------------------------------------------------------------------------


def brute_force_codes(port: int, result: DrillResult, merchant: str) -> None:
    token = Browser(port, "203.0.113.250").post_json(
        "/api/v1/auth/token/", {"username": "drill-vendor", "password": PASSWORD}
    )
    vendor_token = (token.json() or {}).get("token", "")
    answers: list[int] = []
    for n in range(200):  # two addresses, 100 guesses each, codes 000000…000199
        browser = Browser(port, "203.0.113.251" if n < 100 else "203.0.113.252", token=vendor_token)
        answer = browser.post_json("/api/v1/payments/confirm/", {"merchant_code": merchant, "code": f"{n:06d}"})
        answers.append(answer.status)
        five_xx(result, answer.status, "POST", "/api/v1/payments/confirm/", answer.error_code())
    count(result, 201)
    checked = sum(1 for s in answers if s != 429)
    result.figures["confirmation codes: guesses checked of 200 (two addresses)"] = str(checked)
    result.check(bool(vendor_token), "the vendor could not sign in for the code drill")
    result.check(checked <= 5 and answers[5:] == [429] * 195, f"code guesses: {Counter(answers)}")


# --- webhooks ------------------------------------------------------------------------------------


def sepay_delivery(codes: list[list[str]], txn: int, amount: int = 20_000) -> bytes:
    code, account = codes[txn % len(codes)]
    return json.dumps(
        {
            "id": txn,
            "gateway": "Vietcombank",
            "transactionDate": "2025-03-01 08:15:00",
            "accountNumber": account,
            "content": f"CHO40 {code} rau",
            "transferType": "in",
            "transferAmount": amount,
            "referenceCode": f"FT25{txn:012d}",
            "description": "",
        }
    ).encode()


def post_sepay(port: int, body: bytes, headers: dict[str, str]) -> int:
    browser = Browser(port, "198.51.100.50")
    return browser.request("POST", SEPAY_PATH, body, "application/json", **headers).status


def signed(body: bytes, secret: str = SEPAY_SECRET, at: float | None = None) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    return {"X-SePay-Timestamp": timestamp, "X-SePay-Signature": hmac_signature(secret, timestamp, body)}


def webhook_replay(port: int, lane: str, txn: int, codes: list[list[str]], query: Any, result: DrillResult) -> None:
    body = sepay_delivery(codes, txn)
    headers = signed(body)
    barrier = threading.Barrier(50)

    def one(_: int) -> int:
        barrier.wait()
        return post_sepay(port, body, headers)

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(one, range(50)))
    count(result, 50)
    for status in answers:
        five_xx(result, status, "POST", SEPAY_PATH, f"replay on the {lane} lane")
    distinct, duplicates = recorded(query, range(txn, txn + 1))
    result.payments_expected = (result.payments_expected or 0) + 1
    result.payments_recorded = (result.payments_recorded or 0) + distinct
    result.duplicates = (result.duplicates or 0) + duplicates
    result.figures[f"replay, {lane}: 50 concurrent copies → answers"] = ", ".join(
        f"{n}× {s}" for s, n in sorted(Counter(answers).items())
    )
    result.check(distinct == 1 and duplicates == 0, f"replay on {lane}: {distinct} recorded, {duplicates} duplicates")


def webhook_forgery(port: int, codes: list[list[str]], query: Any, result: DrillResult) -> None:
    first = 9_100_000
    forged: dict[str, tuple[bytes, dict[str, str]]] = {}
    body = sepay_delivery(codes, first + 1)
    forged["bad signature"] = (body, {**signed(body), "X-SePay-Signature": "sha256=" + "0" * 64})
    body = sepay_delivery(codes, first + 2)
    forged["no signature"] = (body, {})
    body = sepay_delivery(codes, first + 3)
    forged["wrong secret"] = (body, signed(body, secret="guessed-secret"))
    body = sepay_delivery(codes, first + 4)
    forged["stale timestamp (2 h old)"] = (body, signed(body, at=time.time() - 7200))
    body = sepay_delivery(codes, first + 5)
    forged["tampered amount"] = (sepay_delivery(codes, first + 5, amount=90_000_000), signed(body))
    body = sepay_delivery(codes, first + 6)
    forged["timestamp without signature"] = (body, {"X-SePay-Timestamp": str(int(time.time()))})
    answers = {label: post_sepay(port, b, h) for label, (b, h) in forged.items()}
    count(result, len(answers))
    distinct, _ = recorded(query, range(first + 1, first + 7))
    result.figures["forged deliveries → answers"] = "; ".join(f"{k}: {v}" for k, v in answers.items())
    result.figures["forged deliveries recorded as payments"] = str(distinct)
    result.check(all(400 <= s < 500 for s in answers.values()), f"forgeries answered {answers}")
    result.check(distinct == 0, f"{distinct} forged deliveries were recorded as payments")


# --- 20 MB bodies --------------------------------------------------------------------------------


def huge_bodies(
    server: Any, routes: list[list[Any]], admin_token: str, result: DrillResult, size: int, lane: str = "WSGI"
) -> None:
    from drills.abuse_targets import Route

    peak = [server.rss_kib()]
    before = peak[0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], server.rss_kib())
            time.sleep(0.05)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    answers: Counter[str] = Counter()
    most_sent, slowest, wrong = 0, 0.0, []
    for pattern, _name, methods in routes:
        route = Route(pattern, "", tuple(methods))
        for method in route.methods:
            for token in ("", admin_token) if pattern.startswith("/api/") else ("",):
                sent = send_big(server.port, method, route.path(), size, token=token)
                count(result)
                answers[f"{sent.status} {sent.detail}"] += 1
                most_sent, slowest = max(most_sent, sent.sent_bytes), max(slowest, sent.seconds)
                five_xx(result, sent.status, method, pattern, sent.detail)
                # The webhook lanes answer first with their own, smaller cap (payload_too_large).
                if sent.status != 413 or sent.detail not in ("request_too_large", "payload_too_large"):
                    wrong.append(f"{method} {pattern}{' (signed in)' if token else ''}: {sent.status} {sent.detail}")
    stop.set()
    watcher.join()
    after = server.rss_kib()
    total = sum(answers.values())
    result.figures[f"20 MB bodies, {lane}: requests"] = str(total)
    result.figures[f"20 MB bodies, {lane}: answers"] = ", ".join(f"{n}× {k}" for k, n in answers.most_common())
    result.figures[f"20 MB bodies, {lane}: most body sent before the answer"] = (
        f"{most_sent / 1024:.0f} KiB of {size // 2**20} MiB"
    )
    result.figures[f"20 MB bodies, {lane}: slowest answer"] = f"{slowest * 1000:.0f} ms"
    result.figures[f"20 MB bodies, {lane}: gunicorn RSS (master + 2 workers) before → peak → after"] = (
        f"{before / 1024:.0f} → {peak[0] / 1024:.0f} → {after / 1024:.0f} MiB"
    )
    result.check(not wrong, f"{lane}: {len(wrong)} huge bodies not refused 413 request_too_large, e.g. {wrong[:5]}")
    result.check(
        peak[0] - before < 64 * 1024, f"{lane}: memory grew {(peak[0] - before) / 1024:.0f} MiB under huge bodies"
    )


# --- odd text ------------------------------------------------------------------------------------


def odd_text(port: int, tokens: dict[str, str], ids: dict[str, Any], query: Any, result: DrillResult) -> None:
    schema = Browser(port, "203.0.113.90", token=tokens["superuser"]).get("/api/v1/schema/?format=json").json()
    hints = {
        "bank": "970436",
        "bank_bin": "970436",
        "ward": ids["ward"],
        "market": ids["market_id"],
        "vendor": ids["vendor_id"],
        "phone": "0912345678",
        "account_number": "0011001234567",
        "account_name": "NGUYEN VAN A",
        "full_name": "Nguyễn Văn A",
        "merchant_code": ids["merchant"],
        "amount": 20_000,
    }
    ops = [
        op
        for op in operations(schema)
        if op.text_fields and not op.path.startswith(("/api/v1/webhooks/", "/api/v1/ussd/"))
    ]
    for op in ops:
        op.body = with_hints(op.body, hints)
    answers: Counter[int] = Counter()
    accepted = []
    for op in ops:
        values = dict(ids)
        if "/markets/{id}/" in op.path:
            values["id"] = ids["market_id"]
        elif "/vendors/{id}/" in op.path:
            values["id"] = ids["vendor_id"]
        url = op.url(values)
        for dotted in op.text_fields:
            for label, value in ODD.items():
                for who, token in tokens.items():
                    body = json.dumps(set_field(op.body, dotted, value)).encode()
                    answer = Browser(port, "203.0.113.91", token=token).request(
                        op.method, url, body, "application/json"
                    )
                    count(result)
                    answers[answer.status] += 1
                    five_xx(result, answer.status, op.method, op.path, f"{dotted}={label}: {answer.error_code()}")
                    if answer.status < 400:
                        accepted.append(f"{who} {op.method} {op.path} {dotted}={label}: {answer.status}")
    fields = sum(len(op.text_fields) for op in ops)
    stored = stored_odd_text(query)
    # How deep the sweep reached: the same bodies with plain text, sent after it (they may write).
    plain: Counter[str] = Counter()
    for op in ops:
        values = dict(ids, id=ids["market_id"] if "/markets/{id}/" in op.path else ids["vendor_id"])
        answer = Browser(port, "203.0.113.92", token=tokens["superuser"]).request(
            op.method, op.url(values), json.dumps(op.body).encode(), "application/json"
        )
        count(result)
        plain["accepted" if answer.status < 400 else f"refused {answer.status} {answer.error_code()}"] += 1
    result.figures["odd text: the same bodies with plain text instead, as the superuser"] = ", ".join(
        f"{n}× {k}" for k, n in plain.most_common()
    )
    result.figures["odd text: write operations × text fields"] = f"{len(ops)} × {fields} fields"
    result.figures["odd text: answers"] = ", ".join(f"{n}× {s}" for s, n in sorted(answers.items()))
    result.figures["odd text: text columns holding any of it afterwards"] = ", ".join(stored) or "none"
    result.check(not accepted, f"odd text accepted: {accepted[:5]}")
    result.check(not stored, f"odd text stored in {stored}")


def stored_odd_text(query: Any) -> list[str]:
    columns = query(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND data_type IN ('text', 'character varying') AND left(table_name, 7) <> 'django_'"
    )
    found = []
    for table, column in columns:
        rows = query(
            f'SELECT count(*) FROM "{table}" WHERE strpos("{column}", %s) > 0 OR strpos("{column}", %s) > 0',
            ["\u202e", "x" * 10_000],
        )
        if rows[0][0]:
            found.append(f"{table}.{column}")
    return found
