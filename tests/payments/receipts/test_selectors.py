"""What a stall's phone and the market board read of receipts: today's list
in Vietnam time, the resume after a cursor, and the speaker-silent list."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments.models import Payment, ReceiptAnnouncement
from payments.receipts import selectors
from payments.receipts.cursor import Cursor
from tests.factories import PaymentFactory, VendorFactory

VN = ZoneInfo("Asia/Ho_Chi_Minh")
pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=VN)


def test_a_receipt_reads_as_the_page_shows_it(cast) -> None:
    payment = PaymentFactory(vendor=cast.vendor, amount=64_000, payer_masked="NGUYEN VAN A ••••6789")

    receipt = selectors.receipt_dict(payment)

    assert receipt["id"] == payment.pk
    assert (receipt["amount"], receipt["amount_text"]) == (64_000, "64.000 ₫")
    assert receipt["recorded_at"].endswith("Z")
    assert receipt["time"] == timezone.localtime(payment.recorded_at, VN).strftime("%H:%M")
    assert (receipt["channel"], receipt["payer"], receipt["sale"]) == ("static_qr", "NGUYEN VAN A ••••6789", None)
    assert receipt["channel_label"]


def test_today_is_the_vietnam_day_so_23_30_local_belongs_to_it(cast) -> None:
    early = PaymentFactory(vendor=cast.vendor, occurred_at=at(6, 6, 30), amount=10_000)  # 23:30 UTC the day before
    late = PaymentFactory(vendor=cast.vendor, occurred_at=at(6, 23, 30), amount=20_000)
    PaymentFactory(vendor=cast.vendor, occurred_at=at(7, 0, 30), amount=40_000)  # tomorrow (still the 6th in UTC)
    PaymentFactory(vendor=cast.vendor, occurred_at=at(5, 23, 59), amount=80_000)  # yesterday

    now = at(6, 23, 45)
    assert {r["id"] for r in selectors.receipts_today(cast.vendor, now=now)} == {early.pk, late.pk}
    assert selectors.today_total(cast.vendor, now=now) == {"count": 2, "value": 30_000}


def test_only_succeeded_payments_of_this_vendor_are_receipts(cast) -> None:
    kept = PaymentFactory(vendor=cast.vendor)
    for status in ("pending", "failed", "refunded", "disputed"):
        PaymentFactory(vendor=cast.vendor, status=status)
    PaymentFactory(vendor=cast.other_vendor)
    PaymentFactory(vendor=None, market=cast.market)

    assert [r["id"] for r in selectors.receipts_today(cast.vendor)] == [kept.pk]
    assert selectors.today_total(cast.vendor) == {"count": 1, "value": kept.amount}


def test_receipts_today_are_newest_first_and_after_a_cursor_oldest_first(cast) -> None:
    first, second, third = (PaymentFactory(vendor=cast.vendor) for _ in range(3))

    assert [r["id"] for r in selectors.receipts_today(cast.vendor)] == [third.pk, second.pk, first.pk]
    assert [r["id"] for r in selectors.receipts_after(cast.vendor, f"{first.pk}")] == [second.pk, third.pk]
    assert [r["id"] for r in selectors.receipts_after(cast.vendor, f"0-{second.pk}")] == [first.pk, third.pk]
    assert [r["id"] for r in selectors.receipts_after(cast.vendor, "garbage")] == [first.pk, second.pk, third.pk]


def test_the_cursor_of_the_page_covers_its_list_and_settles_what_is_a_minute_old(cast) -> None:
    old, new = PaymentFactory(vendor=cast.vendor), PaymentFactory(vendor=cast.vendor)
    Payment.objects.filter(pk=old.pk).update(recorded_at=timezone.now() - dt.timedelta(minutes=5))

    cursor = Cursor.parse(selectors.cursor_now(cast.vendor))

    assert cursor == Cursor(old.pk, frozenset({new.pk}))
    assert selectors.receipts_after(cast.vendor, cursor) == []
    later = PaymentFactory(vendor=cast.vendor)
    read = selectors.ledger_read(cast.vendor, cursor)
    assert [r["id"] for r in read.receipts] == [later.pk]
    assert read.today == {"count": 3, "value": 3 * later.amount}


# --- the board's view ---------------------------------------------------------------


def announce(payment: Payment, *, method: str = "speech", device: str = "phone-1", delay_ms: int = 800) -> None:
    ReceiptAnnouncement.objects.create(
        payment=payment,
        vendor=payment.vendor,
        market=payment.market,
        device_id=device,
        method=method,
        announced_at=timezone.now(),
        delay_ms=delay_ms,
    )


def paid(vendor, *, minutes_ago: int) -> Payment:  # type: ignore[no-untyped-def]
    payment = PaymentFactory(vendor=vendor)
    Payment.objects.filter(pk=payment.pk).update(recorded_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    payment.refresh_from_db()
    return payment


def test_the_silent_list_names_stalls_paid_without_an_announcement_aloud(cast) -> None:
    loud, muted, silent, fresh = (VendorFactory(market=cast.market, stall_label=f"B-{i}") for i in range(4))
    announce(paid(loud, minutes_ago=10), delay_ms=700)
    announce(paid(loud, minutes_ago=9), delay_ms=900)
    announce(paid(muted, minutes_ago=10), delay_ms=1500)
    announce(paid(muted, minutes_ago=9), method="silent")  # shown, not heard
    paid(muted, minutes_ago=8)
    paid(silent, minutes_ago=30)
    paid(fresh, minutes_ago=0)  # within the grace period: the phone may still speak
    paid(cast.other_vendor, minutes_ago=30)  # another market

    with CaptureQueriesContext(connection) as queries:
        rows = selectors.silent_stalls(cast.market)

    assert [(r.vendor_id, r.payments_today, r.unannounced) for r in rows] == [(muted.pk, 3, 2), (silent.pk, 1, 1)]
    assert rows[0].median_delay_ms == 1500 and rows[0].last_announced_at is not None
    assert rows[0].name == muted.full_name and rows[0].stall_label == "B-1" and rows[0].phone == muted.phone
    assert rows[1].median_delay_ms is None and rows[1].last_announced_at is None
    assert len(queries) <= 4


def test_announcement_delays_take_each_payments_first_announcement(cast) -> None:
    for delay in (100, 200, 300, 400, 5000):
        payment = paid(cast.vendor, minutes_ago=5)
        announce(payment, delay_ms=delay)
        announce(payment, device="phone-2", delay_ms=delay + 10_000)  # a second phone, later

    summary = selectors.announcement_delays(cast.market, selectors.vietnam_today())

    assert summary == {"count": 5, "p50": 300, "p95": 5000}
    assert selectors.announcement_delays(cast.other_market, selectors.vietnam_today()) == {
        "count": 0,
        "p50": None,
        "p95": None,
    }
