"""Races of the ledger on PostgreSQL: two simultaneous status changes or
assignments of one payment; exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from payments.models import PaymentEvent
from tests.conftest import needs_postgres
from tests.factories import PaymentFactory, VendorFactory, make_board
from tests.payments.ledger.test_payment_transitions import mark
from tests.payments.ledger.test_unmatched_queue import assign


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_two_simultaneous_assignments_win(cast):
    needs_postgres()
    queued = PaymentFactory.create(vendor=None, market=cast.market)
    rival = VendorFactory.create(market=cast.market)
    second_board = make_board(cast.market, "board2")
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def run(name: str, user, vendor_id: int) -> None:
        try:
            barrier.wait()
            results[name] = assign(user, queued, vendor_id).status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("a", cast.board, cast.vendor.id)),
        threading.Thread(target=run, args=("b", second_board, rival.id)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results.values()) == [200, 409]
    queued.refresh_from_db()
    winner = cast.vendor.id if results["a"] == 200 else rival.id
    assert queued.vendor_id == winner
    events = list(PaymentEvent.objects.filter(payment=queued, kind="assigned"))
    assert len(events) == 1
    assert events[0].data["vendor"] == winner


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["refund", "dispute"])
def test_it_applies_only_one_of_two_simultaneous_transitions(cast, action):
    # The same move by two people at once: exactly one applies, the other is told
    # it is too late. (A refund racing a dispute is no test of this: disputed →
    # refunded is a legal move, so when the dispute happens to finish first both
    # rightly succeed.)
    needs_postgres()
    payment = PaymentFactory.create(vendor=cast.vendor)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def run(user, who: str) -> None:
        try:
            barrier.wait(timeout=30)
            results[who] = mark(user, payment, action).status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(cast.board, "board")),
        threading.Thread(target=run, args=(cast.officer, "officer")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(results.values()) == [200, 409]
    payment.refresh_from_db()
    winner = "refunded" if action == "refund" else "disputed"
    assert payment.status == winner
    assert list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True)) == [f"status:{winner}"]
