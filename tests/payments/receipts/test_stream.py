"""The event stream's loop (payments/receipts/stream.py): deduplication
against the cursor, the ledger as the source of what Redis did not carry,
and one Redis subscriber per process fanning out to every stream."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from payments.receipts import publish, stream
from payments.receipts.cursor import Cursor
from payments.receipts.selectors import ledger_read
from tests.factories import PaymentFactory

RECEIPT = {
    "id": 50,
    "amount": 64_000,
    "amount_text": "64.000 ₫",
    "recorded_at": "2026-12-06T02:00:00+00:00",
    "time": "09:00",
    "channel": "static_qr",
    "channel_label": "QR",
    "payer": "",
    "sale": None,
    "vendor_id": 1,
    "local_date": "2026-12-06",
    "late": False,
}


@pytest.fixture(autouse=True)
def _read_pool() -> Iterator[None]:
    yield
    stream.shutdown()
    # The thread asgiref runs sync code in from these tests' own event loops keeps its connection too.
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all)())


def test_a_message_already_covered_by_the_cursor_is_not_sent_again() -> None:
    state = stream.StreamState(Cursor(40, frozenset({50})))

    assert state.from_message({**RECEIPT, "id": 50}) is None
    assert state.from_message({**RECEIPT, "id": 39}) is None
    sent = state.from_message({**RECEIPT, "id": 51})
    assert sent is not None and sent.startswith("id: 40-50.51\nevent: receipt\n")
    assert state.from_message({**RECEIPT, "id": 51}) is None  # the same message twice


def test_a_late_receipt_below_the_watermark_is_sent_once() -> None:
    """Assigned by the board (or approved by the rail) long after it was recorded."""
    state = stream.StreamState(Cursor(40))

    sent = state.from_message({**RECEIPT, "id": 12, "late": True})
    assert sent is not None
    data = json.loads(sent.split("data: ", 1)[1])
    assert data["id"] == 12 and "vendor_id" not in data and "late" not in data and "local_date" not in data
    assert state.from_message({**RECEIPT, "id": 12, "late": True}) is None


def run_stream(vendor_id: int, cursor: Cursor, seconds: float, during: Any = None) -> list[dict[str, Any]]:
    """Run the ASGI stream for ``seconds`` (calling ``during`` after 0.3 s);
    the receipts it sent."""

    async def main() -> list[str]:
        chunks: list[str] = []

        async def consume() -> None:
            async for chunk in stream.receipt_events(vendor_id, cursor, max_seconds=seconds):
                chunks.append(chunk)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        if during is not None:
            await sync_to_async(during)()
        await task
        return chunks

    chunks = asyncio.run(main())
    return [json.loads(c.split("data: ", 1)[1]) for c in chunks if "event: receipt" in c]


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_stream_reads_the_ledger_every_second(cast, settings: Any) -> None:
    settings.REDIS_URL = ""
    before = PaymentFactory(vendor=cast.vendor, amount=1_000)
    made: list[int] = []

    def pay() -> None:
        made.append(PaymentFactory(vendor=cast.vendor, amount=2_000).pk)
        PaymentFactory(vendor=cast.other_vendor)

    sent = run_stream(cast.vendor.pk, Cursor(), 3.5, during=pay)

    assert [r["id"] for r in sent] == [before.pk, *made]
    assert sent[-1]["today"] == {"count": 2, "value": 3_000}


def needs_redis() -> str:
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    if os.environ.get("REQUIRE_REDIS") == "1":
        pytest.fail("this test needs Redis and REQUIRE_REDIS=1 is set")
    pytest.skip("needs Redis (set REDIS_URL)")


@pytest.mark.django_db(transaction=True)
def test_a_payment_whose_publish_was_lost_is_found_in_the_ledger(cast, settings: Any) -> None:
    settings.REDIS_URL = needs_redis()
    settings.STALL_LEDGER_RECHECK_SECONDS = 1
    made: list[int] = []

    def pay_without_publishing() -> None:
        made.append(PaymentFactory(vendor=cast.vendor).pk)  # the factory publishes nothing: "lost"

    sent = run_stream(cast.vendor.pk, Cursor(), 3.5, during=pay_without_publishing)

    assert [r["id"] for r in sent] == made


@pytest.mark.django_db(transaction=True)
def test_one_subscriber_fans_a_message_out_to_each_stream_of_its_vendor(cast, settings: Any) -> None:
    settings.REDIS_URL = needs_redis()
    settings.STALL_LEDGER_RECHECK_SECONDS = 60  # only Redis can bring it within the test
    PaymentFactory(vendor=cast.vendor, amount=10_000)
    cursor = Cursor.parse(ledger_read(cast.vendor, Cursor()).cursor.encode())
    # Recorded yesterday (Vietnam): no ledger read of today finds it, only its message brings it.
    payment = PaymentFactory(vendor=cast.vendor, amount=64_000, occurred_at=timezone.now() - dt.timedelta(days=1))

    async def main() -> tuple[list[str], list[str], list[str], int]:
        outs: list[list[str]] = [[], [], []]

        async def consume(vendor_id: int, out: list[str]) -> None:
            async for chunk in stream.receipt_events(vendor_id, cursor, max_seconds=2.5):
                out.append(chunk)

        tasks = [
            asyncio.create_task(consume(cast.vendor.pk, outs[0])),
            asyncio.create_task(consume(cast.vendor.pk, outs[1])),
            asyncio.create_task(consume(cast.other_vendor.pk, outs[2])),
        ]
        await asyncio.sleep(0.5)
        import redis

        subscribers = redis.Redis.from_url(settings.REDIS_URL).pubsub_numsub(publish.channel_name())[0][1]
        await sync_to_async(publish._send)([publish.message(payment)])
        await asyncio.gather(*tasks)
        return outs[0], outs[1], outs[2], subscribers

    first, second, other, subscribers = asyncio.run(main())

    assert subscribers == 1  # three streams, one Redis connection
    for out in (first, second):
        receipts = [json.loads(c.split("data: ", 1)[1]) for c in out if "event: receipt" in c]
        assert [r["id"] for r in receipts] == [payment.pk]
    assert not [c for c in other if "event: receipt" in c]


def test_garbage_on_the_channel_is_ignored(settings: Any) -> None:
    hub = stream.ReceiptHub("redis://unused/0")

    async def main() -> int:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        hub.queues[1] = {queue}
        for raw in (b"not json", b"{}", b'{"vendor_id": "x"}', json.dumps(RECEIPT).encode()):
            hub._dispatch(raw)
        return queue.qsize()

    assert asyncio.run(main()) == 1


@pytest.mark.django_db
def test_the_wsgi_variant_sends_the_ledger_and_ends_on_time(cast, settings: Any) -> None:
    settings.REDIS_URL = ""
    payment = PaymentFactory(vendor=cast.vendor)
    started = timezone.now()

    chunks = list(stream.receipt_events_sync(cast.vendor.pk, Cursor(), max_seconds=1.2))

    assert chunks[0].startswith("retry: ")
    assert sum(f'"id": {payment.pk},' in c for c in chunks) == 1
    assert timezone.now() - started < dt.timedelta(seconds=4)


@pytest.mark.django_db
def test_a_failed_ledger_read_keeps_the_stream_open_and_the_next_one_delivers(
    cast, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REDIS_URL = ""
    payment = PaymentFactory(vendor=cast.vendor)
    calls: list[int] = []
    real = stream.ledger_read

    def flaky(vendor_id: int, cursor: Cursor) -> Any:
        calls.append(vendor_id)
        if len(calls) == 1:
            raise ConnectionError("database restarting")  # as a dropped connection would
        return real(vendor_id, cursor)

    monkeypatch.setattr(stream, "ledger_read", flaky)

    chunks = list(stream.receipt_events_sync(cast.vendor.pk, Cursor(), max_seconds=1.2))

    assert len(calls) >= 2
    assert sum(f'"id": {payment.pk},' in c for c in chunks) == 1


def _redis_server(port: int) -> Any:
    import shutil
    import subprocess

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is missing")
        pytest.skip("redis-server is not installed")
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.django_db(transaction=True)
def test_after_a_redis_outage_the_resubscribed_hub_makes_every_stream_read_the_ledger(cast, settings: Any) -> None:
    """Fault drill on a Redis of the test's own (the shared one is never
    stopped): a payment recorded while Redis is down, whose publish failed,
    reaches the open stream as soon as the subscriber is back, long before
    the periodic re-read."""
    import redis

    from tests.conftest import free_port

    port = free_port()
    server = _redis_server(port)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.STALL_LEDGER_RECHECK_SECONDS = 60
    made: list[int] = []
    try:
        for _ in range(50):
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)

        def outage() -> None:
            nonlocal server
            server.terminate()
            server.wait(timeout=10)
            payment = PaymentFactory(vendor=cast.vendor)
            made.append(payment.pk)
            publish._publish([publish.message(payment)])  # fails: logged and swallowed
            server = _redis_server(port)

        sent = run_stream(cast.vendor.pk, Cursor(), 9, during=outage)
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert [r["id"] for r in sent] == made


@pytest.mark.django_db(transaction=True)
def test_while_redis_is_down_the_stream_reads_the_ledger_every_few_seconds(cast, settings: Any) -> None:
    """Redis stopped and not back: a payment recorded meanwhile reaches the
    open stream within seconds (OUTAGE_RECHECK_SECONDS), not at the next
    periodic re-read (60 s here; 15 s in production)."""
    import redis

    from tests.conftest import free_port

    port = free_port()
    server = _redis_server(port)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.STALL_LEDGER_RECHECK_SECONDS = 60
    made: list[tuple[int, float]] = []
    try:
        for _ in range(50):
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)

        def outage() -> None:
            server.terminate()
            server.wait(timeout=10)
            time.sleep(0.5)
            made.append((PaymentFactory(vendor=cast.vendor).pk, time.monotonic()))

        started = time.monotonic()
        sent = run_stream(cast.vendor.pk, Cursor(), 4.5, during=outage)
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert [r["id"] for r in sent] == [made[0][0]]
    assert made[0][1] - started < 2.0  # the payment was made early; the stream's 4.5 s bound the wait


@pytest.mark.django_db(transaction=True)
def test_after_redis_returns_the_receipts_publishers_still_skipped_are_read_soon(
    cast, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishers skip Redis for a breaker pause after their last failure
    (common/breaker.py), so a payment made just after Redis returned may go
    unpublished: the hub reads the ledger again once those pauses are over."""
    import redis

    from common.breaker import REDIS
    from tests.conftest import free_port

    monkeypatch.setattr(REDIS, "seconds", 1.0)
    port = free_port()
    server = _redis_server(port)
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.STALL_LEDGER_RECHECK_SECONDS = 60
    made: list[int] = []
    try:
        for _ in range(50):
            try:
                redis.Redis(port=port).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)

        def outage_then_a_skipped_publish() -> None:
            nonlocal server
            server.terminate()
            server.wait(timeout=10)
            time.sleep(0.5)
            server = _redis_server(port)
            time.sleep(1.2)  # the hub is back (0.5–1 s) and has read the ledger
            made.append(PaymentFactory(vendor=cast.vendor).pk)  # not published: a breaker still open

        sent = run_stream(cast.vendor.pk, Cursor(), 6.0, during=outage_then_a_skipped_publish)
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert [r["id"] for r in sent] == made
