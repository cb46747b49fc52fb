"""The weekly digest: last ISO week's tiles for each board member's market and
each officer's province, in Vietnamese, once per person and week."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from stats.digest import previous_week, send_weekly_digest
from stats.digest_tasks import send_weekly_digest as digest_task
from stats.models import DigestSent
from tests.factories import PaymentFactory, VendorFactory

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WEDNESDAY = dt.date(2026, 12, 9)  # last week: Monday 30/11 to Sunday 6/12


@pytest.fixture(autouse=True)
def _locmem(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def pay(vendor: Any, when: dt.datetime, amount: int) -> None:
    PaymentFactory(vendor=vendor, amount=amount, occurred_at=when)


@pytest.fixture
def week(cast: Any) -> Any:
    for user, email in [
        (cast.officer, "officer@example.vn"),
        (cast.board, "board@example.vn"),
        (cast.far_officer, "far@example.vn"),
        (cast.volunteer, "volunteer@example.vn"),
        (cast.vendor_user, "vendor@example.vn"),
        (cast.outsider, "outsider@example.vn"),
    ]:  # other_board has no address
        user.email = email
        user.first_name = "Hà"
        user.save()
    pay(cast.vendor, dt.datetime(2026, 11, 30, 6, 0, tzinfo=VN), 50_000)
    pay(cast.vendor, dt.datetime(2026, 12, 3, 8, 0, tzinfo=VN), 50_000)
    pay(cast.vendor, dt.datetime(2026, 12, 6, 23, 30, tzinfo=VN), 50_000)  # Sunday night: last week
    pay(cast.vendor, dt.datetime(2026, 12, 7, 0, 10, tzinfo=VN), 900_000)  # Monday: this week, not reported
    pay(cast.vendor, dt.datetime(2026, 11, 25, 9, 0, tzinfo=VN), 60_000)  # the week before
    pay(cast.other_vendor, dt.datetime(2026, 12, 1, 7, 0, tzinfo=VN), 70_000)
    pay(cast.other_vendor, dt.datetime(2026, 12, 2, 7, 0, tzinfo=VN), 70_000)
    VendorFactory(market=cast.market, full_name="Lê Thị Lan")  # a QR but never paid: to follow up
    return cast


def by_recipient() -> dict[str, Any]:
    return {message.to[0]: message for message in mail.outbox}


def test_the_week_is_the_iso_week_before_in_local_days() -> None:
    assert previous_week(WEDNESDAY).start == dt.date(2026, 11, 30)
    assert previous_week(WEDNESDAY).end == dt.date(2026, 12, 6)
    assert previous_week(dt.date(2026, 12, 7)).start == dt.date(2026, 11, 30)  # on Monday itself


def test_it_mails_each_board_member_and_officer_with_an_address(week: Any) -> None:
    assert send_weekly_digest(today=WEDNESDAY) == 3
    assert set(by_recipient()) == {"officer@example.vn", "board@example.vn", "far@example.vn"}
    message = by_recipient()["board@example.vn"]
    assert "30/11/2026" in message.subject and "06/12/2026" in message.subject
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "150.000 ₫" in html


def test_a_board_member_sees_only_their_market(week: Any) -> None:
    send_weekly_digest(today=WEDNESDAY)
    body = by_recipient()["board@example.vn"].body
    assert "Chợ Đồng Quang" in body
    assert "Chợ Thái" not in body and "140.000" not in body
    assert "Thanh toán: 3 (tuần trước: 1" in body
    assert "150.000 ₫ (tuần trước: 60.000 ₫, +150 %)" in body  # 23:30 on Sunday counted, Monday 00:10 not
    assert "Xin chào Hà" in body
    assert "1 tiểu thương có mã QR nhưng không có giao dịch nào trong 30 ngày qua" in body


def test_an_officer_sees_their_province(week: Any) -> None:
    send_weekly_digest(today=WEDNESDAY)
    body = by_recipient()["officer@example.vn"].body
    assert "Thái Nguyên" in body
    assert "Thanh toán: 5 (tuần trước: 1" in body
    assert "290.000 ₫" in body
    far = by_recipient()["far@example.vn"].body
    assert "Hà Nội" in far and "Thanh toán: 0 (tuần trước: 0" in far


def test_it_is_sent_once_per_person_and_week(week: Any) -> None:
    assert send_weekly_digest(today=WEDNESDAY) == 3
    assert send_weekly_digest(today=WEDNESDAY - dt.timedelta(days=1)) == 0  # same week, another day
    assert len(mail.outbox) == 3
    assert DigestSent.objects.filter(week_start=dt.date(2026, 11, 30)).count() == 3
    assert send_weekly_digest(today=WEDNESDAY + dt.timedelta(days=7)) == 3  # the next week is news
    assert len(mail.outbox) == 6


def test_the_beat_task_reports_the_week_before_today(week: Any) -> None:
    assert digest_task.delay().get() == 3
    assert set(DigestSent.objects.values_list("week_start", flat=True)) == {previous_week(timezone.localdate()).start}
    assert digest_task.delay().get() == 0


def test_a_failed_send_is_retried_by_the_next_run(week: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real = EmailBackend.send_messages

    def refuse_the_officer(self: EmailBackend, messages: Any) -> int:
        if messages[0].to == ["officer@example.vn"]:
            raise ConnectionRefusedError("smtp down")
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_the_officer)
    assert send_weekly_digest(today=WEDNESDAY) == 2
    assert "officer@example.vn" not in by_recipient()
    monkeypatch.setattr(EmailBackend, "send_messages", real)
    assert send_weekly_digest(today=WEDNESDAY) == 1
    assert "officer@example.vn" in by_recipient()
