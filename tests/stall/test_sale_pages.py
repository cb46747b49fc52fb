"""The sale QR pages (/stall/sale/…): keypad, the QR full screen, its status."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from payments.models import Payment, PaymentRequest
from tests.factories import PaymentFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

PASSWORD = "cho40-test-pass"


def client_of(user: Any) -> Client:
    """A browser signed in as ``user`` (the pages use the session, never a token)."""
    client = Client()
    client.force_login(user)
    return client


def sign_in(page: Any, base: str, next_path: str) -> None:
    """Sign in on the real sign-in page, as the vendor does, landing on ``next_path``."""
    page.goto(f"{base}/login/?next={next_path}")
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill("vendor")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"**{next_path}")


@pytest.fixture
def vendor_in_browser(cast: Any, live_server: Any, page_at: Any) -> Callable[[str], Any]:
    """``vendor_in_browser(path)``: a 360×740 phone page signed in as the cast's vendor, at ``path``."""
    cast.vendor_user.set_password(PASSWORD)
    cast.vendor_user.save()

    def open_at(path: str) -> Any:
        page = page_at(360, height=740)
        sign_in(page, live_server.url, path)
        return page

    return open_at


def _sale(cast, amount: int = 64_000) -> PaymentRequest:
    client = client_of(cast.vendor_user)
    response = client.post("/stall/sale/", {"amount": str(amount), "key": "k1"})
    assert response.status_code == 302
    return PaymentRequest.objects.get(vendor=cast.vendor, amount=amount)


def test_it_shows_the_keypad_in_vietnamese(cast):
    response = client_of(cast.vendor_user).get("/stall/sale/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Mã QR bán hàng" in html
    assert 'data-key="000"' in html and 'data-key="back"' in html
    assert '<label for="id_amount">Số tiền (đồng)</label>' in html  # works without JavaScript
    assert response["Cache-Control"] == "no-store"


def test_it_makes_a_sale_qr_and_goes_to_it(cast):
    response = client_of(cast.vendor_user).post("/stall/sale/", {"amount": "64000", "key": "abc"})
    sale = PaymentRequest.objects.get(vendor=cast.vendor)
    assert response["Location"] == f"/stall/sale/{sale.pk}/"
    assert sale.amount == 64_000 and sale.status == "pending"
    assert sale.created_by == cast.vendor_user


def test_it_makes_one_sale_of_a_double_tap(cast):
    client = client_of(cast.vendor_user)
    first = client.post("/stall/sale/", {"amount": "64000", "key": "same"})
    second = client.post("/stall/sale/", {"amount": "64000", "key": "same"})
    assert first["Location"] == second["Location"]
    assert PaymentRequest.objects.filter(vendor=cast.vendor).count() == 1


def test_it_makes_a_new_sale_when_an_old_page_is_sent_with_another_amount(cast):
    client = client_of(cast.vendor_user)
    client.post("/stall/sale/", {"amount": "64000", "key": "old"})
    client.post("/stall/sale/", {"amount": "20000", "key": "old"})
    assert sorted(PaymentRequest.objects.values_list("amount", flat=True)) == [20_000, 64_000]


def test_it_takes_a_quick_amount(cast):
    client_of(cast.vendor_user).post("/stall/sale/", {"amount": "", "quick": "50000", "key": "q"})
    assert PaymentRequest.objects.get(vendor=cast.vendor).amount == 50_000


@pytest.mark.parametrize("amount", ["", "0", "-5", "12.5", "99999999999999"])
def test_it_asks_again_for_a_bad_amount(cast, amount):
    response = client_of(cast.vendor_user).post("/stall/sale/", {"amount": amount, "key": "x"})
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()
    assert not PaymentRequest.objects.exists()


def test_it_tells_a_trader_awaiting_review_in_vietnamese(cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.PENDING)
    response = client_of(cast.vendor_user).post("/stall/sale/", {"amount": "64000", "key": "x"})
    assert response.status_code == 409
    assert "Sạp của bạn chưa được duyệt" in response.content.decode()
    assert not PaymentRequest.objects.exists()


def test_it_shows_the_qr_full_screen_with_amount_reference_and_countdown(cast):
    sale = _sale(cast)
    response = client_of(cast.vendor_user).get(f"/stall/sale/{sale.pk}/")
    html = response.content.decode()
    assert "<svg" in html and 'aria-label="Mã QR bán hàng"' in html
    assert "64.000 ₫" in html
    assert sale.reference in html
    assert re.search(r"data-countdown>1[45]:\d\d<", html)
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html


def test_it_reports_the_status_as_json(cast):
    sale = _sale(cast)
    body = client_of(cast.vendor_user).get(f"/stall/sale/{sale.pk}/status/").json()
    assert body["status"] == "pending" and body["paid_amount"] == 0
    assert body["expires_at"] == sale.expires_at.isoformat()
    assert 890 <= body["expires_in"] <= 900


def test_it_turns_green_once_paid(cast):
    sale = _sale(cast)
    PaymentFactory(vendor=cast.vendor, amount=64_000, payment_request=sale, channel="dynamic_qr")
    sale.transition("paid", paid_at=timezone.now())
    client = client_of(cast.vendor_user)
    assert client.get(f"/stall/sale/{sale.pk}/status/").json()["paid_amount"] == 64_000
    assert client.get(f"/stall/sale/{sale.pk}/status/").json()["status"] == "paid"
    html = client.get(f"/stall/sale/{sale.pk}/").content.decode()
    assert "sale-screen--paid" in html
    assert "Đã nhận <span data-paid>64.000</span> đồng" in html
    assert "http-equiv" not in html  # nothing left to wait for


def test_it_does_not_count_a_failed_payment_as_paid(cast):
    sale = _sale(cast)
    PaymentFactory(vendor=cast.vendor, amount=64_000, payment_request=sale, status=Payment.Status.FAILED)
    assert client_of(cast.vendor_user).get(f"/stall/sale/{sale.pk}/status/").json()["paid_amount"] == 0


def test_it_shows_an_overdue_sale_as_expired(cast):
    sale = _sale(cast)
    PaymentRequest.objects.filter(pk=sale.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client = client_of(cast.vendor_user)
    body = client.get(f"/stall/sale/{sale.pk}/status/").json()
    assert body["status"] == "expired" and body["expires_in"] == 0
    html = client.get(f"/stall/sale/{sale.pk}/").content.decode()
    assert "Hết hạn — tạo mã mới" in html
    assert "<svg" not in html  # a stale code is never shown to a customer


def test_it_hides_another_vendors_sale(cast):
    other = PaymentRequest.objects.create(
        vendor=cast.other_vendor,
        market=cast.other_market,
        reference="K7RX3MWP4A",
        amount=10_000,
        payload="x",
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    client = client_of(cast.vendor_user)
    assert client.get(f"/stall/sale/{other.pk}/").status_code == 404
    status = client.get(f"/stall/sale/{other.pk}/status/")
    assert status.status_code == 404
    assert status.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/stall/sale/", "/stall/sale/1/"])
def test_it_sends_the_anonymous_to_sign_in(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("who", ["board", "volunteer", "officer", "outsider", "admin"])
def test_it_refuses_who_has_no_stall(cast, who):
    sale = _sale(cast)
    client = client_of(getattr(cast, who))
    for path in ("/stall/sale/", f"/stall/sale/{sale.pk}/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Chỉ dành cho tiểu thương" in response.content.decode()
    assert client.post("/stall/sale/", {"amount": "1000"}).status_code == 403
    status = client.get(f"/stall/sale/{sale.pk}/status/")
    assert status.status_code == 403 and status.json()["error"]["code"] == "not_a_vendor"
    assert PaymentRequest.objects.count() == 1


def test_it_answers_the_status_of_the_anonymous_in_json():
    response = Client().get("/stall/sale/1/status/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_it_speaks_english_when_switched(cast):
    from django.conf import settings

    client = client_of(cast.vendor_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/stall/sale/").content.decode()
    assert "Make the QR code" in html and "Tạo mã QR" not in html
    sale = _sale(cast)
    PaymentRequest.objects.filter(pk=sale.pk).update(expires_at=timezone.now())
    assert "Expired — make a new code" in client.get(f"/stall/sale/{sale.pk}/").content.decode()
    assert "<h1>Check a code</h1>" in client.get("/stall/code/").content.decode()
    assert "<h1>My stall</h1>" in client.get("/stall/payments/").content.decode()
