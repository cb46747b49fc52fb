"""The batching webhook intake called as an ASGI server calls it: ``IntakeClient``
posts through ``WebhookIntake`` and quacks like Django's test client, so the
providers' helpers and the lane tests use it as they use the others."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from payments.bank_credits.intake import WebhookIntake


class Answer:
    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        self.status_code = status
        self.headers = {k.decode(): v.decode() for k, v in headers}
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


class Fallback:
    """Stands for Django's ASGI handler: records what the intake handed over."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 418, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"django"})


class IntakeClient:
    """Posts through ``WebhookIntake`` with an ASGI scope, as uvicorn would;
    quacks like ``django.test.Client.post`` so the providers' helpers work."""

    def __init__(self, *, host: str = "testserver", writers: int = 1) -> None:
        self.fallback = Fallback()
        self.intake = WebhookIntake(self.fallback, writers=writers, max_batch=200)
        self.host = host

    def scope(self, method: str, path: str, content_type: str, headers: dict[str, str], size: int) -> dict[str, Any]:
        raw = [(b"host", self.host.encode()), (b"content-type", content_type.encode())]
        raw += [(b"content-length", str(size).encode())]
        raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": raw,
            "client": ("203.0.113.9", 50000),
            "server": ("127.0.0.1", 8000),
        }

    async def arequest(
        self, method: str, path: str, data: bytes, content_type: str = "application/json", headers: Any = None
    ) -> Answer:
        scope = self.scope(method, path, content_type, headers or {}, len(data))
        chunks = [data[:7], data[7:]]  # the body in two messages, as a server may deliver it
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if chunks:
                return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.intake(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return Answer(start["status"], start["headers"], body)

    def post(
        self, path: str, data: bytes, content_type: str = "application/json", headers: dict[str, str] | None = None
    ) -> Answer:
        return asyncio.run(self.arequest("POST", path, data, content_type, headers))

    def close(self) -> None:
        self.intake.batcher.shutdown()
