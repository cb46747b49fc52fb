"""``GET /healthz``: is the database answering, and is the broker reachable?"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# The database probe's deadline: a load balancer's health check typically
# times out after 2-5 s, and must hear "down" rather than nothing.
DATABASE_PROBE_SECONDS = 1.5


def _probe_database(result: dict[str, object]) -> None:
    """On its own thread, with its own short-lived connection: SELECT 1."""
    connection = connections.create_connection("default")
    options = {**connection.settings_dict.get("OPTIONS", {})}
    if connection.vendor == "postgresql":
        # Server-side limit too, should the connection open but the server stall.
        options["connect_timeout"] = 2  # psycopg's minimum; the deadline below is shorter anyway
        options["options"] = f"{options.get('options', '')} -c statement_timeout=1000".strip()
    connection.settings_dict = {**connection.settings_dict, "OPTIONS": options, "CONN_HEALTH_CHECKS": False}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        result.update(ok=True, vendor=connection.vendor)
    except Exception as exc:  # any driver error means "down", reported, not raised
        result.update(ok=False, error=exc.__class__.__name__)
    finally:
        connection.close()


def _check_database() -> dict[str, object]:
    """Answer within ``DATABASE_PROBE_SECONDS`` even when the database hangs:
    the probe runs on a daemon thread, and a probe still waiting at the
    deadline is reported as a timeout (it ends by itself at its connect or
    statement timeout)."""
    started = time.monotonic()
    result: dict[str, Any] = {}
    probe = threading.Thread(target=_probe_database, args=(result,), name="healthz-database", daemon=True)
    probe.start()
    probe.join(DATABASE_PROBE_SECONDS)
    if probe.is_alive() or "ok" not in result:
        return {"ok": False, "error": "Timeout"}
    if result["ok"]:
        result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _check_broker() -> dict[str, object]:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "in-process"}
    import redis

    started = time.monotonic()
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except Exception as exc:
        return {"ok": False, "mode": "redis", "error": exc.__class__.__name__}
    return {"ok": True, "mode": "redis", "ms": round((time.monotonic() - started) * 1000, 1)}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = _check_database()
    broker = _check_broker()
    # Payments are written to the database only, so the service is up (200) as
    # long as the database is; a broker outage is reported as "degraded".
    if not database["ok"]:
        status, code = "down", 503
    elif not broker["ok"]:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "database": database, "broker": broker}, status=code)
