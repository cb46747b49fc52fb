"""The role × endpoint matrix (drills/matrix.py) played in the test database:
every URL of config.urls has an entry, and every role gets what its entry
says — outsiders 404, roles that may not act 403, the anonymous the sign-in,
and roles inside the scope let in."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from drills import matrix, matrix_run
from drills.matrix_cast import ROLES, build_cast


def test_every_url_has_an_entry_in_the_matrix() -> None:
    assert matrix_run.coverage_problems() == []


def test_a_url_without_an_entry_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = dict(matrix.ENTRIES)
    del entries["payment-refund"]
    monkeypatch.setattr(matrix_run, "ENTRIES", entries)
    problems = matrix_run.coverage_problems()
    assert len(problems) == 1
    assert "/api/v1/payments/<int:pk>/refund/ (payment-refund) has no entry" in problems[0]


def test_every_role_gets_what_the_matrix_says(db: None, settings: Any) -> None:
    settings.USSD_SHARED_SECRET = "matrix-ussd-secret"
    cast = build_cast()
    clients: dict[str, Client] = {}
    sessions: dict[str, str] = {}
    for role in ROLES:
        clients[role] = Client()
        if role != "anonymous":
            clients[role].force_login(cast.users[role])
            sessions[role] = clients[role].cookies[settings.SESSION_COOKIE_NAME].value

    def send(role: str, method: str, path: str, body: dict[str, Any] | None) -> matrix_run.Answer:
        client = clients[role]
        if method != "GET":
            cache.clear()  # sign-in, invitation-code and webhook refusal counts: each write on its own
        data = json.dumps(body) if body is not None else ""
        # Each request in a savepoint rolled back: nothing one role does changes what the next one sees.
        with transaction.atomic():
            response = client.generic(method, path, data, content_type="application/json")
            transaction.set_rollback(True)
        if role in sessions:  # sign-out deletes the cookie; the session row was rolled back
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[role]
        streaming = getattr(response, "streaming", False)
        content = b"" if streaming else response.content[:200_000]
        code = matrix_run.error_code(content) if "json" in response.get("Content-Type", "") else ""
        text = content.decode(errors="replace")
        return matrix_run.Answer(response.status_code, response.get("Location", ""), code, text)

    played = matrix_run.play(cast, send)
    assert played.mismatches == [], "\n".join(
        [f"{len(played.mismatches)} of {played.cells} cells differ from drills/matrix.py:", *played.mismatches]
    )
    assert played.cells > 1000
    # The secrets the outsiders were searched for are shown to those inside the scope.
    seen = send("board", "GET", "/api/v1/payments/", None).text + send("board", "GET", "/api/v1/vendors/", None).text
    assert all(secret in seen for secret in cast.secrets())
