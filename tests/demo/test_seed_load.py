"""``manage.py seed_load``: load data for benchmarks, PostgreSQL only, with the
shapes the statistics must cope with, refusing to mix two loads, and rollups
that equal a direct aggregate of the payments it wrote."""

from __future__ import annotations

import io
import statistics
from collections import Counter
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Sum

from market.models import Market
from payments.models import Payment
from stats.folding import fold_pending
from stats.models import MarketDay, VendorDay
from tests.conftest import needs_postgres
from tests.factories import PaymentFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def seed(*extra: str) -> str:
    out = io.StringIO()
    call_command("seed_load", "--payments", "2000", "--vendors", "30", "--seed", "7", *extra, stdout=out)
    return out.getvalue()


def assert_rollups_equal_raw() -> None:
    raw_market = {
        (row["market_id"], row["local_date"], row["channel"], row["status"]): (row["n"], row["v"])
        for row in Payment.objects.values("market_id", "local_date", "channel", "status").annotate(
            n=Count("id"), v=Sum("amount")
        )
    }
    rolled: Counter[tuple[object, ...]] = Counter()
    values: Counter[tuple[object, ...]] = Counter()
    for row in MarketDay.objects.all():
        key = (row.market_id, row.local_date, row.channel, row.status)
        rolled[key] += row.count
        values[key] += row.value
    assert {key: (rolled[key], values[key]) for key in rolled} == raw_market
    raw_vendor = {
        (row["vendor_id"], row["local_date"]): (row["n"], row["v"])
        for row in Payment.objects.filter(status="succeeded", vendor__isnull=False)
        .values("vendor_id", "local_date")
        .annotate(n=Count("id"), v=Sum("amount"))
    }
    assert {(r.vendor_id, r.local_date): (r.count, r.value) for r in VendorDay.objects.all()} == raw_vendor


def test_it_refuses_sqlite_with_a_clear_error() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("checks the refusal on SQLite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        seed()
    assert not Market.objects.filter(code__startswith="LOAD-").exists()


def test_it_fills_realistic_markets_vendors_and_payments() -> None:
    needs_postgres()
    out = seed()
    assert "2000 payments" in out
    markets = Market.objects.filter(code__startswith="LOAD-")
    assert markets.count() == 50
    assert markets.values("province").distinct().count() >= 6
    bac_kan = markets.filter(legacy_province_id="06")
    assert bac_kan.exists() and set(bac_kan.values_list("province_id", flat=True)) == {"19"}
    for market in markets:
        vendors = Vendor.objects.filter(market=market)
        with_qr = vendors.filter(status="active").count()
        assert 0 < with_qr < vendors.count() < market.stall_count  # coverage well below 100 %
    payments = Payment.objects.filter(market__code__startswith="LOAD-")
    assert payments.count() == 2000
    assert payments.values("provider_txn_id").distinct().count() == 2000
    paid_vendors = payments.filter(vendor__isnull=False).values("vendor").distinct().count()
    assert paid_vendors < 0.9 * Vendor.objects.filter(status="active", market__in=markets).count()
    assert not payments.filter(vendor__status__in=["pending", "suspended"]).exists()
    amounts = list(payments.values_list("amount", flat=True))
    assert 25_000 <= statistics.median(amounts) <= 80_000
    assert sum(10_000 <= a <= 200_000 for a in amounts) / 2000 > 0.8
    assert max(amounts) > 500_000  # the long tail
    channels = Counter(payments.values_list("channel", flat=True))
    assert set(channels) == {"static_qr", "dynamic_qr", "phone_transfer", "code_entry"}
    assert channels.most_common(1)[0][0] == "static_qr"
    statuses = Counter(payments.values_list("status", flat=True))
    assert 0.93 < statuses["succeeded"] / 2000 < 0.995
    assert statuses["refunded"] + statuses["disputed"] > 0
    # Skewed activity: the busiest tenth of paid vendors receive far more than a tenth.
    per_vendor = sorted(
        payments.filter(vendor__isnull=False).values("vendor").annotate(n=Count("id")).values_list("n", flat=True),
        reverse=True,
    )
    assert sum(per_vendor[: len(per_vendor) // 10]) > 0.3 * sum(per_vendor)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM payments_payment "
            "WHERE (occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <> local_date"
        )
        assert cursor.fetchone() == (0,)


def test_its_rollups_equal_a_direct_aggregate_of_the_payments() -> None:
    needs_postgres()
    seed()
    assert_rollups_equal_raw()
    assert MarketDay.objects.exists()


def test_with_triggers_the_change_log_folds_to_the_same_rollups() -> None:
    needs_postgres()
    seed("--with-triggers")
    assert fold_pending() > 0
    assert_rollups_equal_raw()


def test_a_second_run_is_refused_and_reset_replaces_the_load() -> None:
    needs_postgres()
    seed()
    first_ids = set(Market.objects.filter(code__startswith="LOAD-").values_list("id", flat=True))
    with pytest.raises(CommandError, match="--reset"):
        seed()
    assert Payment.objects.count() == 2000
    out = seed("--reset")
    assert "deleted 50 load markets and 2000 payments" in out
    markets = Market.objects.filter(code__startswith="LOAD-")
    assert markets.count() == 50 and not first_ids & set(markets.values_list("id", flat=True))
    assert Payment.objects.count() == 2000
    assert_rollups_equal_raw()  # nothing left of the first load in the rollups


def test_it_leaves_other_markets_alone(cast: object) -> None:
    needs_postgres()
    before = set(Market.objects.values_list("id", flat=True))
    seed()
    seed("--reset")
    assert before <= set(Market.objects.values_list("id", flat=True))


def test_it_refuses_a_database_with_a_real_ledger_unless_forced(cast: Any) -> None:
    needs_postgres()
    real = PaymentFactory(vendor=cast.vendor)
    with pytest.raises(CommandError, match="scratch database"):
        seed()
    assert not Market.objects.filter(code__startswith="LOAD-").exists()
    seed("--force")
    seed("--reset", "--force")
    assert Payment.objects.filter(market__code__startswith="LOAD-").count() == 2000
    assert Payment.objects.get(pk=real.pk).amount == real.amount  # untouched by the reset
    assert_rollups_equal_raw()
