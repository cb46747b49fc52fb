"""The gunicorn worker class of the ASGI service (the webhook intake and the stall pages' streams).

Two changes to uvicorn's gunicorn worker, each measured with
``python -m bench.bench_webhooks`` (docs/benchmarks.md): a listening socket
per worker, and one write per response.

A listening socket per worker
-----------------------------

``SpreadUvicornWorker`` is uvicorn's gunicorn worker, except that with
gunicorn's ``--reuse-port`` each worker process listens on a TCP socket of its
own, bound to the same address with ``SO_REUSEPORT``, so that the kernel
spreads new connections evenly over the workers.

Why: with one listening socket shared by every worker (gunicorn's way), the
worker that wakes first accepts every connection waiting in the queue — the
event loop accepts until the queue is empty. Connections that stay open
(HTTP keep-alive from the reverse proxy or from a provider's client, the
stall pages' event streams) then stay with that worker: measured with 64
keep-alive connections at once, one worker got 63 of them, its batches were
of 63 while the other worker wrote batches of 1, and half of the two cores
stood idle (``docs/benchmarks.md``). With a socket per worker the kernel
hashes each connection to one of them (``SO_REUSEPORT``, Linux ≥ 3.9).

How: each worker binds its own socket to the address of the socket it
inherited from the master and listens on it, then takes the inherited one
out of listening (``shutdown``), so that no connection is queued on a socket
that nobody accepts from. The master keeps its socket open (gunicorn needs it
to start workers and to re-exec), bound but no longer listening. Without
``--reuse-port``, and for Unix sockets, a worker serves the inherited socket
as uvicorn's worker does.

The price: a worker that exits resets the connections still waiting in its
own queue, not yet accepted (the shared queue would have given them to
another worker). Nothing was read from them, so nothing was recorded or
answered: the providers retry, as after any dropped connection. On Linux ≥
5.14, ``net.ipv4.tcp_migrate_req = 1`` hands them to another worker instead.

One write per response
----------------------
uvicorn writes a response's head and its body with two ``transport.write``
calls: two system calls per answer, made holding the GIL that the worker's
database writer needs (on loopback the kernel delivers the bytes to the
reader within the call). ``OneWriteHttpToolsProtocol`` gives uvicorn's
HTTP protocol a transport that joins what is written during one turn of the
event loop and writes it at the end of that turn: a small JSON answer is one
system call, and a stream's event is still sent within the turn it was
written in. It also leaves out the ``server: uvicorn`` header (nobody needs
to know) and uvicorn's proxy-headers middleware: the app reads the client's
address from X-Forwarded-For itself, trusting only TRUSTED_PROXIES.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker


def _reuses_port(sock: socket.socket) -> bool:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not hasattr(socket, "SO_REUSEPORT"):
        return False
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))
    except OSError:
        return False


def own_listener(inherited: Any, backlog: int) -> Any:
    """A socket of this process's own listening on ``inherited``'s address, or
    ``inherited`` itself when it does not reuse its port (see the module's
    docstring)."""
    if not _reuses_port(inherited):
        return inherited
    own = socket.socket(inherited.family, socket.SOCK_STREAM)
    try:
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if inherited.family == socket.AF_INET6:
            own.setsockopt(
                socket.IPPROTO_IPV6,
                socket.IPV6_V6ONLY,
                inherited.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY),
            )
        own.bind(inherited.getsockname())
        own.listen(backlog)
        own.setblocking(False)
    except OSError:
        own.close()
        return inherited  # served shared, as without --reuse-port
    # Out of the kernel's choice of listeners from now on (the first worker
    # does it; for the others it is already done and refused).
    with contextlib.suppress(OSError):
        inherited.shutdown(socket.SHUT_RD)
    inherited.close()  # this process's copy; the master keeps its own
    return own


class TurnTransport:
    """A connection's transport whose writes during one turn of the event loop
    go out as one, at the end of the turn (see the module's docstring). Every
    other method is the transport's own; closing sends what is pending first."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self._pending is None:
            self._pending = [data]
            self._loop.call_soon(self._flush)
        else:
            self._pending.append(data)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending or ()))

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a ``TurnTransport``: one write per response."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(TurnTransport(transport, self.loop))  # type: ignore[arg-type]


class SpreadUvicornWorker(UvicornWorker):
    """uvicorn's gunicorn worker, on a listening socket of its own, writing each
    response at once (see the module's docstring)."""

    CONFIG_KWARGS = {
        **UvicornWorker.CONFIG_KWARGS,
        "http": f"{__name__}:OneWriteHttpToolsProtocol",
        "server_header": False,
        # The client's address is the app's to read (common.client_address,
        # TRUSTED_PROXIES), not uvicorn's: no per-request proxy middleware.
        "proxy_headers": False,
    }

    def run(self) -> None:
        inherited: list[Any] = self.sockets  # type: ignore[has-type]
        self.sockets = [own_listener(sock, self.cfg.backlog) for sock in inherited]
        super().run()
