"""Races of sale QRs on PostgreSQL: concurrent creation keeps references unique,
concurrent retries with one Idempotency-Key make one request."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connection

from payments.models import PaymentRequest
from payments.sale_qr import services
from tests.conftest import needs_postgres


@pytest.mark.django_db(transaction=True)
def test_it_keeps_references_unique_under_concurrent_creation(cast, monkeypatch):
    needs_postgres()
    # A tiny pool of references makes the threads collide all the time.
    pool = [f"KMNPRTWX{a}{b}" for a, b in itertools.product("34679", "34679")]
    lock = threading.Lock()
    rng = iter(itertools.cycle(pool))

    def draw() -> str:
        with lock:
            return next(rng)

    monkeypatch.setattr(services, "new_reference", draw)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                services.payment_request_create(actor=cast.board, vendor=cast.vendor, amount=10_000)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    references = list(PaymentRequest.objects.values_list("reference", flat=True))
    assert len(references) == 24 == len(set(references))


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_request_for_concurrent_retries_with_one_key(cast):
    needs_postgres()
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        try:
            barrier.wait()
            request, created = services.payment_request_create(
                actor=cast.vendor_user, vendor=cast.vendor, amount=42_000, idempotency_key="tap-twice"
            )
            results.append((request.pk, created))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert PaymentRequest.objects.count() == 1
    assert {pk for pk, _ in results} == {PaymentRequest.objects.get().pk}
    assert sum(created for _, created in results) == 1
