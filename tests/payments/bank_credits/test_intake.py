"""The batching webhook intake (``payments.bank_credits.intake``, mounted by
``config.asgi``): called as an ASGI server calls it, it answers exactly as the
Django views do, records each payment once while writing concurrent
deliveries in batches, and serves through gunicorn's uvicorn worker."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from payments.bank_credits import batching, ingest
from payments.bank_credits.intake import WebhookIntake
from payments.models import Payment, WebhookDelivery
from tests.conftest import free_port, needs_postgres
from tests.payments.bank_credits.test_wsgi_lane import _scenarios
from tests.payments.bank_credits.webhooks_support import (
    SEPAY_API_KEY,
    SEPAY_URL,
    encode,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
    sepay_post,
)

pytestmark = pytest.mark.usefixtures("provider_keys")

Delivery = WebhookDelivery.Status
ROOT = Path(__file__).resolve().parents[3]
intake_db = pytest.mark.django_db(transaction=True)


class _Answer:
    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], content: bytes) -> None:
        self.status_code = status
        self.headers = {k.decode(): v.decode() for k, v in headers}
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


class _Fallback:
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
        self.fallback = _Fallback()
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
    ) -> _Answer:
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
        return _Answer(start["status"], start["headers"], body)

    def post(
        self, path: str, data: bytes, content_type: str = "application/json", headers: dict[str, str] | None = None
    ) -> _Answer:
        return asyncio.run(self.arequest("POST", path, data, content_type, headers))

    def close(self) -> None:
        self.intake.batcher.shutdown()


@pytest.fixture
def intake() -> Any:
    client = IntakeClient()
    yield client
    client.close()


# --- no database needed -------------------------------------------------------------------


def test_it_hands_everything_else_to_django(intake: IntakeClient) -> None:
    answers = [
        asyncio.run(intake.arequest("GET", SEPAY_URL, b"")),
        asyncio.run(intake.arequest("POST", "/api/v1/payments/", b"{}")),
        asyncio.run(intake.arequest("POST", "/api/v1/webhooks/unknown/", b"{}")),
        IntakeClient(host="evil.example").post(SEPAY_URL, b"{}"),  # Django refuses a foreign host
    ]

    assert [a.status_code for a in answers] == [418] * 4
    assert intake.fallback.calls == [
        "GET /api/v1/webhooks/sepay/",
        "POST /api/v1/payments/",
        "POST /api/v1/webhooks/unknown/",
    ]


def test_it_refuses_a_body_over_the_upload_limit_before_storing_anything(intake: IntakeClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    answer = intake.post(SEPAY_URL, b"x" * 101)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "request_too_large"
    assert intake.intake.batcher.deliveries == 0


def test_it_speaks_the_lifespan_protocol() -> None:
    intake = WebhookIntake(_Fallback(), writers=1, max_batch=10)
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(intake({"type": "lifespan"}, receive, send))

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# --- outside a test transaction, as in production (PostgreSQL) -----------------------------


@intake_db
def test_it_answers_like_the_django_view_and_batches_concurrent_deliveries(cast, intake: IntakeClient) -> None:
    needs_postgres()

    # Every kind of answer, one delivery at a time: the same status, body and
    # recorded payment as the view.
    def recorded_since(known: set[int]) -> list[tuple[Any, ...]]:
        rows = Payment.objects.exclude(id__in=known)
        return list(rows.values_list("source", "vendor", "market", "amount", "channel", "attribution", "status"))

    for n, (name, send) in enumerate(_scenarios(cast)):
        known = set(Payment.objects.values_list("id", flat=True))
        expected = send(Client(), 500_000 + n)
        by_view = recorded_since(known)
        known |= set(Payment.objects.values_list("id", flat=True))
        got = send(intake, 600_000 + n)
        assert (got.status_code, got.json()) == (expected.status_code, expected.json()), name
        assert recorded_since(known) == by_view, name
        assert got.headers["content-type"] == "application/json"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["x-frame-options"] == "DENY"

    # Sixty deliveries at once, ten of them the same transaction: written in
    # batches, each transaction recorded once, every provider answered success.
    before = Payment.objects.count()
    code = cast.vendor.merchant_code
    bodies = [
        encode(sepay_body(content=f"CHO40 {code}", amount=1_000 * (i + 1), txn_id=700_000 + i)) for i in range(50)
    ]
    bodies += [encode(sepay_body(content=f"CHO40 {code}", amount=99_000, txn_id=777_777))] * 10
    headers = {"Authorization": f"Apikey {SEPAY_API_KEY}"}

    async def burst() -> list[_Answer]:
        return await asyncio.gather(*(intake.arequest("POST", SEPAY_URL, b, headers=headers) for b in bodies))

    answers = asyncio.run(burst())

    assert [(a.status_code, a.json()) for a in answers] == [(200, {"success": True})] * 60
    assert Payment.objects.count() == before + 51
    assert Payment.objects.filter(provider_txn_id="777777").get().amount == 99_000
    burst_rows = WebhookDelivery.objects.filter(body__in=[b.decode() for b in bodies])
    assert burst_rows.count() == 60
    assert burst_rows.filter(status=Delivery.DUPLICATE).count() == 9
    assert not burst_rows.filter(payment=None).exists()
    batcher = intake.intake.batcher
    assert batcher.largest > 1  # deliveries that arrived together were written together
    assert batcher.batches < batcher.deliveries


@intake_db
def test_it_answers_500_in_json_and_keeps_the_delivery_when_recording_fails(cast, intake, monkeypatch) -> None:
    needs_postgres()

    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(batching, "_record_many", explode)
    monkeypatch.setattr(ingest, "payment_record_credit", explode)

    answer = sepay_post(intake, sepay_body(content=f"CHO40 {cast.vendor.merchant_code}"))  # type: ignore[arg-type]

    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "server_error"
    assert not Payment.objects.exists()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Delivery.FAILED
    assert "disk on fire" in delivery.error


@contextlib.contextmanager
def _gunicorn_intake(*, log_level: str = "warning", **env: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """gunicorn serving config.asgi with one uvicorn worker, as docker-compose's
    ``webhooks`` service does, on the test database: (server, port)."""
    db = connection.settings_dict
    port = free_port()
    environ = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DJANGO_SECRET_KEY": "test-only",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SEPAY_API_KEY": SEPAY_API_KEY,
        **env,
    }
    command = [sys.executable, "-m", "gunicorn", "config.asgi:application", "-k", "uvicorn_worker.UvicornWorker"]
    command += ["-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", log_level]
    server = subprocess.Popen(command, cwd=ROOT, env=environ, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield server, port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@intake_db
def test_gunicorn_serves_the_intake_and_records_payments_with_the_broker_down(cast) -> None:
    """The deployment of docker-compose.yml's ``webhooks`` service: gunicorn,
    uvicorn workers, config.asgi; Redis pointed at a closed port."""
    needs_postgres()
    dead_broker = "redis://127.0.0.1:6390/0"
    server = _gunicorn_intake(REDIS_URL=dead_broker, CELERY_BROKER_URL=dead_broker, CELERY_TASK_ALWAYS_EAGER="0")
    with server as (_process, port):

        def post(body: bytes, key: str = SEPAY_API_KEY) -> tuple[int, Any]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{SEPAY_URL}",
                data=body,
                headers={"Content-Type": "application/json", "Authorization": f"Apikey {key}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as refused:
                return refused.code, json.loads(refused.read())

        body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", amount=42_000, txn_id=123_321))
        started = time.monotonic()
        forged = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=456_654))
        answers = [post(body), post(body), post(forged, key="forged")]
        elapsed = time.monotonic() - started

    assert answers[0] == (200, {"success": True})
    assert answers[1] == (200, {"success": True})  # the retry
    payment = Payment.objects.get(provider_txn_id="123321")
    assert (payment.vendor, payment.amount) == (cast.vendor, 42_000)
    assert answers[2][0] == 403 and answers[2][1]["error"]["code"] == "bad_signature"
    assert Payment.objects.count() == 1
    statuses = sorted(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses == sorted([Delivery.PROCESSED, Delivery.DUPLICATE, Delivery.REJECTED])
    assert elapsed < 5  # no broker timeout on the way


@intake_db
def test_a_worker_killed_mid_burst_loses_nothing_the_providers_retries_cannot_recover(cast) -> None:
    """Fault drill: SIGKILL the intake's worker while a burst is in flight.
    Deliveries answered 200 are on disk; the rest were not answered, so the
    providers retry them, and every transaction ends recorded exactly once."""
    needs_postgres()
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    from payments.bank_credits.ingest import webhook_deliveries_mark_stuck

    code = cast.vendor.merchant_code
    bodies = [encode(sepay_body(content=f"CHO40 {code}", amount=1_000 + i, txn_id=300_000 + i)) for i in range(400)]
    answered: list[int] = []

    def post(body: bytes) -> int:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            conn.request(
                "POST",
                SEPAY_URL,
                body=body,
                headers={"Content-Type": "application/json", "Authorization": f"Apikey {SEPAY_API_KEY}"},
            )
            status = conn.getresponse().status
            conn.close()
        except OSError:
            return 0  # cut off: the provider sees no answer and will retry
        answered.append(status)
        return status

    def wait_until_serving() -> None:
        deadline = time.monotonic() + 60
        while post(b"{}") == 0:
            assert time.monotonic() < deadline, "gunicorn did not serve"
            time.sleep(0.2)

    with _gunicorn_intake(log_level="critical") as (server, port):
        wait_until_serving()
        answered.clear()
        worker = int(subprocess.check_output(["pgrep", "-P", str(server.pid)], text=True).split()[0])
        with ThreadPoolExecutor(32) as pool:
            first = [pool.submit(post, b) for b in bodies]
            deadline = time.monotonic() + 60
            while len(answered) < 50:
                assert time.monotonic() < deadline, "the burst was not answered"
                time.sleep(0.005)
            os.kill(worker, signal.SIGKILL)  # gunicorn's master starts a new worker
            statuses = [f.result(timeout=60) for f in first]
        wait_until_serving()
        # The aggregators retry every delivery they got no 200 for.
        retried = [post(b) for b, status in zip(bodies, statuses, strict=True) if status != 200]

    assert statuses.count(200) >= 50 and statuses.count(0) > 0  # the kill did cut the burst
    assert retried == [200] * len(retried)
    assert Payment.objects.filter(provider_txn_id__startswith="300").count() == 400
    amounts = sorted(Payment.objects.filter(provider_txn_id__startswith="300").values_list("amount", flat=True))
    assert amounts == [1_000 + i for i in range(400)]
    # Rows of deliveries cut off mid-batch stay 'received' until the sweep marks them failed.
    webhook_deliveries_mark_stuck(older_than=dt.timedelta(0))
    assert not WebhookDelivery.objects.filter(status=Delivery.RECEIVED).exists()


# --- how batches form (the writer stubbed: no database) ------------------------------------


class _Writes:
    """Stands for ``webhook_ingest_batch``: records batch sizes, takes ``seconds`` per batch."""

    def __init__(self, seconds: float = 0.0, error: Exception | None = None) -> None:
        self.seconds = seconds
        self.error = error
        self.sizes: list[int] = []

    def __call__(self, deliveries: list[Any]) -> list[Any]:
        self.sizes.append(len(deliveries))
        time.sleep(self.seconds)
        if self.error:
            raise self.error
        return [ingest.IngestResult(i, Delivery.PROCESSED, None) for i in range(len(deliveries))]


def _delivery() -> batching.Delivery:
    from payments.bank_credits.providers import sepay

    return batching.Delivery(provider=sepay, headers={}, body=b"{}")


def _batcher(monkeypatch: Any, writes: _Writes) -> Any:
    from payments.bank_credits import intake as intake_module

    monkeypatch.setattr(intake_module, "webhook_ingest_batch", writes)
    return intake_module.Batcher(writers=1, max_batch=200)


def test_a_lone_delivery_is_written_at_once(monkeypatch) -> None:
    writes = _Writes()
    batcher = _batcher(monkeypatch, writes)

    started = time.monotonic()
    outcome = asyncio.run(batcher.submit(_delivery()))

    assert isinstance(outcome, ingest.IngestResult)
    assert time.monotonic() - started < 1.0  # no timer: written as soon as it came
    assert writes.sizes == [1]
    batcher.shutdown()


def test_what_arrives_during_a_write_is_the_next_batch(monkeypatch) -> None:
    writes = _Writes(seconds=0.2)
    batcher = _batcher(monkeypatch, writes)

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(batcher.submit(_delivery()))
        await asyncio.sleep(0.05)  # the first batch is being written now
        rest = [asyncio.ensure_future(batcher.submit(_delivery())) for _ in range(10)]
        return await asyncio.gather(first, *rest)

    outcomes = asyncio.run(scenario())

    assert len(outcomes) == 11 and all(isinstance(o, ingest.IngestResult) for o in outcomes)
    assert writes.sizes == [1, 10]
    batcher.shutdown()


def test_a_failed_write_answers_every_delivery_of_the_batch_with_the_error(monkeypatch) -> None:
    writes = _Writes(error=RuntimeError("database gone"))
    batcher = _batcher(monkeypatch, writes)

    async def scenario() -> list[Any]:
        return await asyncio.gather(*(batcher.submit(_delivery()) for _ in range(3)))

    outcomes = asyncio.run(scenario())

    assert [str(o) for o in outcomes] == ["database gone"] * 3
    batcher.shutdown()
