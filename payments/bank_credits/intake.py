"""The webhook intake: an ASGI lane that records bank-credit webhooks in batches.

``config.asgi`` mounts it in front of Django's ASGI application; the
``webhooks`` service of docker-compose.yml serves it with gunicorn and
uvicorn workers, and the reverse proxy sends ``/api/v1/webhooks/`` there.
Everything that is not a webhook POST goes to Django unchanged.

Why a second lane: a bank-credit webhook is a small request whose cost is
almost all fixed overhead — a Python request cycle, three database round
trips, and a commit that waits for the disk. On the 2-core servers a
province runs, that caps a synchronous worker pool at about 300 deliveries a
second (docs/benchmarks.md). Here the HTTP work is done on an event loop
(uvicorn's C parser) and the deliveries that arrive while one batch is being
written are written together by ``payments.bank_credits.ingest.
webhook_ingest_batch``: a fixed handful of statements and one synchronous
commit per batch, whatever its size. Batches form by themselves
(``payments.bank_credits.batcher``): at a quiet moment a delivery is written
alone and at once; at a rush hour, each batch is what arrived during the
previous one, and the senders just answered are waited for, a few
milliseconds at most (``WEBHOOK_INTAKE_GATHER_MS``).

Guarantees, each as on the synchronous lane (``payments.bank_credits.wsgi``):

- a provider is answered only after its delivery's outcome is committed
  (success means the payment is on disk); refusals get the same status and
  error body; unexpected errors a JSON 500, logged on ``django.request``;
- exactly once: the batch keeps the unique (source, provider_txn_id) guard
  and sends everything unusual (retries, twins, sales to settle, flags)
  through the single-delivery path;
- ALLOWED_HOSTS and DATA_UPLOAD_MAX_MEMORY_SIZE hold; the security headers
  the middleware adds are added;
- no Redis, no Celery: a broker outage cannot block or lose a payment.

Database work runs on ``WEBHOOK_INTAKE_WRITERS`` threads per worker process
(``payments.bank_credits.batcher``),
each with its own Django connection (opened, health-checked and recycled as
for a request: ``close_old_connections`` before and after every batch).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, ItemsView, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.utils.translation import gettext as _

from common.api import error_body
from common.client_address import client_address_from
from common.database import (
    database_unavailable,
    log_unavailable,
    unavailable_body,
    unavailable_headers,
)
from common.request_limits import too_large_body, too_large_error
from payments.bank_credits import webhook_limits
from payments.bank_credits.batcher import Batcher
from payments.bank_credits.batching import Delivery, Outcome
from payments.bank_credits.ingest import webhook_refuse_oversized
from payments.bank_credits.wsgi import ROUTES, answer_for, answer_headers, security_headers

logger = logging.getLogger("django.request")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # (scope, receive, send); Django's handler types them its own way


# Per-process memos of what every answer repeats (the security headers, the
# verdict on each Host header), forgotten when a setting changes (tests do
# that; a server never does).
_hosts: dict[str, bool] = {}


@functools.cache
def _security_headers() -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.lower().encode(), value.encode()) for name, value in security_headers())


@receiver(setting_changed)
def _settings_changed(**kwargs: Any) -> None:
    _security_headers.cache_clear()
    _hosts.clear()


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


# The providers' success replies (module constants), encoded once.
_REPLIES = {id(provider.SUCCESS_REPLY): _json(provider.SUCCESS_REPLY) for provider in ROUTES.values()}


def _encoded(data: dict[str, Any]) -> bytes:
    """The JSON body of an answer."""
    return _REPLIES.get(id(data)) or _json(data)


def _meta(scope: Scope) -> dict[str, str]:
    """The request's headers as Django's ASGIRequest puts them in META."""
    meta: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin1")
        if name == "content-length":
            key = "CONTENT_LENGTH"
        elif name == "content-type":
            key = "CONTENT_TYPE"
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin1")
        meta[key] = f"{meta[key]},{value}" if key in meta else value
    return meta


_header_names: dict[bytes, str] = {}  # b"x-sepay-signature" → "X-Sepay-Signature"


class RequestHeaders(Mapping[str, str]):
    """A request's headers as Django's ``request.headers`` gives them on ASGI —
    named as HttpHeaders names them ("X-Sepay-Signature"), looked up
    case-insensitively with underscores as hyphens, a repeated header joined
    with "," — made straight from the ASGI scope rather
    than through a META dict that HttpHeaders parses back (the intake makes
    one per delivery)."""

    __slots__ = ("_folded", "_named")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        named: dict[str, str] = {}
        for raw_name, raw_value in raw:
            name = _header_names.get(raw_name)
            if name is None:
                name = raw_name.decode("latin1").replace("_", "-").title()
                if len(_header_names) < 256:  # a client sending random names cannot grow it
                    _header_names[raw_name] = name
            value = raw_value.decode("latin1")
            if name in named:
                value = f"{named[name]},{value}"
            named[name] = value
        self._named = named
        self._folded = {name.lower(): value for name, value in named.items()}

    def __getitem__(self, key: str) -> str:
        return self._folded[key.replace("_", "-").lower()]

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._folded.get(key.replace("_", "-").lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.replace("_", "-").lower() in self._folded

    def __iter__(self) -> Iterator[str]:
        return iter(self._named)

    def __len__(self) -> int:
        return len(self._named)

    def items(self) -> ItemsView[str, str]:  # type: ignore[override]
        return self._named.items()


def _host_allowed(host: str | None, scope: Scope) -> bool:
    if not host and scope.get("server"):
        server_host, server_port = scope["server"]
        host = f"{server_host}:{server_port}" if server_port else str(server_host)
    host = host or ""
    verdict = _hosts.get(host)
    if verdict is None:
        domain, _port = split_domain_port(host)
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]
        verdict = bool(domain) and validate_host(domain, allowed)
        if len(_hosts) < 64:  # a client sending random Host headers cannot grow it
            _hosts[host] = verdict
    return verdict


class _TooBig(Exception):
    pass


async def _read_body(receive: Receive, limit: int | None) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise _TooBig
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _body_too_large(scope: Scope) -> bool:
    """common.request_limits' rule, on the ASGI scope's headers (Content-Length as declared)."""
    meta = _meta(scope)
    try:
        size = max(0, int(meta.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return False
    return too_large_body(size, meta.get("CONTENT_TYPE", ""))


class WebhookIntake:
    """ASGI application: webhook POSTs to the batcher, everything else to ``fallback``."""

    def __init__(self, fallback: ASGIApp, *, writers: int | None = None, max_batch: int | None = None) -> None:
        self.fallback = fallback
        self.batcher = Batcher(
            writers=writers if writers is not None else settings.WEBHOOK_INTAKE_WRITERS,
            max_batch=max_batch if max_batch is not None else settings.WEBHOOK_INTAKE_MAX_BATCH,
            answer_within=settings.WEBHOOK_ANSWER_WITHIN,
            gather_within=settings.WEBHOOK_INTAKE_GATHER_MS / 1000,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        provider = ROUTES.get(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "POST" else None
        if provider is None:
            if scope["type"] == "http" and _body_too_large(scope):
                # Django's ASGI handler would read all of it (to a temporary file) first.
                await self._respond(send, scope, 413, too_large_error())
                return
            await self.fallback(scope, receive, send)
            return
        headers = RequestHeaders(scope.get("headers", ()))
        if not _host_allowed(headers.get("Host"), scope):
            await self.fallback(scope, receive, send)  # Django refuses it (400) and logs it
            return
        client = scope.get("client")
        remote_addr = client_address_from(client[0] if client else None, headers.get("X-Forwarded-For"))
        cap = webhook_limits.max_body_bytes()
        size = webhook_limits.declared_size({"CONTENT_LENGTH": headers.get("Content-Length")})
        try:
            if size > cap:  # refused before the body is read
                raise _TooBig
            # Never more than the cap from the socket, whatever Content-Length says.
            body = await _read_body(receive, min(cap, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or cap))
        except ConnectionAbortedError:
            return
        except _TooBig:
            if cap > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or cap):
                await self._respond(
                    send,
                    scope,
                    400,
                    error_body("request_too_large", _("The request body is larger than the server accepts.")),
                )
                return
            # Counting the refusal may touch the cache: off the event loop.
            outcome: Outcome = await asyncio.get_running_loop().run_in_executor(
                None,
                functools.partial(
                    webhook_refuse_oversized, provider=provider, size=max(size, cap + 1), remote_addr=remote_addr
                ),
            )
        else:
            delivery = Delivery(provider=provider, headers=headers, body=body, remote_addr=remote_addr)
            outcome = await self.batcher.submit(delivery)
            if database_unavailable(outcome):  # nothing recorded; the provider retries on 503
                log_unavailable(scope["path"], outcome)  # type: ignore[arg-type]
                await self._respond(send, scope, 503, unavailable_body(), extra=list(unavailable_headers().items()))
                return
        status, data = answer_for(provider, outcome)
        if status >= 500:
            logger.error(
                "Internal Server Error: %s",
                scope["path"],
                exc_info=(type(outcome), outcome, outcome.__traceback__) if isinstance(outcome, Exception) else None,
                extra={"status_code": status},
            )
        elif status >= 400:
            logger.warning("%s: %s", status, scope["path"], extra={"status_code": status})
        await self._respond(send, scope, status, data, extra=answer_headers(outcome))

    async def _respond(
        self, send: Send, scope: Scope, status: int, data: dict[str, Any], extra: list[tuple[str, str]] | None = None
    ) -> None:
        content = _encoded(data)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            *_security_headers(),
            *((name.lower().encode(), value.encode()) for name, value in extra or []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Let the writers finish the batches in hand before the worker exits.
                await asyncio.get_running_loop().run_in_executor(None, self.batcher.shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return
