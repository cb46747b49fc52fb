"""End to end, as deployed: a real uvicorn serving ``config.asgi`` on the
test database (PostgreSQL) and the real Redis. A signed webhook answered by
the intake reaches the stall's open event stream within a second; a stream
cut mid-way and resumed with Last-Event-ID gets exactly the receipt it
missed, once."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from payments.models import Payment
from payments.receipts import stream as stream_module
from payments.receipts.selectors import cursor_now
from tests.conftest import free_port, needs_postgres
from tests.payments.bank_credits.webhooks_support import SEPAY_API_KEY, SEPAY_URL, encode, sepay_body
from tests.server_support import serving

ROOT = Path(__file__).resolve().parents[2]


def needs_redis() -> None:
    """As ``needs_postgres``: skipped locally without REDIS_URL, a failure in
    CI (REQUIRE_REDIS=1)."""
    if os.environ.get("REDIS_URL"):
        return
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail("this test needs Redis and REQUIRE_REDIS=1 is set")
    pytest.skip("needs Redis (set REDIS_URL)")


@contextlib.contextmanager
def uvicorn_server() -> Iterator[int]:
    """uvicorn serving config.asgi (the compose ``webhooks`` service's app)
    on the test database and this run's Redis; its port."""
    db = connection.settings_dict
    port = free_port()
    environ = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # the session cookie made here must read there
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "SEPAY_API_KEY": SEPAY_API_KEY,
        "STALL_LEDGER_RECHECK_SECONDS": "2",  # so a receipt within 1 s came through Redis
        "STALL_KEEPALIVE_SECONDS": "1",
    }
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "2"]
    with serving(command, port=port, env=environ):
        yield port


class EventStream:
    """An open ``/stall/events/`` read line by line."""

    def __init__(self, port: int, cookie: str, *, cursor: str = "", last_event_id: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Cookie": cookie, "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", f"/stall/events/?cursor={cursor}", headers=headers)
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.read()
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")
        assert self.next_block(5).startswith("retry:")  # sent once subscribed

    def next_block(self, timeout: float) -> str:
        """The next event or comment block ("" when none came within ``timeout``)."""
        # A response that ends with its connection (no chunking: a WSGI server)
        # takes the socket over from the connection.
        sock = self.conn.sock or self.response.fp.raw._sock  # type: ignore[union-attr]
        sock.settimeout(timeout)
        lines = []
        try:
            while True:
                line = self.response.readline().decode()  # through the chunked encoding
                if line in ("\n", ""):
                    if lines or line == "":
                        return "".join(lines)
                    continue
                lines.append(line)
        except TimeoutError:
            return "".join(lines)

    def receipts(self, *, within: float) -> list[tuple[str, dict[str, Any]]]:
        """The receipt events (id, data) that arrive within ``within`` seconds."""
        found = []
        end = time.monotonic() + within
        while (left := end - time.monotonic()) > 0:
            block = self.next_block(left)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
            if fields.get("event") == "receipt":
                found.append((fields["id"], json.loads(fields["data"])))
        return found

    def first_receipt(self, *, within: float) -> tuple[str, dict[str, Any], float]:
        end = time.monotonic() + within
        while (left := end - time.monotonic()) > 0:
            block = self.next_block(left)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
            if fields.get("event") == "receipt":
                return fields["id"], json.loads(fields["data"]), time.monotonic()
        raise AssertionError(f"no receipt within {within} s")

    def close(self) -> None:
        self.conn.close()


def server_connections() -> int:
    """Connections to the test database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def post_webhook(port: int, vendor: Any, amount: int) -> float:
    """A signed SePay delivery for ``vendor`` through the intake; the moment it was answered."""
    now = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%d %H:%M:%S")
    body = encode(sepay_body(content=f"CHO40 {vendor.merchant_code}", amount=amount, when=now))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{SEPAY_URL}",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Apikey {SEPAY_API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        answered = time.monotonic()
    return answered


@pytest.mark.django_db(transaction=True)
def test_a_webhook_reaches_the_open_stream_within_a_second_and_a_resume_misses_nothing(cast) -> None:
    needs_postgres()
    needs_redis()
    client = Client()
    client.force_login(cast.vendor_user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    with uvicorn_server() as port:
        stream = EventStream(port, cookie, cursor=cursor_now(cast.vendor))
        answered = post_webhook(port, cast.vendor, 64_000)
        event_id, data, arrived = stream.first_receipt(within=5)
        print(f"receipt arrived {1000 * (arrived - answered):.1f} ms after the webhook was answered")
        assert arrived - answered < 1.0, f"receipt took {arrived - answered:.3f} s"
        first = Payment.objects.get(amount=64_000)
        assert (data["id"], data["amount_text"], data["today"]) == (first.pk, "64.000 ₫", {"count": 1, "value": 64_000})
        assert data["channel_label"] == "QR tĩnh"  # Vietnamese, as the page
        stream.close()  # the phone drops off

        post_webhook(port, cast.vendor, 12_000)  # while nobody listens
        post_webhook(port, cast.other_vendor, 99_000)  # another stall's
        missed = Payment.objects.get(amount=12_000)

        resumed = EventStream(port, cookie, cursor="0", last_event_id=event_id)
        got = resumed.receipts(within=3)  # the initial read and a re-read of the ledger
        resumed.close()

        # Ten more phones hold no database connection each: the streams share the read pool.
        before = server_connections()
        phones = [EventStream(port, cookie, cursor="0") for _ in range(10)]
        time.sleep(0.5)
        during = server_connections()
        for phone in phones:
            phone.close()
        assert during - before <= stream_module.READ_THREADS, (before, during)

    assert [d["id"] for _, d in got] == [missed.pk]
    assert got[0][1]["today"] == {"count": 2, "value": 76_000}
