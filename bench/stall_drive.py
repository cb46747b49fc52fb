"""The bank's side of the live-receipts benchmark: signed SePay credits to
random seeded vendors, sent open-loop at a fixed rate (request k is due at
start + k / rate, whether or not earlier ones are answered), each stamped
with the monotonic clock when its answer arrives.

The deliveries are the intake benchmark's (``bench.webhooks_load.delivery``:
static-QR content ``CHO40 <merchant code>``, so each credit is attributed to
its vendor) and are signed before the clock starts, so the driver spends its
CPU on sending, not on JSON and HMAC. Runs in its own process (``drive``)."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any, cast

from bench.loadgen import _parse
from bench.webhooks_load import PATH, delivery, signed


def build_requests(
    port: int, codes: list[list[str]], *, first_id: int, count: int, seed: int
) -> tuple[list[bytes], list[int]]:
    """``count`` signed requests with txn ids from ``first_id`` and the index
    of the vendor each one pays."""
    rng = random.Random(seed)
    head = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
    requests: list[bytes] = []
    vendors: list[int] = []
    for k in range(count):
        index = rng.randrange(len(codes))
        body = delivery([codes[index]], rng, first_id + k)
        timestamp, signature = signed(body)
        headers = f"X-SePay-Timestamp: {timestamp}\r\nX-SePay-Signature: {signature}\r\n"
        requests.append(f"{head}{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        vendors.append(index)
    return requests, vendors


@dataclass
class _Conn(asyncio.Protocol):
    free: asyncio.Queue[_Conn]
    answers: dict[int, tuple[float, float, int]]  # request index -> (sent, answered, status)
    transport: asyncio.Transport | None = None
    buffer: bytearray = field(default_factory=bytearray)
    current: int = -1
    sent_at: float = 0.0
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def send(self, index: int, request: bytes) -> None:
        assert self.transport is not None
        self.current = index
        self.sent_at = time.monotonic()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.buffer += data
        parsed = _parse(self.buffer)
        if parsed is None:
            return
        status, used, closes = parsed
        del self.buffer[:used]
        self.answers[self.current] = (self.sent_at, now, status)
        self.current = -1
        if closes and self.transport is not None:
            self.transport.close()
        else:
            self.free.put_nowait(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.current >= 0:
            self.answers[self.current] = (self.sent_at, time.monotonic(), 0)  # 0: no answer
            self.current = -1
        self.closed.set()


async def _drive(
    port: int, requests: list[bytes], *, rate: float, warmup: int, connections: int, drain: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    free: asyncio.Queue[_Conn] = asyncio.Queue()
    answers: dict[int, tuple[float, float, int]] = {}
    conns: list[_Conn] = []

    async def connect() -> _Conn:
        _, conn = await loop.create_connection(lambda: _Conn(free=free, answers=answers), "127.0.0.1", port)
        conns.append(conn)
        return conn

    for _ in range(connections):
        free.put_nowait(await connect())
    start = measured_start = time.monotonic()
    behind = 0.0  # how late the most late request was sent
    for k, request in enumerate(requests):
        due = start + k / rate
        delay = due - time.monotonic()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        conn = await free.get()
        while conn.closed.is_set():
            conn = await connect()
        behind = max(behind, time.monotonic() - due)
        conn.send(k, request)
        if k == warmup - 1:
            measured_start = time.monotonic()
    sent_end = time.monotonic()
    deadline = sent_end + drain
    while len(answers) < len(requests) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    measured = len(requests) - (warmup if measured_start > start else 0)
    return {
        "answers": [answers.get(k) for k in range(len(requests))],
        "rate": measured / (sent_end - measured_start) if sent_end > measured_start else 0.0,
        "behind_s": behind,
        "connections": connections,
    }


def drive(
    port: int,
    requests: list[bytes],
    pipe: Any,
    *,
    rate: float,
    warmup: int,
    connections: int = 128,
    drain: float = 15,
) -> None:
    """A process's entry point: wait for the word to go, drive, send back the answers."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is in requirements.txt
        pass
    pipe.recv()
    pipe.send(asyncio.run(_drive(port, requests, rate=rate, warmup=warmup, connections=connections, drain=drain)))
