"""Checking a customer's code on /stall/code/ (online): valid, already used,
expired, wrong, throttled — big and in Vietnamese; the offline part is in
test_codes_in_browser.py."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from payments.models import ConfirmationAttempt, ConfirmationCode, Payment
from tests.payments.code_entry.support import code_in_sms, pay, sms, ussd_secret
from tests.stall.test_sale_pages import client_of

__all__ = ["sms", "ussd_secret"]  # fixtures

URL = "/stall/code/"


@pytest.fixture
def paid(cast, sms, ussd_secret, django_capture_on_commit_callbacks) -> tuple[Payment, str]:
    """A 20,000₫ code-entry payment (USSD) to the cast's vendor, and the code the customer got by SMS."""
    pay("stall-code-1", cast.vendor, 20_000, on_commit=django_capture_on_commit_callbacks)
    return Payment.objects.get(), code_in_sms(sms.outbox[0].body)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _check(client: Client, code: str, amount: int = 20_000) -> str:
    """Send the form as a browser without JavaScript does; the answer page after the redirect."""
    response = client.post(URL, {"code": code, "amount": str(amount)})
    assert response.status_code == 302 and response["Location"] == URL
    page = client.get(URL)
    assert page.status_code == 200
    return page.content.decode()


def test_it_shows_the_form_in_vietnamese(cast):
    html = client_of(cast.vendor_user).get(URL).content.decode()
    assert "Kiểm tra mã" in html
    assert 'inputmode="numeric"' in html and 'autocomplete="one-time-code"' in html
    assert "Mã (6 chữ số)" in html and "Số tiền đã trả (đồng)" in html


def test_it_says_a_right_code_is_valid_with_the_payment(cast, paid):
    payment, code = paid
    html = _check(client_of(cast.vendor_user), code)
    assert 'data-outcome="confirmed"' in html
    assert "Hợp lệ — tiền đã về" in html
    assert "20.000 ₫" in html
    assert payment.payer_masked and payment.payer_masked in html
    assert timezone.localtime(payment.occurred_at).strftime("%H:%M %d/%m/%Y") in html
    payment.refresh_from_db()
    assert payment.vendor_confirmed_at is not None


def test_it_shows_the_answer_once(cast, paid):
    _, code = paid
    client = client_of(cast.vendor_user)
    _check(client, code)
    assert "data-outcome" not in client.get(URL).content.decode()  # a reload asks nothing again


def test_it_says_a_code_used_before_is_used(cast, paid):
    _, code = paid
    client = client_of(cast.vendor_user)
    _check(client, code)
    html = _check(client, code)
    assert 'data-outcome="used"' in html and "Mã đã được dùng" in html


def test_it_says_an_expired_code_is_expired(cast, paid):
    _, code = paid
    ConfirmationCode.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    html = _check(client_of(cast.vendor_user), code)
    assert 'data-outcome="expired"' in html and "Mã đã hết hạn" in html


def test_it_says_a_wrong_code_is_wrong(cast, paid):
    _, code = paid
    html = _check(client_of(cast.vendor_user), _wrong(code))
    assert 'data-outcome="wrong"' in html and "Sai mã" in html
    assert "Không có khoản thanh toán 20.000 ₫ nào cho sạp của bạn có mã này" in html


def test_it_says_a_right_code_for_another_amount_is_wrong(cast, paid):
    _, code = paid
    html = _check(client_of(cast.vendor_user), code, amount=200_000)
    assert 'data-outcome="wrong"' in html


def test_it_makes_the_trader_wait_after_five_wrong_codes(cast, paid):
    _, code = paid
    client = client_of(cast.vendor_user)
    for _ in range(5):
        assert 'data-outcome="wrong"' in _check(client, _wrong(code))
    html = _check(client, code)  # even the right code waits
    assert 'data-outcome="throttled"' in html
    assert "Nhập sai mã quá nhiều lần — hãy chờ" in html
    assert "Thử lại sau 15 phút." in html
    assert ConfirmationAttempt.objects.filter(outcome="throttled").count() == 1


def test_it_answers_the_script_in_json_with_the_same_box(cast, paid):
    _, code = paid
    response = client_of(cast.vendor_user).post(
        URL, {"code": code, "amount": "20000"}, headers={"Accept": "application/json"}
    )
    body = response.json()
    assert body["outcome"] == "confirmed"
    assert "Hợp lệ — tiền đã về" in body["html"]


def test_it_asks_again_for_a_malformed_code_without_counting_it(cast):
    client = client_of(cast.vendor_user)
    response = client.post(URL, {"code": "12a45", "amount": "20000"})
    assert response.status_code == 400
    assert "Mã gồm 6 chữ số." in response.content.decode()
    as_json = client.post(URL, {"code": "", "amount": ""}, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.json()["error"]["code"] == "invalid"
    assert not ConfirmationAttempt.objects.exists()


def test_it_gives_the_page_what_the_offline_check_needs(cast):
    html = client_of(cast.vendor_user).get(URL).content.decode()
    assert 'data-key-url="/api/v1/vendors/me/offline-key/"' in html
    assert 'data-sync-url="/api/v1/payments/offline-sync/"' in html
    assert f'data-vendor="{cast.vendor.pk}"' in html and 'data-offline-ready="1"' in html
    script = html.split('<script id="code-strings" type="application/json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(script)["provisional_title"] == "Hợp lệ (tạm thời — máy chủ sẽ xác nhận)"  # translated here


def test_the_offline_key_and_sync_take_the_signed_in_session(cast):
    """The page's script calls the existing API with the session cookie (and the CSRF token for the POST)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.vendor_user)
    key = client.get("/api/v1/vendors/me/offline-key/?device_id=web-1")
    assert key.status_code == 200 and len(key.json()["key"]) == 64
    assert client.get("/api/v1/vendors/me/offline-key/?device_id=web-1").status_code == 409
    item = {"client_uuid": "0b7f4c1e-8a8b-4d8e-9d1e-2c3f4a5b6c7d", "code": "123456", "amount": 20_000,
            "captured_at": timezone.now().isoformat()}  # fmt: skip
    body = {"confirmations": [item]}
    refused = client.post("/api/v1/payments/offline-sync/", body, content_type="application/json")
    assert refused.status_code == 403  # no CSRF token
    page = client.get(URL)
    token = page.cookies["csrftoken"].value
    answered = client.post(
        "/api/v1/payments/offline-sync/", body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["results"][0]["status"] == "pending"


def test_it_sends_the_anonymous_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"] == "/login/?next=/stall/code/"


@pytest.mark.parametrize("who", ["board", "volunteer", "officer", "outsider"])
def test_it_refuses_who_has_no_stall(cast, who):
    client = client_of(getattr(cast, who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"code": "123456", "amount": "20000"}).status_code == 403
    assert not ConfirmationAttempt.objects.exists()


def test_it_checks_codes_of_ones_own_stall_only(cast, paid):
    """The other vendor typing this stall's customer's code gets "wrong": it is checked against their own codes."""
    from tests.factories import make_vendor_user

    _, code = paid
    other = make_vendor_user(cast.other_vendor, "other_vendor")
    html = _check(client_of(other), code)
    assert 'data-outcome="wrong"' in html
    assert not ConfirmationCode.objects.filter(used_at__isnull=False).exists()
