"""Factories for the small cast every test uses."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from chopay.identifiers import damm_check_digit
from market.models import BoardMember, Market, ProvinceOfficer, VolunteerAssignment, Ward
from vendors.models import Vendor

User = get_user_model()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("password")


class MarketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Market

    name = factory.Sequence(lambda n: f"Chợ Số {n}")
    code = factory.Sequence(lambda n: f"TEST-{n}")
    # Thái Nguyên (19): Phường Phan Đình Phùng by default.
    ward = factory.LazyFunction(lambda: Ward.objects.filter(province_id="19").order_by("code").first())
    province = factory.LazyAttribute(lambda o: o.ward.province)
    stall_count = 100
    status = Market.Status.ACTIVE


_phone_seq = iter(range(10_000_000))


def _phone() -> str:
    return f"+8491{next(_phone_seq):07d}"


def _merchant_code(n: int) -> str:
    """A valid code (check digit) distinct for every factory vendor: random ones collided
    now and then in a test that makes a thousand vendors (about 1 run in 18)."""
    body = str(1_000_000 + (n * 7_919 + 4_242) % 9_000_000)
    return body + damm_check_digit(body)


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    market = factory.SubFactory(MarketFactory)
    full_name = factory.Sequence(lambda n: f"Nguyễn Thị Hoà {n}")
    phone = factory.LazyFunction(_phone)
    stall_label = factory.Sequence(lambda n: f"A-{n}")
    bank_id = "970436"
    account_number = factory.Sequence(lambda n: f"1012{n:08d}")
    account_name = factory.LazyAttribute(lambda o: "NGUYEN THI HOA")
    merchant_code = factory.Sequence(lambda n: _merchant_code(n))
    status = Vendor.Status.ACTIVE


def make_officer(province_code: str = "19", username: str = "officer") -> User:
    user = UserFactory(username=username)
    ProvinceOfficer.objects.create(user=user, province_id=province_code)
    return user


def make_board(market: Market, username: str = "board") -> User:
    user = UserFactory(username=username)
    BoardMember.objects.create(user=user, market=market)
    return user


def make_volunteer(market: Market, username: str = "volunteer") -> User:
    user = UserFactory(username=username)
    VolunteerAssignment.objects.create(user=user, market=market)
    return user


def make_vendor_user(vendor: Vendor, username: str = "vendor") -> User:
    user = UserFactory(username=username)
    vendor.user = user
    vendor.save(update_fields=["user"])
    return user


# Appended with the payments read side; imports kept here so the lines above stay untouched.
from django.utils import timezone  # noqa: E402

from payments.models import Payment  # noqa: E402
from payments.models import local_date as vietnam_date  # noqa: E402


class PaymentFactory(factory.django.DjangoModelFactory[Payment]):
    """A recorded credit. ``vendor=None`` makes an unmatched one (give ``market``
    or leave it empty); ``local_date`` follows ``occurred_at`` in Vietnam time."""

    class Meta:
        model = Payment

    vendor = factory.SubFactory(VendorFactory)
    market = factory.LazyAttribute(lambda o: o.vendor.market if o.vendor else None)
    amount = 50_000
    channel = "static_qr"
    source = "sepay"
    provider_txn_id = factory.Sequence(lambda n: f"TXN{n:08d}")
    provider_reference = factory.Sequence(lambda n: f"FT{n:010d}")
    status = "succeeded"
    attribution = factory.LazyAttribute(lambda o: "account" if o.vendor else "unmatched")
    receiving_account = factory.LazyAttribute(lambda o: o.vendor.account_number if o.vendor else "")
    occurred_at = factory.LazyFunction(timezone.now)
    local_date = factory.LazyAttribute(lambda o: vietnam_date(o.occurred_at))
