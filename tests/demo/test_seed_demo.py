"""``manage.py seed_demo``: realistic, idempotent demo data; never on production by accident."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from market.models import BoardMember, Market, ProvinceOfficer, VolunteerAssignment
from payments.models import Payment, local_date
from vendors.identifiers import is_valid_merchant_code
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
    from django.contrib.auth import get_user_model

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
