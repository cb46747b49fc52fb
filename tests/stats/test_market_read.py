"""A market's read in one round trip (``stats.market_read``, PostgreSQL) gives
the board exactly what the general path (the ORM's queries) gives, whatever
the period, the granularity, the target and who onboarded whom."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import UserPhone
from stats import market_read
from stats.periods import Period
from stats.scopes import market_scope
from stats.selectors import scope_stats
from stats.services import target_set
from tests.factories import PaymentFactory, UserFactory, VendorFactory
from tests.stats.conftest import vn

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-round-trip read is PostgreSQL's")

D = dt.date
PERIODS = [
    Period(D(2026, 11, 1), D(2026, 11, 30), "day"),
    Period(D(2026, 11, 1), D(2026, 11, 30), "week"),
    Period(D(2026, 9, 1), D(2026, 12, 1), "month"),
    Period(D(2026, 10, 1), D(2026, 10, 31), "day"),  # a past period: last receipts after its end
    Period(D(2026, 11, 30), D(2026, 12, 1), "day"),  # across a month boundary
    Period(D(2025, 1, 1), D(2025, 1, 31), "day"),  # nothing at all
]


def general(scope, period):
    real = market_read.applies
    market_read.applies = lambda scope: False
    try:
        return scope_stats(scope, period)
    finally:
        market_read.applies = real


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p.start}-{p.end}-{p.granularity}")
def test_the_one_round_trip_read_equals_the_general_read(data, period) -> None:
    scope = market_scope(data.market)
    fast = scope_stats(scope, period)
    assert fast == general(scope, period)


def test_they_agree_with_a_target_a_shared_vendor_and_onboarders_phones(data) -> None:
    scope = market_scope(data.market)
    target_set(
        actor=data.cast.board, scope=scope, coverage=Decimal("0.9"), active=Decimal("0.6"), deadline=D(2027, 6, 30)
    )
    # v2 also sells in the other market (a payment placed there), on a day she sells here.
    PaymentFactory(vendor=data.v2, market=data.cast.other_market, amount=33_000, occurred_at=vn(11, 10, 15))
    # Onboarders: one with a phone on record, one who is also a trader (the stall's phone).
    UserPhone.objects.create(user=data.cast.volunteer, phone="+84977123456")
    trader = VendorFactory(market=data.cast.other_market, phone="+84911222333", user=UserFactory(username="chi.ba"))
    VendorFactory(market=data.market, stall_label="D-01", onboarded_at=vn(11, 5), onboarded_by=trader.user)
    VendorFactory(market=data.market, stall_label="D-02", onboarded_at=vn(11, 6), onboarded_by=None)
    for period in PERIODS:
        fast = scope_stats(scope, period)
        assert fast == general(scope, period)
    stats = scope_stats(scope, PERIODS[0])
    assert stats["target"]["set_by"] == "board"
    assert stats["target"]["coverage"] == 0.9
    by_stall = {row["stall"]: row for row in stats["follow_up"]}
    assert by_stall["D-01"]["onboarded_by"]["phone"] == "0911 222 333"
    assert by_stall["D-02"]["onboarded_by"] is None
    assert by_stall["A-03"]["onboarded_by"]["phone"] == "0977 123 456"


def test_a_market_read_is_one_round_trip_after_the_fold_probe(data) -> None:
    scope = market_scope(data.market)
    scope_stats(scope, PERIODS[0])  # folds what the dataset wrote
    with CaptureQueriesContext(connection) as queries:
        scope_stats(scope, PERIODS[0])
    assert len(queries.captured_queries) == 2
