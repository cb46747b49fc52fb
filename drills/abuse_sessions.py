"""The abuse drill's CSRF and session-fixation sections (drills/drill_abuse.py)."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from drills.abuse_http import Browser
from drills.abuse_sections import NO_SESSION, PASSWORD, count, five_xx
from drills.report import DrillResult

# --- CSRF and session fixation -------------------------------------------------------------------


def signed_in_browser(port: int, address: str, username: str) -> Browser:
    browser = Browser(port, address)
    answer = browser.post_form("/login/", {"username": username, "password": PASSWORD})
    if answer.status != 302:
        raise RuntimeError(f"{username} could not sign in on /login/: {answer.status}")
    return browser


def csrf(port: int, routes: list[list[Any]], result: DrillResult) -> None:
    from drills.abuse_targets import Route

    wrong: list[str] = []
    sent = 0
    for who, browser in (
        ("signed in", signed_in_browser(port, "203.0.113.120", "drill-admin")),
        ("anonymous", Browser(port, "203.0.113.121")),
    ):
        browser.csrf_token()  # holds the CSRF cookie; the posts below carry no token
        for pattern, _name, _methods in routes:
            if pattern.startswith(NO_SESSION) or (who == "anonymous" and pattern.startswith("/api/")):
                continue
            path = Route(pattern, "", ()).path()
            answer = browser.request("POST", path, b"username=x&password=y", "application/x-www-form-urlencoded")
            sent += 1
            five_xx(result, answer.status, "POST", pattern, f"CSRF sweep, {who}")
            if answer.status not in ({403} if who == "signed in" else {401, 403}):
                wrong.append(f"{who} POST {pattern}: {answer.status} {answer.body[:120]!r}")
    count(result, sent)
    result.figures["CSRF: POSTs without the token (every route but the signed machine endpoints)"] = str(sent)
    result.figures["CSRF: not refused"] = str(len(wrong))
    result.check(not wrong, f"POSTs without a CSRF token not refused: {wrong[:5]}")


def session_key(browser: Browser) -> str:
    return browser.cookies.get("sessionid", "")


def markets_seen(port: int, key: str) -> int:
    answer = Browser(port, "203.0.113.131", cookies={"sessionid": key}).get("/api/v1/markets/")
    return int((answer.json() or {}).get("count", 0)) if answer.status == 200 else -answer.status


def plant_session(query: Any) -> str:
    """A live, signed-out session the attacker knows the key of (as one gets from any
    page that opens a session before sign-in), written into the drill's database."""
    key = "drillplanted" + secrets.token_hex(10)
    query(
        "INSERT INTO accounts_usersession (session_key, session_data, expire_date, user_id)"
        " VALUES (%s, %s, now() + interval '1 day', NULL) RETURNING session_key",
        [key, "e30:planted"],
    )
    return key


def session_fixation(port: int, query: Any, result: DrillResult) -> None:
    # The attacker plants a session key in the victim's browser; the victim signs in on the page.
    web = []
    for path in ("/login/", "/admin/login/"):
        planted = plant_session(query)
        browser = Browser(port, "203.0.113.130", cookies={"sessionid": planted})
        name = "drill-board" if path == "/login/" else "drill-admin"
        answer = browser.post_form(path, {"username": name, "password": PASSWORD, "next": "/"})
        victim = session_key(browser)
        web.append((path, answer.status, planted != victim, markets_seen(port, planted), markets_seen(port, victim)))
    # The API token sign-in on a browser holding the attacker's own session: no session is made or changed.
    browser = signed_in_browser(port, "203.0.113.132", "drill-attacker")
    planted = session_key(browser)
    token = browser.post_json("/api/v1/auth/token/", {"username": "drill-board", "password": PASSWORD})
    api = (token.status, session_key(browser) == planted, markets_seen(port, planted))
    count(result, 12)
    for path, _status, changed, old, new in web:
        result.figures[f"session fixation, {path}: new key at sign-in; markets seen with planted / new key"] = (
            f"{'yes' if changed else 'NO'}; {old} / {new}"
        )
    result.figures["session fixation, API token sign-in: planted session still the attacker's (markets seen)"] = str(
        api[2]
    )
    for entry in web:
        result.check(entry[1] == 302 and entry[2] and entry[3] < 0 and entry[4] >= 1, f"session fixation: {entry}")
    result.check(api[0] == 200 and api[1] and api[2] == 0, f"API sign-in and a planted session: {api}")


def form_odd_text(port: int, routes: list[list[Any]], result: DrillResult) -> None:
    """Every page that takes a form, posted with a valid CSRF token and a bidi override
    (or NUL) in its fields, signed in as the superuser: 400 before any view, never 5xx."""
    from drills.abuse_targets import Route

    browser = signed_in_browser(port, "203.0.113.140", "drill-admin")
    token = browser.csrf_token()
    answers: Counter[int] = Counter()
    wrong = []
    for pattern, _name, methods in routes:
        if pattern.startswith("/api/") or "POST" not in methods:
            continue
        for odd in ("Nguy\u202eễn", "a\x00b"):
            fields = {"csrfmiddlewaretoken": token, "full_name": odd, "name": odd, "reason": odd, "note": odd}
            answer = browser.request(
                "POST", Route(pattern, "", ()).path(), urlencode(fields).encode(), "application/x-www-form-urlencoded"
            )
            count(result)
            answers[answer.status] += 1
            five_xx(result, answer.status, "POST", pattern, "odd text in a form")
            if answer.status < 400:
                wrong.append(f"POST {pattern}: {answer.status}")
    result.figures["odd text in web forms (every page taking POST, token valid): answers"] = ", ".join(
        f"{n}× {s}" for s, n in sorted(answers.items())
    )
    result.check(not wrong, f"web forms accepted odd text: {wrong[:5]}")
