"""Folding the change log: the rollups equal a direct aggregate of the raw
payments after any sequence of writes, folding twice changes nothing, and a
fold that fails leaves everything to the next one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.ledger.services import payment_reassign, payment_refund, payment_resolve_dispute
from payments.models import Payment
from stats import folding, folding_pg
from stats.folding import ensure_current, fold_pending
from stats.models import MarketDay, PaymentChange, VendorActivity, VendorDay
from stats.tasks import fold_changes
from tests.factories import PaymentFactory, VendorFactory
from tests.stats.support import expected_tables, rollup_tables

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 30)


def pay(vendor, amount=50_000, day=DAY, **kwargs):
    return PaymentFactory(vendor=vendor, amount=amount, local_date=day, **kwargs)


def test_it_folds_payments_into_market_days_vendor_days_and_activity(cast):
    pay(cast.vendor, 19_999)
    pay(cast.vendor, 20_000)
    pay(cast.vendor, 20_000, channel="dynamic_qr")
    pay(cast.vendor, 600_000, day=DAY + dt.timedelta(days=1))
    pay(cast.other_vendor, 100_000, status="pending")

    assert fold_pending() == 5

    assert rollup_tables() == expected_tables()
    assert (
        MarketDay.objects.get(market=cast.market, local_date=DAY, channel="static_qr", size_bucket="lt50k").count == 1
    )
    assert MarketDay.objects.get(market=cast.market, local_date=DAY, size_bucket="lt20k").value == 19_999
    day = VendorDay.objects.get(vendor=cast.vendor, local_date=DAY)
    assert (day.count, day.value, day.market_id) == (3, 59_999, cast.market.pk)
    activity = VendorActivity.objects.get(vendor=cast.vendor)
    assert (activity.first_active_date, activity.last_active_date, activity.active_days) == (
        DAY,
        DAY + dt.timedelta(days=1),
        2,
    )
    # A pending payment is counted under its status, and makes no active day.
    assert MarketDay.objects.get(market=cast.other_market).status == "pending"
    assert not VendorDay.objects.filter(vendor=cast.other_vendor).exists()
    assert PaymentChange.objects.count() == 0


def test_folding_again_changes_nothing(cast):
    pay(cast.vendor)
    fold_pending()
    before = rollup_tables()

    assert fold_pending() == 0
    assert rollup_tables() == before == expected_tables()


def test_a_refund_moves_the_payment_to_refunded_and_removes_the_active_day(cast):
    payment = pay(cast.vendor, 45_000)
    fold_pending()

    payment_refund(actor=cast.board, payment=payment)
    fold_pending()

    assert list(MarketDay.objects.values_list("status", "count", "value")) == [("refunded", 1, 45_000)]
    assert not VendorDay.objects.exists()  # count 0: the row is gone, as a rebuild would leave it
    assert not VendorActivity.objects.exists()
    assert rollup_tables() == expected_tables()


def test_a_dispute_resolved_for_the_vendor_counts_once_again(cast):
    payment = pay(cast.vendor, 45_000)
    fold_pending()
    payment.transition(Payment.Status.DISPUTED)
    fold_pending()
    assert not VendorDay.objects.exists()

    payment_resolve_dispute(actor=cast.board, payment=payment)
    fold_pending()

    assert list(MarketDay.objects.values_list("status", "count")) == [("succeeded", 1)]
    assert VendorDay.objects.get().count == 1
    assert rollup_tables() == expected_tables()


def test_a_reassigned_payment_moves_its_active_day_to_the_new_vendor(cast):
    payment = pay(cast.vendor, 30_000, attribution="account")
    pay(cast.vendor, 10_000, day=DAY - dt.timedelta(days=3))
    neighbour = VendorFactory(market=cast.market)
    fold_pending()

    payment_reassign(actor=cast.board, payment=payment, vendor=neighbour)
    fold_pending()

    assert VendorDay.objects.get(vendor=neighbour).local_date == DAY
    assert list(VendorDay.objects.filter(vendor=cast.vendor).values_list("local_date", flat=True)) == [
        DAY - dt.timedelta(days=3)
    ]
    assert VendorActivity.objects.get(vendor=cast.vendor).last_active_date == DAY - dt.timedelta(days=3)
    assert VendorActivity.objects.get(vendor=neighbour).active_days == 1
    assert MarketDay.objects.get(size_bucket="lt50k").count == 1  # the market's own figures do not move
    assert rollup_tables() == expected_tables()


def test_a_credit_without_a_market_is_counted_once_it_is_placed(cast):
    payment = PaymentFactory(vendor=None, market=None, local_date=DAY)
    fold_pending()
    assert (
        rollup_tables()
        == expected_tables()
        == {"market_days": {}, "vendor_days": {}, "vendor_months": {}, "market_day_active": {}, "activity": {}}
    )

    Payment.objects.filter(pk=payment.pk).update(vendor=cast.vendor, market=cast.market)
    fold_pending()

    assert VendorDay.objects.get().vendor_id == cast.vendor.pk
    assert rollup_tables() == expected_tables()


def test_an_amount_corrected_across_a_bucket_edge_moves_buckets(cast):
    payment = pay(cast.vendor, 499_999)
    fold_pending()

    Payment.objects.filter(pk=payment.pk).update(amount=500_000)
    fold_pending()

    assert list(MarketDay.objects.values_list("size_bucket", "value")) == [("ge500k", 500_000)]
    assert VendorDay.objects.get().value == 500_000


def test_a_deleted_payment_leaves_no_row_behind(cast):
    payment = pay(cast.vendor)
    fold_pending()

    payment.delete()
    fold_pending()

    assert rollup_tables() == {
        "market_days": {},
        "vendor_days": {},
        "vendor_months": {},
        "market_day_active": {},
        "activity": {},
    }


def test_a_fold_that_fails_midway_folds_nothing_and_the_next_one_folds_it_all(cast, monkeypatch):
    pay(cast.vendor, 45_000)
    fold_pending()
    pay(cast.vendor, 45_000, day=DAY + dt.timedelta(days=1))
    pay(cast.other_vendor, 70_000)
    before = rollup_tables()

    def crash(*vendors):
        raise RuntimeError("worker killed after the upserts")

    monkeypatch.setattr(folding, "_refresh_activity", crash)  # SQLite
    monkeypatch.setattr(folding_pg, "refresh_activity", crash)  # PostgreSQL
    with pytest.raises(RuntimeError):
        fold_pending()

    assert rollup_tables() == before
    assert PaymentChange.objects.count() == 2
    monkeypatch.undo()
    assert fold_pending() == 2
    assert rollup_tables() == expected_tables()


def test_it_folds_in_batches(cast, monkeypatch):
    monkeypatch.setattr(folding, "FOLD_BATCH", 2)
    monkeypatch.setattr(folding, "FOLD_BATCH_PG", 2)
    for amount in (10_000, 20_000, 30_000, 40_000, 50_000):
        pay(cast.vendor, amount)

    assert fold_pending(max_rows=3) == 3
    assert PaymentChange.objects.count() == 2
    assert fold_pending() == 2
    assert rollup_tables() == expected_tables()


def test_a_read_folds_what_is_pending_up_to_the_configured_bound(cast, settings):
    settings.STATS_READ_FOLD_MAX = 2
    for amount in (10_000, 20_000, 30_000):
        pay(cast.vendor, amount)

    assert ensure_current() == 2
    assert ensure_current() == 1
    assert rollup_tables() == expected_tables()


def test_a_read_with_nothing_pending_costs_one_query(cast):
    pay(cast.vendor)
    fold_pending()

    with CaptureQueriesContext(connection) as queries:
        assert ensure_current() == 0

    assert len(queries) == 1


def test_the_beat_task_folds_every_pending_change(cast):
    pay(cast.vendor)
    pay(cast.other_vendor)

    fold_changes.delay()

    assert PaymentChange.objects.count() == 0
    assert rollup_tables() == expected_tables()


def test_beat_folds_every_15_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["stats-fold-changes"]

    assert (entry["task"], entry["schedule"]) == ("stats.fold_changes", 15.0)
