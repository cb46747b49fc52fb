"""My stall (/stall/payments/, qr.png, qr.svg, card.pdf, payments.csv): the
QR and card with the session, payments by Vietnam day, week and month totals,
the CSV of one's own payments."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from stall.mine import stall_totals, week_start
from tests.factories import PaymentFactory
from tests.stall.test_sale_pages import client_of
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
URLS = ["/stall/payments/", "/stall/qr.png", "/stall/qr.svg", "/stall/card.pdf", "/stall/payments.csv"]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN)


def _pay(vendor: Vendor, when: dt.datetime, amount: int, **fields) -> None:
    PaymentFactory(vendor=vendor, occurred_at=when, amount=amount, **fields)


def _row(html: str, day: dt.date) -> str:
    return html.split(f'<tr data-date="{day:%Y-%m-%d}"', 1)[1].split("</tr>", 1)[0]


def test_it_counts_a_payment_at_half_past_eleven_at_night_on_that_vietnam_day(cast):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    _pay(cast.vendor, _at(yesterday, 23, 30), 64_000)  # 16:30 UTC yesterday
    _pay(cast.vendor, _at(today, 0, 30), 20_000)  # 17:30 UTC *yesterday*, today in Vietnam
    _pay(cast.other_vendor, _at(today, 9), 999_000)  # someone else's
    _pay(cast.vendor, _at(today, 10), 5_000, status="failed")  # not money
    html = client_of(cast.vendor_user).get("/stall/payments/").content.decode()
    assert '<td class="num">1</td><td class="num">64.000 ₫</td>' in _row(html, yesterday)
    assert '<td class="num">1</td><td class="num">20.000 ₫</td>' in _row(html, today)
    assert "999.000" not in html
    assert html.count("<tr data-date=") == 30
    assert html.index(f'data-date="{today:%Y-%m-%d}"') < html.index(f'data-date="{yesterday:%Y-%m-%d}"')


def test_it_totals_this_iso_week_and_this_month(cast):
    today = dt.date(2025, 3, 5)  # a Wednesday
    assert week_start(today) == dt.date(2025, 3, 3)
    _pay(cast.vendor, _at(dt.date(2025, 2, 28), 12), 1_000)  # last month, within 30 days
    _pay(cast.vendor, _at(dt.date(2025, 3, 2), 23, 30), 10_000)  # Sunday: this month, last week
    _pay(cast.vendor, _at(dt.date(2025, 3, 3), 0, 5), 100_000)  # Monday just after midnight
    _pay(cast.vendor, _at(dt.date(2025, 3, 5), 23, 59), 200_000)
    _pay(cast.vendor, _at(dt.date(2025, 3, 6), 8), 7_000_000)  # after "today"
    totals = stall_totals(user=cast.vendor_user, vendor=cast.vendor, today=today)
    assert (totals["week"]["count"], totals["week"]["value"]) == (2, 300_000)
    assert (totals["month"]["count"], totals["month"]["value"]) == (3, 310_000)
    assert (totals["last30"]["count"], totals["last30"]["value"]) == (4, 311_000)
    assert totals["week"]["value_text"] == "300.000 ₫"
    assert [d["date"] for d in totals["days"][:2]] == [dt.date(2025, 3, 5), dt.date(2025, 3, 4)]
    assert len(totals["days"]) == 30


def test_it_totals_a_week_that_began_last_month(cast):
    today = dt.date(2025, 4, 2)  # Wednesday; Monday was 31 March
    _pay(cast.vendor, _at(dt.date(2025, 3, 31), 9), 50_000)
    _pay(cast.vendor, _at(dt.date(2025, 4, 1), 9), 20_000)
    totals = stall_totals(user=cast.vendor_user, vendor=cast.vendor, today=today)
    assert totals["week"]["value"] == 70_000
    assert totals["month"]["value"] == 20_000


def test_it_shows_the_totals_and_the_qr_on_the_page(cast):
    _pay(cast.vendor, timezone.now(), 64_000)
    html = client_of(cast.vendor_user).get("/stall/payments/").content.decode()
    assert "Sạp của tôi" in html and "Tuần này (từ thứ Hai" in html and "Tháng này" in html
    assert html.count("64.000 ₫") >= 3  # today's row, the week, the month
    assert 'src="/stall/qr.svg"' in html
    assert 'href="/stall/card.pdf"' in html and 'href="/stall/payments.csv"' in html


def test_it_serves_the_stall_qr_and_card_with_the_session(cast):
    client = client_of(cast.vendor_user)
    png = client.get("/stall/qr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = client.get("/stall/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert client.get("/stall/qr.png", headers={"If-None-Match": png["ETag"]}).status_code == 304
    download = client.get("/stall/qr.png?download=1")
    assert download["Content-Disposition"] == f'attachment; filename="cho40-{cast.vendor.merchant_code}.png"'
    pdf = client.get("/stall/card.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def test_it_serves_the_same_qr_as_the_api(cast):
    from tests.conftest import client_for

    api = client_for(cast.vendor_user).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png")
    assert api.status_code == 200
    assert client_of(cast.vendor_user).get("/stall/qr.png").content == api.content


@pytest.mark.parametrize("status", ["pending", "suspended", "rejected"])
def test_it_explains_why_a_stall_not_approved_has_no_qr(cast, status):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=status)
    client = client_of(cast.vendor_user)
    html = client.get("/stall/payments/").content.decode()
    assert 'data-testid="no-qr"' in html and "/stall/qr.svg" not in html
    if status == "pending":
        assert "Sạp của bạn đang chờ Ban quản lý chợ duyệt." in html
    for path in ("/stall/qr.png", "/stall/qr.svg", "/stall/card.pdf"):
        response = client.get(path)
        assert response.status_code == 409 and 'data-testid="no-qr"' in response.content.decode()


def test_it_exports_ones_own_payments_as_csv_for_excel(cast):
    _pay(
        cast.vendor, _at(dt.date(2025, 3, 3), 23, 30), 64_000, payer_masked="NGUYEN VAN A", provider_reference="FTMINE1"
    )
    _pay(cast.other_vendor, timezone.now(), 1_000, provider_reference="FTOTHER1")
    response = client_of(cast.vendor_user).get("/stall/payments.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="cho40-{cast.vendor.merchant_code}-')
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["provider_reference"] == "FTMINE1"
    assert rows[0]["amount"] == "64000"
    assert rows[0]["local_date"] == "2025-03-03"
    assert rows[0]["occurred_at"] == "2025-03-03 23:30:00"  # Vietnam time
    assert rows[0]["vendor_name"] == "Nguyễn Thị Hoà"


@pytest.mark.parametrize("path", URLS)
def test_it_sends_the_anonymous_to_sign_in(path):
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("who", ["board", "volunteer", "officer", "outsider", "admin"])
def test_it_refuses_who_has_no_stall(cast, who):
    client = client_of(getattr(cast, who))
    for path in URLS:
        assert client.get(path).status_code == 403, path


def test_it_shows_each_vendor_their_own_stall(cast):
    from tests.factories import make_vendor_user

    other = client_of(make_vendor_user(cast.other_vendor, "other_vendor"))
    _pay(cast.vendor, timezone.now(), 64_000, provider_reference="FTMINE2")
    assert "64.000" not in other.get("/stall/payments/").content.decode()
    assert b"FTMINE2" not in b"".join(other.get("/stall/payments.csv").streaming_content)
    mine = client_of(cast.vendor_user).get("/stall/qr.png").content
    assert other.get("/stall/qr.png").content != mine
