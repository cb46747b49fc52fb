"""``/stall/``: the trader's own page as the server renders it (without
JavaScript): today's total and receipts of their stall only, in Vietnam time;
who may open it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from payments.models import Payment
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
URL = "/stall/"


def _vietnam_midnight() -> dt.datetime:
    return timezone.now().astimezone(VIETNAM).replace(hour=0, minute=0, second=0, microsecond=0)


def _paid(vendor, amount: int, *, at: dt.datetime | None = None, **fields) -> Any:
    """A credit to ``vendor`` occurred and recorded ``at`` (now by default)."""
    payment = PaymentFactory(vendor=vendor, amount=amount, **fields)
    if at is not None:
        Payment.objects.filter(pk=payment.pk).update(
            occurred_at=at, recorded_at=at, local_date=at.astimezone(VIETNAM).date()
        )
    return payment


def _amounts(html: str) -> list[str]:
    return re.findall(r'data-field="amount_text">([^<]+)<', html)


def test_it_shows_the_trader_today_s_receipts_newest_first_with_the_total(client, cast):
    midnight = _vietnam_midnight()
    _paid(cast.vendor, 35_000, at=midnight + dt.timedelta(minutes=5), payer_masked="NGUYEN VAN A ***789")
    _paid(cast.vendor, 64_000, at=min(midnight + dt.timedelta(minutes=7), timezone.now()), channel="dynamic_qr")
    client.force_login(cast.vendor_user)

    page = client.get(URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert _amounts(html) == ["64.000 ₫", "35.000 ₫"]
    assert re.search(r'data-testid="today-value">99.000 ₫<', html)
    assert re.search(r'data-testid="today-count">2<', html)
    assert ">00:05</time>" in html  # Vietnam time (17:05 UTC the day before)
    assert "NGUYEN VAN A ***789" in html
    assert ">QR động (theo đơn)</span>" in html and ">QR tĩnh</span>" in html  # the channel, translated
    assert re.search(r'data-cursor="[^"]*"', html)
    assert 'data-ack-url="/stall/receipts/0/ack/"' in html


def test_it_works_without_javascript_and_links_the_stall_s_other_pages(client, cast):
    client.force_login(cast.vendor_user)

    html = client.get(URL).content.decode()

    assert "Chưa có khoản nào hôm nay." in html
    assert 'href="/stall/"' in html  # reload
    for path in ("/stall/sale/", "/stall/code/", "/stall/payments/", "/stall/qr.png", "/stall/card.pdf"):
        assert f'href="{path}"' in html
    assert "Bật loa" in html
    assert 'lang="vi"' in html


def test_it_never_shows_another_vendor_s_payments(client, cast):
    _paid(cast.vendor, 20_000)
    _paid(cast.other_vendor, 777_000)
    client.force_login(cast.vendor_user)

    html = client.get(URL).content.decode()

    assert _amounts(html) == ["20.000 ₫"]
    assert "777.000" not in html


@pytest.mark.parametrize("status", ["pending", "failed", "refunded", "disputed"])
def test_it_lists_only_succeeded_credits(client, cast, status):
    _paid(cast.vendor, 20_000)
    _paid(cast.vendor, 55_000, status=status)
    client.force_login(cast.vendor_user)

    html = client.get(URL).content.decode()

    assert _amounts(html) == ["20.000 ₫"]
    assert re.search(r'data-testid="today-value">20.000 ₫<', html)


def test_today_is_the_day_in_vietnam(client, cast):
    midnight = _vietnam_midnight()
    _paid(cast.vendor, 11_000, at=midnight - dt.timedelta(minutes=1))  # yesterday 23:59 in Vietnam
    _paid(cast.vendor, 22_000, at=midnight + dt.timedelta(seconds=30))
    client.force_login(cast.vendor_user)

    html = client.get(URL).content.decode()

    assert _amounts(html) == ["22.000 ₫"]
    assert re.search(r'data-testid="today-count">1<', html)


def test_it_sends_a_visitor_to_sign_in_first(client):
    answer = client.get(URL)

    assert answer.status_code == 302
    assert answer["Location"] == "/login/?next=/stall/"


@pytest.mark.parametrize("who", ["board", "volunteer", "officer", "outsider", "admin"])
def test_it_refuses_whoever_has_no_stall_with_a_page(client, cast, who):
    client.force_login(getattr(cast, who))

    page = client.get(URL)

    assert page.status_code == 403
    html = page.content.decode()
    assert "Chỉ dành cho tiểu thương" in html
    assert 'class="site-header"' in html
    assert "data-stall" not in html


def test_it_speaks_english_after_the_switch(client, cast):
    _paid(cast.vendor, 64_000)
    client.force_login(cast.vendor_user)
    client.post("/i18n/setlang/", {"language": "en", "next": URL})

    html = client.get(URL).content.decode().replace("&#x27;", "'")

    assert "Received today" in html
    assert "Turn the speaker on" in html
    assert "64.000 ₫" in html
