"""The batching webhook intake as deployed (docker-compose's ``webhooks``
service: gunicorn, one worker of config.workers, ``config.asgi``) on the test database
(PostgreSQL): it records payments with the broker down, and a worker killed
mid-burst loses nothing the providers' retries cannot recover.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from payments.models import Payment, WebhookDelivery
from tests.conftest import free_port, needs_postgres
from tests.payments.bank_credits.webhooks_support import SEPAY_API_KEY, SEPAY_URL, encode, sepay_body
from tests.server_support import serving

pytestmark = pytest.mark.usefixtures("provider_keys")

Delivery = WebhookDelivery.Status
ROOT = Path(__file__).resolve().parents[3]
intake_db = pytest.mark.django_db(transaction=True)


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
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.asgi:application",
        "-k",
        "config.workers.SpreadUvicornWorker",
        "--reuse-port",
    ]
    command += ["-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", log_level]
    # stop_timeout: a request still hanging holds gunicorn's graceful shutdown; it is
    # then stopped for good, so that the test reports its own failure and leaves no server.
    with serving(command, port=port, env=environ, stop_timeout=30) as server:
        yield server, port


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
