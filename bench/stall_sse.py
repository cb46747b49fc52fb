"""The stall pages' side of the live-receipts benchmark: many event streams
(``GET /stall/events/``) held open by one asyncio process, each signed in as
its vendor by a session cookie, stamping every receipt with the monotonic
clock the moment its bytes arrive.

The pure parts are tested (tests/stall/test_bench_harness.py): the
chunked-transfer decoder, the event-stream parser (fields, multi-line data,
comments, CRLF/CR/LF line ends, an event split across reads) and the
percentile. ``time.monotonic()`` is CLOCK_MONOTONIC, one clock for every
process of the machine, so these stamps compare with the webhook driver's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q``-th percentile (0 < q ≤ 100) of ``values``: the
    smallest value with at least q % of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class ChunkedDecoder:
    """Undoes ``Transfer-Encoding: chunked`` incrementally (extensions and
    trailers ignored); ``done`` once the last (zero-size) chunk is read."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._left = 0  # bytes of the current chunk still to come
        self._crlf = False  # the CRLF after a chunk's data is still to come
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray()
        while not self.done:
            if self._left:
                take = bytes(self._buffer[: self._left])
                del self._buffer[: len(take)]
                out += take
                self._left -= len(take)
                if self._left:
                    break
                self._crlf = True
            if self._crlf:
                if len(self._buffer) < 2:
                    break
                del self._buffer[:2]
                self._crlf = False
            end = self._buffer.find(b"\r\n")
            if end < 0:
                break
            size = int(bytes(self._buffer[:end]).split(b";", 1)[0].strip() or b"0", 16)
            del self._buffer[: end + 2]
            if size == 0:
                self.done = True
                break
            self._left = size
        return bytes(out)


@dataclass
class Event:
    event: str = "message"
    data: str = ""
    id: str | None = None


@dataclass
class SSEParser:
    """The event-stream format of the HTML standard, fed bytes as they arrive.

    ``feed`` returns the events completed by those bytes; comment lines
    (``: ping``) are counted in ``comments``; ``last_id`` is what a browser
    would send as ``Last-Event-ID`` on reconnecting.
    """

    comments: int = 0
    last_id: str | None = None
    retry_ms: int | None = None  # the server's ``retry:``, the reconnection delay
    _pending: bytearray = field(default_factory=bytearray)
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _id: str | None = None
    _seen_cr: bool = False

    def feed(self, data: bytes) -> list[Event]:
        events: list[Event] = []
        if self._seen_cr and data.startswith(b"\n"):
            data = data[1:]  # the LF of a CRLF split between two reads
        self._seen_cr = False
        self._pending += data
        while True:
            cr = self._pending.find(b"\r")
            lf = self._pending.find(b"\n")
            ends = [i for i in (cr, lf) if i >= 0]
            if not ends:
                break
            end = min(ends)
            line = bytes(self._pending[:end]).decode("utf-8", errors="replace")
            skip = 1
            if self._pending[end : end + 1] == b"\r":
                if end + 1 < len(self._pending):
                    skip = 2 if self._pending[end + 1 : end + 2] == b"\n" else 1
                else:
                    self._seen_cr = True
            del self._pending[: end + skip]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> Event | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
            self.last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> Event | None:
        event = None
        if self._data:
            event = Event(event=self._event or "message", data="\n".join(self._data), id=self.last_id)
        self._event = ""
        self._data = []
        return event


@dataclass
class Stream:
    """One stall page: its vendor, its cookie, what it received."""

    vendor_id: int
    cookie: str
    cursor: str | None = None  # the page's data-cursor, sent as ?cursor= on the first connection
    received: list[tuple[int, float, str | None]] = field(default_factory=list)  # (payment id, t, event id)
    opened: int = 0  # successful (re)connections
    errors: list[str] = field(default_factory=list)
    keepalives: int = 0
    failed: bool = False  # refused once: failed for good, as EventSource does
    connected: bool = False  # a stream is being read now
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # open, or refused once


def request_bytes(port: int, cookie: str, last_id: str | None, cursor: str | None = None) -> bytes:
    path = "/stall/events/"
    if last_id is None and cursor:
        path += f"?cursor={quote(cursor)}"
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: text/event-stream",
        "Cache-Control: no-cache",
        # As the TLS-terminating proxy says: production settings redirect plain HTTP.
        "X-Forwarded-Proto: https",
        f"Cookie: {cookie}",
    ]
    if last_id is not None:
        lines.append(f"Last-Event-ID: {last_id}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _follow(port: int, stream: Stream, stop: asyncio.Event) -> None:
    """Hold ``stream`` open until ``stop``, as a browser's EventSource would:
    after the stream ends or breaks, reconnect with Last-Event-ID after the
    server's ``retry:`` delay; an answer other than 200 text/event-stream
    fails the stream for good (no reconnection, as the standard says)."""
    last_id: str | None = None
    retry = 3.0  # browsers' usual default until the server says otherwise
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 15)
        except (OSError, TimeoutError) as exc:
            stream.errors.append(f"connect: {exc!r}")
            await asyncio.sleep(retry)
            continue
        try:
            writer.write(request_bytes(port, stream.cookie, last_id, stream.cursor))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split(" ", 2)[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
            if status != 200 or not headers.get("content-type", "").startswith("text/event-stream"):
                stream.errors.append(f"answer {status} {headers.get('content-type', '')}")
                stream.failed = True
                stream.settled.set()
                return
            stream.opened += 1
            stream.ready.set()
            stream.settled.set()
            chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            decoder = ChunkedDecoder() if chunked else None
            parser = SSEParser(last_id=last_id)
            keepalives = stream.keepalives
            stream.connected = True
            while not stop.is_set():
                data = await reader.read(65536)
                now = time.monotonic()
                if not data:
                    break
                body = decoder.feed(data) if decoder else data
                for event in parser.feed(body):
                    if event.event == "receipt":
                        stream.received.append((int(json.loads(event.data)["id"]), now, event.id))
                last_id = parser.last_id
                stream.keepalives = keepalives + parser.comments
                if parser.retry_ms is not None:
                    retry = parser.retry_ms / 1000
                if decoder and decoder.done:
                    break
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            stream.errors.append(f"stream: {exc!r}")
        finally:
            stream.connected = False
            writer.close()
        if not stop.is_set():
            await asyncio.sleep(retry)


async def _listen(port: int, specs: list[tuple[int, str, str | None]], pipe: Any, open_timeout: float) -> None:
    stop = asyncio.Event()
    streams = [Stream(vendor_id=v, cookie=c, cursor=k) for v, c, k in specs]
    tasks = []
    for stream in streams:
        tasks.append(asyncio.create_task(_follow(port, stream, stop)))
        await asyncio.sleep(0)  # let it start: opening 250 at once is a burst the server must take anyway
    with contextlib.suppress(TimeoutError):  # then say how many did open
        await asyncio.wait_for(asyncio.gather(*(s.settled.wait() for s in streams)), open_timeout)
    if not all(s.ready.is_set() for s in streams):
        # Some were refused once: give them a moment (a server still starting), no more.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 5)
    refused = [e for s in streams for e in s.errors[:1]]
    pipe.send({"open": sum(1 for s in streams if s.ready.is_set()), "errors": refused[:3]})
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, pipe.recv)  # the driver is done (and the drain waited)
    open_at_end = [s.connected for s in streams]
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(
        {
            "streams": [
                {
                    "vendor_id": s.vendor_id,
                    "received": s.received,
                    "opened": s.opened,
                    "errors": s.errors[:5],
                    "error_count": len(s.errors),
                    "keepalives": s.keepalives,
                    "failed": s.failed,
                    "open_at_end": still,
                }
                for s, still in zip(streams, open_at_end, strict=True)
            ]
        }
    )


def listener(port: int, specs: list[tuple[int, str, str | None]], pipe: Any, open_timeout: float = 60) -> None:
    """A process's entry point: open ``specs`` ((vendor id, cookie, cursor)),
    say how many are open, wait for the word to stop, send back what arrived."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is in requirements.txt
        pass
    asyncio.run(_listen(port, specs, pipe, open_timeout))
