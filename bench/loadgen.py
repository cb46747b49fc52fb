"""A small HTTP/1.1 load generator for the webhook benchmark.

Each process keeps a few connections busy with one request in flight each,
using pre-built request bytes and a selector loop, so that the generator
costs as little CPU as possible on a machine it shares with the server and
the database. Loopback only; it stops after ``count`` requests or ``deadline``.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Conn:
    sock: socket.socket | None = None
    buffer: bytearray = field(default_factory=bytearray)
    busy: bool = False
    started: float = 0.0


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    failed: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)


def _parse(buffer: bytearray) -> tuple[int, int, bool] | None:
    """(status, bytes consumed, server closes) once a whole response is in ``buffer``."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).decode("latin-1")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    closes = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            closes = True
    total = end + 4 + length
    if len(buffer) < total:
        return None
    return status, total, closes


def run_load(
    *,
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    count: int,
    connections: int,
    deadline: float,
) -> LoadResult:
    """Send ``count`` requests (``make_request(i)`` for i in range(count))."""
    result = LoadResult()
    selector = selectors.DefaultSelector()
    conns = [_Conn() for _ in range(connections)]
    next_index = 0
    in_flight = 0

    def connect(conn: _Conn) -> None:
        sock = socket.create_connection((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sock = sock
        conn.buffer.clear()
        selector.register(sock, selectors.EVENT_READ, conn)

    def drop(conn: _Conn) -> None:
        if conn.sock is not None:
            selector.unregister(conn.sock)
            conn.sock.close()
            conn.sock = None

    def send_next(conn: _Conn) -> None:
        nonlocal next_index, in_flight
        if next_index >= count or time.monotonic() > deadline:
            return
        if conn.sock is None:
            connect(conn)
        assert conn.sock is not None
        conn.sock.sendall(make_request(next_index))
        next_index += 1
        in_flight += 1
        result.sent += 1
        conn.busy = True
        conn.started = time.monotonic()

    for conn in conns:
        send_next(conn)
    while in_flight and time.monotonic() < deadline + 30:
        for key, _ in selector.select(timeout=1.0):
            conn = key.data
            assert conn.sock is not None
            try:
                chunk = conn.sock.recv(65536)
            except ConnectionError:
                chunk = b""
            if not chunk:
                if conn.busy:
                    result.failed += 1
                    in_flight -= 1
                    conn.busy = False
                drop(conn)
                send_next(conn)
                continue
            conn.buffer += chunk
            parsed = _parse(conn.buffer)
            if parsed is None:
                continue
            status, used, closes = parsed
            del conn.buffer[:used]
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.ok += 1
            else:
                result.failed += 1
            result.latencies_ms.append((time.monotonic() - conn.started) * 1000)
            conn.busy = False
            in_flight -= 1
            if closes:
                drop(conn)
            send_next(conn)
    for conn in conns:
        drop(conn)
    selector.close()
    return result
