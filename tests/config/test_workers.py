"""config/workers.py, the ASGI service's gunicorn worker: with ``--reuse-port``
each worker listens on a socket of its own, so that connections are spread
over the workers instead of going to whichever woke first; and a response
is written at once (one write per turn of the event loop), streams included.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import socket
import sys
import time
from collections.abc import Iterator

from config.workers import TurnTransport, own_listener
from tests.conftest import free_port
from tests.server_support import serving

_CLASS = "config.workers.SpreadUvicornWorker"


@contextlib.contextmanager
def _gunicorn(workers: int, *extra: str, worker_class: str = _CLASS) -> Iterator[int]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "tests.config.pid_app:app", "-k", worker_class]
    command += ["-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "--keep-alive", "30", *extra]
    with serving(command, port=port, env={**os.environ}, stop_timeout=15):
        yield port


def _ask(sock: socket.socket, path: str = "/pid") -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _pid(sock: socket.socket) -> int:
    return int(_ask(sock).partition(b"\r\n\r\n")[2])


def _every_worker_listening(port: int, workers: int) -> None:
    """Fresh connections until every worker has answered one (they start one by one)."""
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    while len(seen) < workers:
        assert time.monotonic() < deadline, f"only {len(seen)} of {workers} workers answered"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            seen.add(_pid(sock))


def _burst(port: int, connections: int) -> collections.Counter[int]:
    """``connections`` keep-alive connections opened at once, then each asks its worker's pid:
    how many connections each worker holds."""
    socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(connections)]
    try:
        return collections.Counter(_pid(sock) for sock in socks)
    finally:
        for sock in socks:
            sock.close()


def test_connections_opened_at_once_are_spread_over_the_workers() -> None:
    with _gunicorn(2, "--reuse-port") as port:
        _every_worker_listening(port, 2)
        held = _burst(port, 80)

    assert len(held) == 2, held
    # The kernel hashes each connection to one worker's socket: both get a fair share (under
    # 24 of 80 has a chance of about 1 in 3,000). With gunicorn's one shared socket the
    # worker that woke first took most of the burst: 8, 16 and 14 of 80 went to the other
    # in three tries (uvicorn_worker.UvicornWorker), against 32, 31 and 36 here.
    assert min(held.values()) >= 24, held


def test_every_worker_answers_on_its_own_socket_and_none_is_left_to_the_master() -> None:
    with _gunicorn(2, "--reuse-port") as port:
        _every_worker_listening(port, 2)
        answered = [_pid(socket.create_connection(("127.0.0.1", port), timeout=5)) for _ in range(60)]

    # 60 fresh connections, each answered (none queued on a socket nobody accepts from).
    assert len(answered) == 60 and len(set(answered)) == 2


def test_without_reuse_port_the_workers_share_the_inherited_socket() -> None:
    with _gunicorn(2) as port:
        _every_worker_listening(port, 2)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            assert _pid(sock) > 0
    plain = socket.socket()
    try:
        plain.bind(("127.0.0.1", 0))
        plain.listen()
        assert own_listener(plain, 16) is plain  # no SO_REUSEPORT: served as it is
    finally:
        plain.close()


def test_answers_keep_alive_and_streams_arrive_whole_and_in_time() -> None:
    with _gunicorn(1, "--reuse-port") as port, socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        answers = [_ask(sock) for _ in range(5)]  # five requests on one keep-alive connection
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        started = time.monotonic()
        received = b""
        first_chunk_at = None
        while not received.endswith(b"0\r\n\r\n"):
            received += sock.recv(65536)
            if first_chunk_at is None and b"chunk 0" in received:
                first_chunk_at = time.monotonic() - started

    for answer in answers:
        head = answer.partition(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 200")
        assert b"server:" not in head  # the server does not name itself
    body = received.partition(b"\r\n\r\n")[2]
    assert [part for part in (b"chunk 0", b"chunk 1", b"chunk 2", b"end") if part in body] == [
        b"chunk 0",
        b"chunk 1",
        b"chunk 2",
        b"end",
    ]
    assert first_chunk_at is not None and first_chunk_at < 0.15  # sent within its turn, not held


class _Recording:
    """A transport that records what it is asked to write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


def test_the_writes_of_one_turn_of_the_loop_go_out_as_one() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes], list[bytes], int]:
        real = _Recording()
        turn = TurnTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        turn.write(b"HTTP/1.1 200 OK\r\n\r\n")
        turn.write(b"body")
        pending = turn.get_write_buffer_size()
        before = list(real.writes)
        await asyncio.sleep(0)  # the end of the turn
        after_turn = list(real.writes)
        turn.write(b"last")
        turn.close()  # sends what is pending first
        return before, after_turn, real.writes, pending

    before, after_turn, final, pending = asyncio.run(scenario())

    assert before == []  # nothing written during the turn
    assert after_turn == [b"HTTP/1.1 200 OK\r\n\r\nbody"]  # one write at its end
    assert final == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"last"]
    assert pending == len(b"HTTP/1.1 200 OK\r\n\r\nbody")


def test_an_aborted_connection_drops_what_was_pending() -> None:
    async def scenario() -> _Recording:
        real = _Recording()
        turn = TurnTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        turn.write(b"never sent")
        turn.abort()
        await asyncio.sleep(0)
        assert turn.get_extra_info("peername") == "extra peername"  # everything else is the transport's
        return real

    real = asyncio.run(scenario())

    assert real.aborted and real.writes == []
