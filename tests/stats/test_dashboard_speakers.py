"""The market page's "speaker silent" list: the stalls paid today whose phone
did not announce the money aloud, and today's delay from credit to announcement."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from payments.models import Payment
from payments.receipts.services import receipt_announce
from tests.factories import PaymentFactory, VendorFactory

pytestmark = pytest.mark.django_db


def page_of(user: Any, market: Any) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/dashboard/markets/{market.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def paid(vendor: Any, *, minutes_ago: int, amount: int = 64_000) -> Payment:
    payment = PaymentFactory(vendor=vendor, amount=amount)
    Payment.objects.filter(pk=payment.pk).update(recorded_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    payment.refresh_from_db()
    return payment


def test_a_stall_paid_while_its_phone_stayed_silent_is_listed_with_the_phone_to_call(cast: Any) -> None:
    loud = VendorFactory(market=cast.market, full_name="Lê Thị Vang", stall_label="B-03")
    heard = paid(loud, minutes_ago=10)
    receipt_announce(vendor=loud, payment_id=heard.pk, device_id="phone-b03", method="speech")
    paid(cast.vendor, minutes_ago=10)
    paid(cast.vendor, minutes_ago=8)
    paid(cast.vendor, minutes_ago=0)  # within the grace period: not yet counted

    html = page_of(cast.board, cast.market)

    section = html[html.index('id="silent-h"') :]
    assert "Nguyễn Thị Hoà" in section and "A-12" in section
    assert "2 / 3" in section  # two not announced of three paid today
    assert "Lê Thị Vang" not in section
    assert "Loa im lặng" in html
    # one payment announced aloud today, its delay shown in seconds
    assert "1 khoản được đọc to" in html


def test_announced_only_silently_still_counts_as_silent(cast: Any) -> None:
    payment = paid(cast.vendor, minutes_ago=5)
    receipt_announce(vendor=cast.vendor, payment_id=payment.pk, device_id="muted-phone", method="silent")

    section = page_of(cast.board, cast.market)
    assert "1 / 1" in section[section.index('id="silent-h"') :]


def test_no_silent_stall_says_so_and_another_markets_stalls_never_show(cast: Any) -> None:
    paid(cast.other_vendor, minutes_ago=30)

    html = page_of(cast.board, cast.market)

    assert "Trần Văn Bình" not in html
    assert "Chưa có khoản nào được đọc to" in html
    assert 'class="table speaker-silent"' not in html
    assert "Hôm nay không có sạp nào nhận tiền mà điện thoại không đọc to trong vòng 2 phút." in html
