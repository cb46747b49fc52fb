"""The stall page's event stream of receipts (server-sent events).

Two variants of one loop, both deduplicating against the resume cursor
(payments.receipts.cursor) and both re-reading the ledger, which is the
source of what was missed:

- ``receipt_events`` (ASGI, the ``webhooks`` service behind the proxy): an
  async generator fed by ONE Redis subscriber per process (``ReceiptHub``),
  which fans the deployment's receipt messages out to the streams of each
  vendor through asyncio queues — 500 phones cost one Redis connection, not
  500. The subscription is confirmed before the stream's first ledger read,
  so a receipt is either in that read or arrives as a message. The ledger is
  read again after the cursor every STALL_LEDGER_RECHECK_SECONDS, messages or
  not (every second without REDIS_URL, every OUTAGE_RECHECK_SECONDS while the
  subscriber has lost Redis), and when it (re)connects: a publish Redis lost
  is found there, however busy the stall.
- ``receipt_events_sync`` (WSGI: ``make run``'s runserver, the browser
  tests' live_server): a WSGI server would buffer an async iterator forever,
  so the view picks this one there. It reads the ledger every second and,
  with REDIS_URL, waits on its own subscription in between (a WSGI worker is
  held by the stream anyway).

A stream ends after STREAM_MAX_SECONDS (30 min): the browser's EventSource
reconnects on its own with Last-Event-ID, which frees workers held by
phones long gone and lets a deploy roll without cutting anyone off.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection

from common.breaker import REDIS
from payments.receipts.cursor import Cursor
from payments.receipts.publish import channel_name, receipts_in
from payments.receipts.selectors import Resume, ledger_read, receipt_published

logger = logging.getLogger(__name__)

STREAM_MAX_SECONDS: Final = 30 * 60
RETRY_MS: Final = 3000
SYNC_PING_SECONDS: Final = 2.0
_QUEUE_SIZE: Final = 256
OUTAGE_RECHECK_SECONDS: Final = 2.0  # the ledger re-read while Redis is lost (redis_stop drill)
_RECHECK: Final = object()  # put in a queue: "read the ledger now"


def _max_seconds() -> float:
    return float(getattr(settings, "STALL_STREAM_MAX_SECONDS", STREAM_MAX_SECONDS))


def event(cursor: Cursor, data: dict[str, Any]) -> str:
    return f"id: {cursor.encode()}\nevent: receipt\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _parse_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


class StreamState:
    """What one connection has sent: the cursor, the ids sent on it, their
    recording times (to settle the cursor), and today's total."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor
        self.sent: set[int] = set()
        self.recorded: dict[int, dt.datetime] = {}
        self.today: dict[str, int] = {"count": 0, "value": 0}
        self.day: dt.date | None = None

    def from_ledger(self, resume: Resume | None) -> list[str]:
        if resume is None:  # the read failed: nothing learnt, the cursor stands
            return []
        self.today, self.day = dict(resume.today), resume.day
        events = []
        for receipt in resume.receipts:
            if receipt["id"] in self.sent:
                continue
            events.append(self._deliver(receipt))
        self.recorded.update(resume.recorded_at)
        self.cursor = self.cursor.settled(self.recorded, read_at=resume.read_at)
        self.recorded = {i: t for i, t in self.recorded.items() if i in self.cursor.delivered}
        return events

    def from_message(self, data: dict[str, Any]) -> str | None:
        """The event for a published receipt, or None when it was sent already.
        A ``late`` receipt (assigned or approved after it was recorded) may
        sit below the watermark without ever having been sent: only the ids
        sent (S and this connection's) stop it."""
        payment_id = data.get("id")
        if not isinstance(payment_id, int) or payment_id in self.sent or payment_id in self.cursor.delivered:
            return None
        if not data.get("late") and self.cursor.covers(payment_id):
            return None
        day, late = data.get("local_date"), data.get("late", False)
        receipt = receipt_published(data)
        if self.day is not None and day == self.day.isoformat():
            self.today = {"count": self.today["count"] + 1, "value": self.today["value"] + receipt["amount"]}
        recorded = _parse_time(data.get("recorded_at", ""))
        if recorded is not None and not late:
            self.recorded[payment_id] = recorded
        return self._deliver(receipt)

    def _deliver(self, receipt: dict[str, Any]) -> str:
        self.sent.add(receipt["id"])
        self.cursor = self.cursor.with_delivered([receipt["id"]])
        return event(self.cursor, {**receipt, "today": self.today})


def _read_safely(vendor_id: int, cursor: Cursor) -> Resume | None:
    """One ledger read, or None when the database failed (logged): the
    stream stays open, pings, and tries again at its next re-read."""
    try:
        return ledger_read(vendor_id, cursor)
    except Exception:
        logger.warning("ledger read for the receipt stream of vendor %s failed", vendor_id, exc_info=True)
        return None


def _read(vendor_id: int, cursor: Cursor) -> Resume | None:
    """``_read_safely`` on a thread of the pool below, whose connection gets
    a request's care: replaced before and after when past its age or broken."""
    close_old_connections()
    try:
        return _read_safely(vendor_id, cursor)
    finally:
        close_old_connections()


# The ASGI streams' ledger reads run on a small pool of threads of their own,
# each with its own database connection kept between reads (DB_CONN_MAX_AGE):
# READ_THREADS connections per process however many phones are connected
# (a read takes a couple of milliseconds; 500 streams re-reading every 15 s
# are ~35 reads a second).
READ_THREADS: Final = 4
_pool: tuple[int, ThreadPoolExecutor] | None = None  # (pid, pool): never inherited across a fork
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(READ_THREADS, thread_name_prefix="receipts-read"))
        return _pool[1]


def shutdown() -> None:
    """Close the read threads' connections and stop the pool (tests, so that
    no connection outlives the test database)."""
    global _pool
    with _pool_lock:
        found, _pool = _pool, None
    if found is None or found[0] != os.getpid():
        return
    barrier = threading.Barrier(READ_THREADS)

    def close_mine() -> None:
        connection.close()
        barrier.wait(timeout=30)

    for future in [found[1].submit(close_mine) for _ in range(READ_THREADS)]:
        future.result()
    found[1].shutdown(wait=True)


# --- ASGI: one subscriber per process ------------------------------------------------


class ReceiptHub:
    """The process's Redis subscriber, bound to one event loop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.queues: dict[int, set[asyncio.Queue[Any]]] = {}
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def attach(self, vendor_id: int, *, wait: float = 2.0) -> asyncio.Queue[Any]:
        """A queue of ``vendor_id``'s receipt messages, once subscribed (or
        after ``wait`` seconds without Redis: the ledger re-reads then carry the stream)."""
        queue: asyncio.Queue[Any] = asyncio.Queue(_QUEUE_SIZE)
        self.queues.setdefault(vendor_id, set()).add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        if not self.ready.is_set():
            try:
                await asyncio.wait_for(self.ready.wait(), wait)
            except TimeoutError:
                logger.warning("receipt stream of vendor %s starts without Redis", vendor_id)
            except BaseException:  # cancelled: the client left while we waited
                self.detach(vendor_id, queue)
                raise
        return queue

    def detach(self, vendor_id: int, queue: asyncio.Queue[Any]) -> None:
        queues = self.queues.get(vendor_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.queues[vendor_id]

    def _put(self, queue: asyncio.Queue[Any], item: Any) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:  # a stream far behind: it reads the ledger instead
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_RECHECK)

    def _dispatch(self, raw: bytes | str) -> None:
        try:
            receipts = [(int(data["vendor_id"]), data) for data in receipts_in(raw)]
        except (ValueError, KeyError, TypeError):
            logger.warning("unreadable receipt message: %r", raw[:200])
            return
        for vendor_id, data in receipts:
            for queue in self.queues.get(vendor_id) or ():
                self._put(queue, dict(data))

    def _recheck_all(self) -> None:
        """Make every stream of this process read the ledger now."""
        for queue in [q for queues in list(self.queues.values()) for q in list(queues)]:
            self._put(queue, _RECHECK)

    async def _run(self) -> None:
        import redis.asyncio as aioredis

        pause = 0.5
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2, health_check_interval=30)
            pubsub = client.pubsub(ignore_subscribe_messages=False)
            try:
                await pubsub.subscribe(channel_name(self.url))
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        self.ready.set()
                        pause = 0.5
                        # Whatever was published while nobody listened is in the ledger; so is
                        # what publishers skip until their breaker closes (common/breaker.py).
                        self._recheck_all()
                        asyncio.get_running_loop().call_later(REDIS.seconds + 1.0, self._recheck_all)
                    elif message["type"] == "message":
                        self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("receipt subscriber lost Redis (%s); retrying in %.1f s", exc, pause)
                self.ready.clear()
                self._recheck_all()  # wake the streams: the ledger carries them now
            finally:
                self.ready.clear()
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except Exception:  # noqa: S110 - the connection is gone already
                    pass
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReceiptHub] = weakref.WeakKeyDictionary()


def hub() -> ReceiptHub | None:
    """This event loop's hub (None without REDIS_URL)."""
    if not settings.REDIS_URL:
        return None
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None or found.url != settings.REDIS_URL:
        found = _hubs[loop] = ReceiptHub(settings.REDIS_URL)
    return found


async def receipt_events(vendor_id: int, cursor: Cursor, *, max_seconds: float | None = None) -> AsyncIterator[str]:
    """The event stream of ``vendor_id``'s receipts after ``cursor`` (ASGI)."""
    the_hub = hub()
    read = sync_to_async(_read, thread_sensitive=False, executor=_executor())
    recheck = float(settings.STALL_LEDGER_RECHECK_SECONDS) if the_hub else 1.0
    keepalive = float(settings.STALL_KEEPALIVE_SECONDS)
    state = StreamState(cursor)
    loop = asyncio.get_running_loop()
    queue = await the_hub.attach(vendor_id) if the_hub else None  # subscribed before the first read
    try:
        yield f"retry: {RETRY_MS}\n\n"  # (after it: a client that has read this line is subscribed)
        started = now = loop.time()
        end = started + (max_seconds if max_seconds is not None else _max_seconds())
        for text in state.from_ledger(await read(vendor_id, state.cursor)):
            yield text
        next_read, next_ping, last_read = now + recheck, now + keepalive, now
        while (now := loop.time()) < end:
            if the_hub is not None and not the_hub.ready.is_set():  # Redis lost: no message will come
                next_read = min(next_read, last_read + OUTAGE_RECHECK_SECONDS)
            timeout = max(0.0, min(next_read, next_ping, end) - now)
            item: Any = None
            try:
                if queue is not None:
                    item = await asyncio.wait_for(queue.get(), timeout)
                else:
                    await asyncio.sleep(timeout)
            except TimeoutError:
                pass
            now = loop.time()
            if isinstance(item, dict):
                live = state.from_message(item)
                if live is not None:
                    yield live
                    next_ping = now + keepalive
            if item is _RECHECK or now >= next_read:
                for text in state.from_ledger(await read(vendor_id, state.cursor)):
                    yield text
                    next_ping = now + keepalive
                last_read = loop.time()
                next_read = last_read + recheck
            if now >= next_ping:
                yield ": ping\n\n"
                next_ping = now + keepalive
    finally:
        if the_hub is not None and queue is not None:
            the_hub.detach(vendor_id, queue)


# --- WSGI: a worker thread per stream -------------------------------------------------


def _subscription() -> Any:
    if not settings.REDIS_URL:
        return None
    try:
        import redis

        pubsub = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=5).pubsub()
        pubsub.subscribe(channel_name())
        pubsub.get_message(timeout=1)  # the subscribe confirmation: subscribed before the first read
    except Exception as exc:
        logger.warning("receipt stream without Redis: %s", exc)
        return None
    return pubsub


def receipt_events_sync(vendor_id: int, cursor: Cursor, *, max_seconds: float | None = None) -> Iterator[str]:
    """The same stream for a WSGI server: the ledger every second, Redis
    messages (when there is REDIS_URL) as they come in between."""
    pubsub = _subscription()
    yield f"retry: {RETRY_MS}\n\n"
    state = StreamState(cursor)
    # A WSGI server learns that a phone left only when it next writes: a short
    # ping frees the worker (and its database connection) within seconds.
    keepalive = min(float(settings.STALL_KEEPALIVE_SECONDS), SYNC_PING_SECONDS)
    try:
        end = time.monotonic() + (max_seconds if max_seconds is not None else _max_seconds())
        next_ping = time.monotonic() + keepalive
        while True:
            yield from state.from_ledger(_read_safely(vendor_id, state.cursor))
            if time.monotonic() >= end:
                return
            next_read = time.monotonic() + 1.0
            while (now := time.monotonic()) < next_read:
                if pubsub is None:
                    time.sleep(next_read - now)
                    continue
                try:
                    message = pubsub.get_message(timeout=next_read - now)
                except Exception as exc:  # Redis gone: the ledger every second carries the stream
                    logger.warning("receipt stream lost Redis: %s", exc)
                    pubsub = None
                    continue
                if message and message.get("type") == "message":
                    try:
                        receipts = receipts_in(message["data"])
                    except ValueError:
                        continue
                    for data in receipts:
                        if data.get("vendor_id") == vendor_id and (text := state.from_message(data)):
                            yield text
                            next_ping = time.monotonic() + keepalive
            if time.monotonic() >= next_ping:
                yield ": ping\n\n"
                next_ping = time.monotonic() + keepalive
    finally:
        if pubsub is not None:
            with contextlib.suppress(Exception):  # closing a dead connection
                pubsub.close()
