"""``manage.py seed_demo``: realistic demo data; a second run (even days later)
changes nothing that exists and gives nothing to what someone made by hand;
never on production by accident."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from chopay.identifiers import is_valid_merchant_code
from demo.seed import demo_merchant_code
from market.models import BoardMember, Market, ProvinceOfficer, VolunteerAssignment
from payments.models import Payment, local_date
from tests.factories import MarketFactory, UserFactory, VendorFactory
from vendors.models import Vendor
from vendors.services import normalize_account_name

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _embedded(settings):
    # The command guards production databases; the test database stands in for
    # an embedded one unless a test says otherwise.
    settings.EMBEDDED = True


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--vendors-per-market", "5", *args, stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (
        Market.objects.count(),
        Vendor.objects.count(),
        get_user_model().objects.count(),
        BoardMember.objects.count(),
        VolunteerAssignment.objects.count(),
        ProvinceOfficer.objects.count(),
        Payment.objects.count(),
    )


def test_it_runs_twice_without_duplicating():
    first_output = _seed()
    first = _counts()
    _seed()

    assert _counts() == first
    assert first[0] == 12
    assert first[1] == 12 * 5
    assert "12 markets" in first_output


def test_it_gives_active_vendors_demo_payments_up_to_today():
    _seed("--payment-days", "7")

    payments = Payment.objects.all()
    assert payments.exists()
    assert not payments.filter(vendor__status=Vendor.Status.PENDING).exists()
    assert set(payments.values_list("channel", flat=True)) == {
        "static_qr",
        "dynamic_qr",
        "phone_transfer",
        "code_entry",
    }
    for payment in payments[:200]:
        assert payment.market_id == payment.vendor.market_id
        assert payment.local_date == local_date(payment.occurred_at)
        assert payment.amount > 0 and payment.amount % 1000 == 0


def test_it_creates_the_former_bac_kan_pilot_markets_in_thai_nguyen():
    _seed()

    pilots = Market.objects.filter(legacy_province_id="06")
    assert pilots.count() >= 5
    assert set(pilots.values_list("province_id", flat=True)) == {"19"}
    for market in pilots:
        # The ward really is in Thái Nguyên; the market's province follows it.
        assert market.ward.province_id == market.province_id == "19"
    assert Market.objects.filter(code="BK-BANGLUNG", ward__name="Xã Chợ Đồn").exists()


def test_it_gives_every_market_a_board_member_and_a_volunteer():
    _seed()

    for market in Market.objects.all():
        assert market.board_members.exists(), market.code
        assert market.volunteer_assignments.exists(), market.code
        assert market.stall_count > 0
        assert market.cashless_since is not None
    assert ProvinceOfficer.objects.filter(province_id="19").exists()


def test_it_creates_vendors_that_pass_the_apis_own_checks():
    _seed()

    for vendor in Vendor.objects.select_related("market"):
        assert is_valid_merchant_code(vendor.merchant_code)
        assert vendor.phone.startswith("+84") and len(vendor.phone) == 12
        assert vendor.account_name == normalize_account_name(vendor.full_name)
        assert vendor.onboarded_by is not None
        vendor.full_clean()
    assert Vendor.objects.filter(user__isnull=False).count() == 1


def test_it_creates_demo_logins_that_work():
    from rest_framework.test import APIClient

    _seed()
    client = APIClient()

    assert client.login(username="sct.thainguyen", password="cho40-demo")
    assert client.get("/api/v1/markets/").json()["count"] == 12


def test_it_adds_missing_vendors_on_a_second_run():
    _seed()
    call_command("seed_demo", "--vendors-per-market", "7", stdout=io.StringIO())

    assert Vendor.objects.count() == 12 * 7


def test_it_refuses_a_production_database_without_force(settings):
    settings.EMBEDDED = False

    with pytest.raises(CommandError, match="--force"):
        _seed()

    assert Market.objects.count() == 0


def test_it_loads_a_production_database_with_force(settings):
    settings.EMBEDDED = False

    _seed("--force")

    assert Market.objects.count() == 12


def test_it_refills_a_deleted_vendor():
    _seed()
    Vendor.objects.filter(market__code="TN-THAI").order_by("id")[1].delete()

    _seed()

    assert Vendor.objects.count() == 12 * 5


def test_it_seeds_the_default_size():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    assert Vendor.objects.count() == 12 * 30
    assert "360 vendors" in out.getvalue()


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model the demo writes, all columns (``updated_at`` too)."""
    models = [Market, Vendor, get_user_model(), BoardMember, VolunteerAssignment, ProvinceOfficer, Payment]
    return {model.__name__: list(model.objects.order_by("pk").values_list()) for model in models}


def _days_later(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    later = timezone.now() + dt.timedelta(days=days)
    monkeypatch.setattr(timezone, "now", lambda: later)


def test_it_changes_nothing_that_exists_on_a_second_run_days_later(monkeypatch):
    _seed()
    thai = Market.objects.get(code="TN-THAI")
    by_hand = VendorFactory(market=thai, full_name="Lường Thị Nhung")
    renamed = Market.objects.get(code="BK-CHORA")
    renamed.name = "Chợ Chợ Rã (mới)"
    renamed.save()
    before = _snapshot()

    _days_later(monkeypatch, 3)
    out = _seed()

    assert _snapshot() == before
    assert not by_hand.payments.exists()
    assert "Created 0 markets, 0 vendors, 0 demo payments" in out


def test_it_gives_payments_only_to_the_vendors_it_creates(monkeypatch):
    _seed()
    by_hand = VendorFactory(market=Market.objects.get(code="TN-THAI"))
    already_there = set(Vendor.objects.values_list("pk", flat=True))
    payments_before = Payment.objects.count()

    _days_later(monkeypatch, 2)
    call_command("seed_demo", "--vendors-per-market", "8", stdout=io.StringIO())

    assert not by_hand.payments.exists()
    added = Payment.objects.exclude(vendor__in=already_there)
    assert Payment.objects.count() == payments_before + added.count()
    assert added.exists()
    assert set(added.values_list("vendor__merchant_code", flat=True)) <= {
        demo_merchant_code(market_index=index, n=n) for index in range(12) for n in range(5, 8)
    }


def test_it_leaves_users_with_demo_names_alone():
    admin = UserFactory(username="admin", password="theirs", first_name="Chị Mai")
    board = UserFactory(username="bql.tn.thai")
    trader = UserFactory(username="tt.demo")
    before = {user.pk: user.password for user in (admin, board, trader)}

    _seed()

    admin.refresh_from_db()
    assert not admin.is_superuser and not admin.is_staff
    assert admin.first_name == "Chị Mai"
    assert {u.pk: u.password for u in get_user_model().objects.filter(pk__in=before)} == before
    assert not BoardMember.objects.filter(user=board).exists()
    assert not Vendor.objects.filter(user=trader).exists()
    # The other demo logins are made and given their roles as usual.
    assert BoardMember.objects.filter(user__username="bql.tn.dongquang", market__code="TN-DONGQUANG").exists()


def test_it_leaves_a_demo_merchant_code_someone_else_has():
    code = demo_merchant_code(market_index=0, n=0)
    elsewhere = VendorFactory(merchant_code=code, market=MarketFactory())
    before = Vendor.objects.filter(pk=elsewhere.pk).values_list().get()

    _seed()

    assert Vendor.objects.filter(pk=elsewhere.pk).values_list().get() == before
    assert not elsewhere.payments.exists()
    assert Vendor.objects.filter(market__code="TN-THAI").count() == 4


def test_it_gives_the_former_bac_kan_markets_their_pilot_history_and_no_one_else():
    _seed("--vendors-per-market", "12", "--payment-days", "30")

    before_2025 = Payment.objects.filter(local_date__lt=dt.date(2025, 1, 1))
    assert before_2025.exists()
    assert set(before_2025.values_list("market__legacy_province_id", flat=True)) == {"06"}
    # Nothing between the end of the pilot and the last 30 days.
    gap = Payment.objects.filter(
        local_date__gt=dt.date(2024, 12, 31), local_date__lt=local_date(timezone.now()) - dt.timedelta(days=30)
    )
    assert not gap.exists()


def test_no_trader_is_paid_before_joining_and_some_joined_recently():
    _seed("--vendors-per-market", "12", "--payment-days", "30")

    for payment in Payment.objects.select_related("vendor")[:2000]:
        assert payment.local_date >= local_date(payment.vendor.onboarded_at)
    recent = timezone.now() - dt.timedelta(days=120)
    assert Vendor.objects.filter(onboarded_at__gte=recent).count() >= 12  # a few in every market


def test_a_few_receipts_are_refunded_or_disputed_with_their_events():
    _seed("--vendors-per-market", "30", "--payment-days", "90")

    refunded = Payment.objects.filter(status=Payment.Status.REFUNDED)
    disputed = Payment.objects.filter(status=Payment.Status.DISPUTED)
    total = Payment.objects.count()
    assert 0 < refunded.count() < total / 50
    assert 0 < disputed.count() < total / 50
    for payment in [*refunded[:5], *disputed[:5]]:
        assert payment.events.filter(kind=f"status:{payment.status}").exists()


def test_it_sets_the_province_target_and_a_board_target_once():
    from stats.models import Target

    _seed()
    province = Target.objects.get(province_id="19")
    assert (province.coverage, province.active, province.deadline) == (1, Decimal("0.6"), dt.date(2027, 6, 30))
    assert province.set_by.username == "sct.thainguyen"
    assert Target.objects.get(market__code="TN-THAI").set_by.username == "bql.tn.thai"

    province.active = Decimal("0.5")
    province.save()
    _seed()
    province.refresh_from_db()
    assert province.active == Decimal("0.5")  # a target someone changed stays as it is
    assert Target.objects.count() == 2


def test_it_leaves_the_statistics_current():
    from stats.models import MarketDay, PaymentChange

    _seed("--payment-days", "7")
    assert not PaymentChange.objects.exists()
    succeeded = Payment.objects.filter(status=Payment.Status.SUCCEEDED, market__isnull=False).count()
    folded = MarketDay.objects.filter(status=Payment.Status.SUCCEEDED).aggregate(n=Sum("count"))["n"]
    assert folded == succeeded > 0
