"""``rebuild`` and ``python manage.py rebuild_stats``: recomputed from the raw
payments, for everything or one market from one date on, row for row what
the incremental fold gives."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from payments.models import Payment
from stats.folding import fold_pending, rebuild
from stats.models import MarketDay, VendorActivity, VendorDay
from tests.factories import PaymentFactory, VendorFactory
from tests.stats.support import expected_tables, rollup_tables

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 30)


def pay(vendor, amount=50_000, day=DAY, **kwargs):
    return PaymentFactory(vendor=vendor, amount=amount, local_date=day, **kwargs)


def some_payments(cast):
    far_vendor = VendorFactory(market=cast.far_market)
    for offset, amount in enumerate((5_000, 19_999, 20_000, 99_999, 100_000, 499_999, 500_000)):
        pay(cast.vendor, amount, day=DAY - dt.timedelta(days=offset))
        pay(cast.other_vendor, amount + 1, day=DAY - dt.timedelta(days=offset % 3), channel="code_entry")
        pay(far_vendor, amount, day=DAY - dt.timedelta(days=offset % 2), status="refunded")
    PaymentFactory(vendor=None, market=cast.market, local_date=DAY, attribution="unmatched")
    PaymentFactory(vendor=None, market=None, local_date=DAY)


def test_a_rebuild_equals_the_incremental_fold_row_for_row(cast):
    some_payments(cast)
    fold_pending()
    folded = rollup_tables()

    done = rebuild()

    assert rollup_tables() == folded == expected_tables()
    assert done.folded == 0
    assert done.market_days == MarketDay.objects.count()
    assert done.vendor_days == VendorDay.objects.count()
    assert done.activities == VendorActivity.objects.count()


def test_a_rebuild_folds_what_is_pending_first_and_counts_it_once(cast):
    some_payments(cast)

    done = rebuild()

    assert done.folded == Payment.objects.count()
    assert rollup_tables() == expected_tables()
    assert fold_pending() == 0
    assert rollup_tables() == expected_tables()


def test_a_rebuild_repairs_damaged_rollups(cast):
    some_payments(cast)
    fold_pending()
    MarketDay.objects.update(count=7)
    VendorDay.objects.filter(vendor=cast.vendor).delete()
    VendorActivity.objects.update(active_days=99)

    rebuild()

    assert rollup_tables() == expected_tables()


def test_rebuild_stats_for_one_market_from_one_date_touches_nothing_else(cast):
    some_payments(cast)
    fold_pending()
    since = DAY - dt.timedelta(days=2)
    MarketDay.objects.update(count=7)  # damage everywhere …
    VendorDay.objects.update(count=7)
    VendorActivity.objects.filter(vendor=cast.vendor).update(active_days=99)
    out = StringIO()

    call_command("rebuild_stats", "--market", str(cast.market.pk), "--from", since.isoformat(), stdout=out)

    expected = expected_tables()
    tables = rollup_tables()
    # … repaired in scope: the market, from that date;
    for name in ("market_days", "vendor_days"):
        in_scope = {k: v for k, v in expected[name].items() if _market(name, k) == cast.market.pk and k[1] >= since}
        assert {k: v for k, v in tables[name].items() if k in in_scope} == in_scope
        # … left alone outside it.
        outside = {k for k in tables[name] if _market(name, k) != cast.market.pk or k[1] < since}
        assert outside and all(tables[name][k][0] == 7 for k in outside)
    # The market's vendors' activity is recomputed from all their days.
    assert tables["activity"][(cast.vendor.pk,)] == expected["activity"][(cast.vendor.pk,)]
    assert out.getvalue().startswith(f"Rebuilt the statistics of market {cast.market.pk}, from {since.isoformat()}:")


def _market(name: str, key: tuple) -> int:
    return key[0] if name == "market_days" else key[2]


def test_rebuild_stats_without_options_rebuilds_everything(cast):
    some_payments(cast)
    out = StringIO()

    call_command("rebuild_stats", stdout=out)

    assert rollup_tables() == expected_tables()
    assert f"({Payment.objects.count()} pending changes folded first)" in out.getvalue()
    assert out.getvalue().startswith("Rebuilt the statistics of every market, all days:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-30"], "is not a date"),
        (["--market", "999999"], "no market with id 999999"),
    ],
)
def test_rebuild_stats_refuses_a_bad_option(cast, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("rebuild_stats", *args)
