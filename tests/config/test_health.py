"""``GET /healthz``: the database and the broker, as a load balancer sees them."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_it_reports_the_database_up(api):
    r = api.get("/healthz")

    assert r.status_code == 200
    body = r.json()
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] in {"sqlite", "postgresql"}
    assert "no-cache" in r["Cache-Control"] or "max-age=0" in r["Cache-Control"]


@override_settings(REDIS_URL="")
def test_it_reports_tasks_running_in_process_without_a_broker(api):
    body = api.get("/healthz").json()

    assert body["status"] == "ok"
    assert body["broker"] == {"ok": True, "mode": "in-process"}


def test_it_reports_a_dead_broker_as_degraded_but_up(api):
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0"):
        r = api.get("/healthz")

    # Payments are written to the database only, so the service still answers 200.
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False
    assert body["broker"]["mode"] == "redis"
    assert body["broker"]["error"]
    assert body["database"]["ok"] is True


def test_it_needs_no_login(api):
    assert api.get("/healthz").status_code == 200


def test_it_answers_only_get(api):
    assert api.post("/healthz").status_code == 405
