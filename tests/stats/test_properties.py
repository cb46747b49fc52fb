"""Property: whatever happens to payments, in whatever order, with folds (and
rebuilds) at any point in between, the rollups equal a direct aggregate of
the raw payments — incrementally, and again after ``rebuild``, row for row.

Payments fall on both sides of the size-bucket edges, of local midnight
(23:30 and 00:30 in Vietnam, which are the same UTC day) and of month ends;
they are refunded, disputed and settled, assigned from the unmatched queue,
moved to another vendor through the ledger's services, corrected and
deleted. (Commits in another order than ids: tests/stats/test_races.py.)"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import DomainError
from payments.ledger.services import payment_assign, payment_reassign
from payments.models import Payment, TransitionError
from stats.folding import fold_pending, rebuild
from stats.models import MarketDay
from tests.factories import PaymentFactory, VendorFactory
from tests.stats.support import expected_tables, rollup_tables

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = [dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 11, 30)]
TIMES = [dt.time(0, 30), dt.time(12, 0), dt.time(23, 30)]
EDGES = [1, 19_999, 20_000, 49_999, 50_000, 99_999, 100_000, 499_999, 500_000, 9_000_000]
# Where a payment lands: a vendor (index), the unmatched queue of market 0, no market at all, or
# vendor 0 in market 1 ("stray": a vendor active in two markets, MarketDayActive.shared).
WHERE = [0, 1, 2, 3, "queue", "nowhere", "stray"]

amounts = st.sampled_from(EDGES) | st.integers(min_value=1, max_value=2_000_000)
payment_index = st.integers(min_value=0, max_value=50)
operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("pay"),
            st.sampled_from(WHERE),
            amounts,
            st.sampled_from(DAYS),
            st.sampled_from(TIMES),
            st.sampled_from(["succeeded", "succeeded", "pending"]),
        ),
        st.tuples(st.just("status"), payment_index, st.sampled_from(["succeeded", "failed", "refunded", "disputed"])),
        st.tuples(st.just("reassign"), payment_index, st.integers(0, 3)),
        st.tuples(st.just("assign"), payment_index, st.integers(0, 3)),
        st.tuples(st.just("amount"), payment_index, amounts),
        st.tuples(st.just("delete"), payment_index),
        st.tuples(st.just("fold"), st.none() | st.integers(min_value=1, max_value=4)),
        st.tuples(st.just("rebuild"), st.none() | st.integers(0, 1), st.none() | st.sampled_from(DAYS)),
    ),
    max_size=30,
)


@pytest.fixture
def world(cast) -> dict[str, Any]:
    """Two markets with two vendors each; the superuser acts in the ledger."""
    vendors = [
        cast.vendor,
        VendorFactory(market=cast.market),
        cast.other_vendor,
        VendorFactory(market=cast.other_market),
    ]
    return {"markets": [cast.market, cast.other_market], "vendors": vendors, "actor": cast.admin}


def _pay(world: dict[str, Any], where: Any, amount: int, day: dt.date, time: dt.time, status: str) -> None:
    occurred_at = dt.datetime.combine(day, time, tzinfo=VIETNAM).astimezone(dt.UTC)
    if where == "queue":
        vendor, market = None, world["markets"][0]
    elif where == "nowhere":
        vendor, market = None, None
    elif where == "stray":
        vendor, market = world["vendors"][0], world["markets"][1]
    else:
        vendor = world["vendors"][where]
        market = vendor.market
    payment = PaymentFactory(vendor=vendor, market=market, amount=amount, occurred_at=occurred_at, status=status)
    assert payment.local_date == day  # 00:30 and 23:30 local alike: the Vietnamese day


def _apply(world: dict[str, Any], op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "pay":
        _pay(world, *op[1:])
        return
    if kind == "fold":
        fold_pending(max_rows=op[1])
        return
    if kind == "rebuild":
        market = None if op[1] is None else world["markets"][op[1]].pk
        rebuild(market_id=market, from_date=op[2])
        return
    payments = list(Payment.objects.order_by("pk"))
    if not payments:
        return
    payment = payments[op[1] % len(payments)]
    try:
        if kind == "status":
            payment.transition(op[2])
        elif kind == "reassign":
            payment_reassign(actor=world["actor"], payment=payment, vendor=world["vendors"][op[2]])
        elif kind == "assign":
            payment_assign(actor=world["actor"], payment=payment, vendor=world["vendors"][op[2]])
        elif kind == "amount":
            Payment.objects.filter(pk=payment.pk).update(amount=op[2])
        elif kind == "delete":
            payment.delete()
    except (TransitionError, DomainError):
        pass  # a move the ledger refuses changes nothing


def test_a_payment_at_half_past_midnight_belongs_to_the_new_local_day(world):
    _pay(world, 0, 45_000, dt.date(2026, 12, 1), dt.time(0, 30), "succeeded")  # 2026-11-30 17:30 UTC
    _pay(world, 0, 45_000, dt.date(2026, 11, 30), dt.time(23, 30), "succeeded")

    fold_pending()

    assert sorted(MarketDay.objects.values_list("local_date", "count")) == [
        (dt.date(2026, 11, 30), 1),
        (dt.date(2026, 12, 1), 1),
    ]


@PROPERTY
@given(ops=operations)
def test_the_rollups_always_equal_a_direct_aggregate_of_the_payments(world, ops):
    with transaction.atomic():
        for op in ops:
            _apply(world, op)
        fold_pending()
        incremental = rollup_tables()
        assert incremental == expected_tables()

        rebuild()

        assert rollup_tables() == incremental
        transaction.set_rollback(True)  # the next example starts from the same world
