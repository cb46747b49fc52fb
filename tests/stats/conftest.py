"""A small market a board member could count by hand (November 2026).

Chợ Đồng Quang (``cast.market``, 10 stalls):
- v1 Nguyễn Thị Hoà (``cast.vendor``), QR, onboarded June by the board:
  20 Oct 40k; 2 Nov 08:00 50k static; 2 Nov 23:30 120k dynamic (still the
  2nd); 30 Nov 23:30 15k code entry (still the 30th); 1 Dec 00:15 30k (December);
  3 Nov 999 failed; 5 Nov 200k refunded; 6 Nov 600k disputed.
- v2, QR, onboarded 1 Sep by the volunteer Lê Văn Tình (0987 654 321):
  5–12 Sep 10k a day (8 days); 10 Nov 75k phone transfer; 11 Nov 25k static.
- v3, QR, onboarded 3 Nov by Tình: never paid (on the follow-up list).
- v4, pending (no QR yet), onboarded 20 Nov by Tình.
- v5, suspended, onboarded January.
- v6, QR, onboarded 1 Oct 00:30 Vietnam time (30 Sep in UTC) by ``cast.volunteer``:
  15 Oct 60k, then nothing (follow-up, last receipt 15 Oct).
- an unmatched credit of 45k on 12 Nov (no vendor yet).
Chợ Thái (``cast.other_market``, 5 stalls, former Bắc Kạn): ``cast.other_vendor``, 15 Nov 500k.
Chợ Hôm (``cast.far_market``, Hà Nội, 4 stalls): one vendor, 20 Nov 10k.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from market.models import Market, VolunteerAssignment
from tests.conftest import Cast
from tests.factories import PaymentFactory, UserFactory, VendorFactory
from vendors.models import Vendor

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOVEMBER = ("2026-11-01", "2026-11-30")


def vn(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=VN)


@dataclass
class Data:
    cast: Cast
    v1: Vendor
    v2: Vendor
    v3: Vendor
    v4: Vendor
    v5: Vendor
    v6: Vendor
    far_vendor: Vendor
    helper: object  # the volunteer Lê Văn Tình, signed in with his phone number

    @property
    def market(self) -> Market:
        return self.cast.market


@pytest.fixture
def data(cast: Cast) -> Data:
    market, other, far = cast.market, cast.other_market, cast.far_market
    Market.objects.filter(pk=market.pk).update(stall_count=10)
    Market.objects.filter(pk=other.pk).update(stall_count=5, legacy_province_id="06")
    Market.objects.filter(pk=far.pk).update(stall_count=4)
    helper = UserFactory(username="0987654321", first_name="Tình", last_name="Lê Văn")
    VolunteerAssignment.objects.create(user=helper, market=market)

    v1 = cast.vendor
    Vendor.objects.filter(pk=v1.pk).update(onboarded_at=vn(6, 15), onboarded_by=cast.board)
    v2 = VendorFactory(
        market=market, full_name="Phạm Thị Lan", stall_label="B-01", onboarded_at=vn(9, 1), onboarded_by=helper
    )
    v3 = VendorFactory(
        market=market,
        full_name="Đỗ Văn Nam",
        stall_label="C-07",
        phone="+84912000333",
        onboarded_at=vn(11, 3),
        onboarded_by=helper,
    )
    v4 = VendorFactory(market=market, status=Vendor.Status.PENDING, onboarded_at=vn(11, 20), onboarded_by=helper)
    v5 = VendorFactory(market=market, status=Vendor.Status.SUSPENDED, onboarded_at=vn(1, 10))
    v6 = VendorFactory(
        market=market,
        full_name="Vũ Thị Mai",
        stall_label="A-03",
        onboarded_at=vn(10, 1, 0, 30),
        onboarded_by=cast.volunteer,
    )
    Vendor.objects.filter(pk=cast.other_vendor.pk).update(onboarded_at=vn(2, 1))
    far_vendor = VendorFactory(market=far, onboarded_at=vn(3, 1))

    pay = PaymentFactory.create
    pay(vendor=v1, amount=40_000, occurred_at=vn(10, 20))
    pay(vendor=v1, amount=50_000, channel="static_qr", occurred_at=vn(11, 2, 8))
    pay(vendor=v1, amount=120_000, channel="dynamic_qr", occurred_at=vn(11, 2, 23, 30))
    pay(vendor=v1, amount=15_000, channel="code_entry", occurred_at=vn(11, 30, 23, 30))
    pay(vendor=v1, amount=30_000, occurred_at=vn(12, 1, 0, 15))
    pay(vendor=v1, amount=999, status="failed", occurred_at=vn(11, 3))
    pay(vendor=v1, amount=200_000, status="refunded", occurred_at=vn(11, 5))
    pay(vendor=v1, amount=600_000, status="disputed", occurred_at=vn(11, 6))
    for day in range(5, 13):
        pay(vendor=v2, amount=10_000, occurred_at=vn(9, day))
    pay(vendor=v2, amount=75_000, channel="phone_transfer", occurred_at=vn(11, 10))
    pay(vendor=v2, amount=25_000, channel="static_qr", occurred_at=vn(11, 11))
    pay(vendor=v6, amount=60_000, occurred_at=vn(10, 15))
    pay(vendor=None, market=market, amount=45_000, receiving_account="999000111", occurred_at=vn(11, 12))
    pay(vendor=cast.other_vendor, amount=500_000, occurred_at=vn(11, 15))
    pay(vendor=far_vendor, amount=10_000, occurred_at=vn(11, 20))
    # A credit no market could be found for: in no scope at all.
    pay(vendor=None, market=None, amount=70_000, receiving_account="123123123", occurred_at=vn(11, 21))
    return Data(cast, v1, v2, v3, v4, v5, v6, far_vendor, helper)
