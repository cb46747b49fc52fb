"""The fold on PostgreSQL with real concurrency (threads, each with its own
connection, and deadlines on every wait): a payment committed after a
later-numbered one was folded, folders racing each other and the writers,
a rebuild racing both, and the batching intake's bulk SQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from payments.bank_credits import ingest
from payments.bank_credits.batching import webhook_ingest_batch
from payments.bank_credits.providers import sepay
from payments.models import Payment
from stats import folding
from stats.folding import fold_pending, rebuild
from stats.models import PaymentChange
from tests.conftest import needs_postgres
from tests.factories import PaymentFactory, VendorFactory
from tests.payments.bank_credits.test_ingest_batch import sepay_delivery
from tests.payments.bank_credits.webhooks_support import SEPAY_API_KEY, encode, provider_keys, sepay_body
from tests.stats.support import expected_tables, rollup_tables

__all__ = ["provider_keys"]

race_db = pytest.mark.django_db(transaction=True)
DEADLINE = 60  # seconds any thread or wait may take before the test fails


def in_thread(work: Callable[[], Any], errors: list[BaseException]) -> threading.Thread:
    """``work`` on its own thread and database connection; what it raises lands in ``errors``."""

    def run() -> None:
        try:
            work()
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def join(threads: list[threading.Thread], errors: list[BaseException]) -> None:
    for thread in threads:
        thread.join(timeout=DEADLINE)
    assert not any(t.is_alive() for t in threads), "a thread missed its deadline"
    assert not errors, errors


@race_db
def test_a_payment_committed_after_a_later_one_was_folded_is_still_folded(cast):
    needs_postgres()
    inserted, release = threading.Event(), threading.Event()
    slow: list[Payment] = []
    errors: list[BaseException] = []

    def slow_writer() -> None:
        with transaction.atomic():
            slow.append(PaymentFactory(vendor=cast.vendor, amount=30_000))
            inserted.set()
            assert release.wait(DEADLINE)

    writer = in_thread(slow_writer, errors)
    assert inserted.wait(DEADLINE)
    fast = PaymentFactory(vendor=cast.other_vendor, amount=70_000)  # commits at once

    assert fold_pending() == 1  # the slow one's change is not committed: invisible, not skipped
    assert set(rollup_tables()["vendor_days"]) == {(cast.other_vendor.pk, fast.local_date, cast.other_market.pk)}

    release.set()
    join([writer], errors)
    assert slow[0].pk < fast.pk  # a plain "id > last folded" cursor would now miss it
    assert fold_pending() == 1
    assert rollup_tables() == expected_tables()


def _vendors(cast, n: int) -> list[Any]:
    markets = [cast.market, cast.other_market, cast.far_market]
    return [VendorFactory(market=markets[i % 3]) for i in range(n)]


def _write_and_change(vendors: list[Any], n: int, seed: int) -> None:
    """``n`` payments committed one by one; every third refunded, every
    fifth moved to another vendor of its market, every seventh deleted."""
    for i in range(n):
        vendor = vendors[(i * 7 + seed) % len(vendors)]
        payment = PaymentFactory(vendor=vendor, amount=5_000 + 4_999 * ((i + seed) % 150), attribution="account")
        if i % 3 == 0:
            payment.transition(Payment.Status.REFUNDED if i % 2 else Payment.Status.DISPUTED)
        if i % 5 == 0:
            others = [v for v in vendors if v.market_id == vendor.market_id and v.pk != vendor.pk]
            Payment.objects.filter(pk=payment.pk).update(vendor=others[i % len(others)])
        if i % 7 == 0:
            payment.delete()


@race_db
def test_folders_racing_each_other_and_the_writers_fold_every_change_exactly_once(cast, monkeypatch):
    needs_postgres()
    monkeypatch.setattr(folding, "FOLD_BATCH", 7)  # many small batches, so the folders interleave
    monkeypatch.setattr(folding, "FOLD_BATCH_PG", 7)
    vendors = _vendors(cast, 9)
    _write_and_change(vendors, 60, seed=1)
    barrier = threading.Barrier(6)
    writing = threading.Event()
    folded: list[int] = []
    errors: list[BaseException] = []

    def folder() -> None:
        barrier.wait(timeout=DEADLINE)
        while writing.is_set() or PaymentChange.objects.exists():
            folded.append(fold_pending())

    def writer(seed: int) -> None:
        barrier.wait(timeout=DEADLINE)
        _write_and_change(vendors, 40, seed=seed)

    writing.set()
    writers = [in_thread(lambda s=s: writer(s), errors) for s in (2, 3)]
    folders = [in_thread(folder, errors) for _ in range(4)]
    join(writers, errors)
    writing.clear()
    join(folders, errors)

    total = sum(folded) + fold_pending()
    assert total > 140  # every payment logged at least once, most of them more
    assert PaymentChange.objects.count() == 0
    assert rollup_tables() == expected_tables()


@race_db
def test_a_rebuild_racing_writers_and_folders_counts_every_payment_once(cast):
    needs_postgres()
    vendors = _vendors(cast, 6)
    _write_and_change(vendors, 30, seed=1)
    barrier = threading.Barrier(4)
    writing = threading.Event()
    errors: list[BaseException] = []

    def folder() -> None:
        barrier.wait(timeout=DEADLINE)
        while writing.is_set():
            fold_pending(max_rows=5)

    def writer() -> None:
        barrier.wait(timeout=DEADLINE)
        _write_and_change(vendors, 60, seed=4)

    def rebuilder() -> None:
        barrier.wait(timeout=DEADLINE)
        scopes = [None, cast.market.pk]
        while writing.is_set():
            rebuild(market_id=scopes[0])
            scopes.reverse()

    writing.set()
    writers = [in_thread(writer, errors)]
    others = [in_thread(folder, errors), in_thread(folder, errors), in_thread(rebuilder, errors)]
    join(writers, errors)
    writing.clear()
    join(others, errors)

    fold_pending()
    assert rollup_tables() == expected_tables()
    rebuild()
    assert rollup_tables() == expected_tables()


@race_db
@pytest.mark.usefixtures("provider_keys")
def test_the_batching_intake_logs_only_the_payments_it_inserts(cast):
    needs_postgres()
    code = cast.vendor.merchant_code
    bodies = [sepay_body(content=f"CHO40 {code}", txn_id=70_000 + i, amount=10_000 * (i + 1)) for i in range(5)]
    webhook_ingest_batch([sepay_delivery(body) for body in bodies])
    assert PaymentChange.objects.count() == 5

    fresh = sepay_body(content=f"CHO40 {code}", txn_id=70_100, amount=600_000)
    unmatched = sepay_body(content="khong ro", account="123123123", txn_id=70_101, amount=7_000)
    retried = [sepay_delivery(bodies[0]), sepay_delivery(bodies[3]), sepay_delivery(fresh), sepay_delivery(fresh)]
    with CaptureQueriesContext(connection) as queries:
        webhook_ingest_batch([*retried, sepay_delivery(unmatched)])
    assert any(
        "jsonb_array_elements" in (q["sql"] or "") and "ON CONFLICT" in (q["sql"] or "") for q in queries
    )  # the bulk path
    # One delivery alone takes the single-statement path (INSERT … ON CONFLICT in a CTE).
    ingest.webhook_ingest(provider=sepay, headers={"Authorization": f"Apikey {SEPAY_API_KEY}"}, body=encode(fresh))
    single = sepay_body(content=f"CHO40 {code}", txn_id=70_102, amount=19_999)
    ingest.webhook_ingest(provider=sepay, headers={"Authorization": f"Apikey {SEPAY_API_KEY}"}, body=encode(single))

    assert Payment.objects.count() == 8
    logged = sorted(PaymentChange.objects.values_list("payment_id", "sign"))
    assert logged == sorted((pk, 1) for pk in Payment.objects.values_list("pk", flat=True))
    fold_pending()
    assert rollup_tables() == expected_tables()


@race_db
def test_a_payment_committed_while_a_rebuild_recomputes_is_counted_once(cast, monkeypatch):
    # Deterministic form of the race above: a payment commits after the
    # rebuild folded the pending changes and before it reads the payments.
    needs_postgres()
    PaymentFactory(vendor=cast.vendor, amount=30_000)
    errors: list[BaseException] = []
    bucket_case = folding._bucket_case  # built just before the recomputing INSERT … SELECT

    def payment_meanwhile(column: str) -> str:
        join([in_thread(lambda: PaymentFactory(vendor=cast.vendor, amount=70_000), errors)], errors)
        return bucket_case(column)

    monkeypatch.setattr(folding, "_bucket_case", payment_meanwhile)
    rebuild()
    monkeypatch.undo()

    assert Payment.objects.count() == 2
    assert fold_pending() == 1  # its change: not seen by the rebuild, folded now
    assert rollup_tables() == expected_tables()
