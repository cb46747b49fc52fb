"""The stream under a WSGI server (runserver under ``make run``, the browser
tests' live server): the sync variant, chunk by chunk, nothing buffered."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from payments.receipts.selectors import cursor_now
from tests.factories import PaymentFactory
from tests.stall.test_live_stream_asgi import EventStream


@pytest.mark.django_db(transaction=True)
def test_a_payment_reaches_the_stream_of_a_wsgi_server_within_about_a_second(
    cast, live_server: Any, settings: Any
) -> None:
    # A WSGI server learns that the client left only when it next writes: a
    # ping every second ends the server's side soon after the test closes it
    # (the sync stream pings every 2 s at most anyway).
    settings.STALL_KEEPALIVE_SECONDS = 1
    client = Client()
    client.force_login(cast.vendor_user)
    name = django_settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}"
    port = int(live_server.url.rsplit(":", 1)[1])

    stream = EventStream(port, cookie, cursor=cursor_now(cast.vendor))
    try:
        recorded = time.monotonic()
        payment = PaymentFactory(vendor=cast.vendor, amount=33_000)  # committed: a transactional test
        _, data, arrived = stream.first_receipt(within=5)
    finally:
        stream.close()
        time.sleep(2.5)  # the server's next ping fails, its request ends and closes its connection

    assert data["id"] == payment.pk and data["today"] == {"count": 1, "value": 33_000}
    assert arrived - recorded < 3.0  # the ledger every second (or Redis, when REDIS_URL is set)
