"""The sale QR in Chromium on a 360×740 phone: the keypad makes a QR shown full
screen; a signed SePay webhook carrying its reference, posted to the live
server, turns the page green with the chime; an expiring QR says so."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.request
from typing import Any

import pytest
from django.utils import timezone

from payments.bank_credits.providers import sepay
from payments.models import Payment, PaymentRequest
from tests.browser import screenshot
from tests.payments.bank_credits.webhooks_support import SEPAY_SECRET, SEPAY_URL, provider_keys, sepay_body
from tests.stall.test_sale_pages import vendor_in_browser

__all__ = ["provider_keys", "vendor_in_browser"]  # fixtures

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH, HEIGHT = 360, 740

# Whatever is meant to be tapped, and its height in px when under 44 (56 for the keypad's keys).
TOO_SMALL = """() => [...document.querySelectorAll('a, button, input:not([type=hidden])')]
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width > 0 && r.height > 0)
  .filter(([el, r]) => r.height < (el.classList.contains('keypad__key') ? 56 : 44))
  .map(([el, r]) => `${el.tagName} "${el.innerText.trim()}" ${Math.round(r.height)}px`)"""


def _fits_a_phone(page: Any) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH, page.url
    assert page.evaluate(TOO_SMALL) == [], page.url


def _post_webhook(base: str, body: dict[str, Any]) -> int:
    """A SePay delivery signed with HMAC-SHA256 over "<timestamp>.<body>", as SePay signs it, to the live server."""
    data = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-SePay-Timestamp": timestamp,
        "X-SePay-Signature": sepay.hmac_signature(SEPAY_SECRET, timestamp, data),
    }
    request = urllib.request.Request(base + SEPAY_URL, data=data, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_the_keypad_makes_a_qr_that_turns_green_when_paid(live_server, vendor_in_browser, provider_keys):
    page = vendor_in_browser("/stall/sale/")
    # Count the chime's notes: WebAudio oscillators started on this page.
    page.context.add_init_script(
        "(() => { const start = OscillatorNode.prototype.start; window.notes = 0;"
        " OscillatorNode.prototype.start = function (...a) { window.notes++; return start.apply(this, a); }; })()"
    )
    for key in ("6", "4", "000"):
        page.locator(f"[data-key='{key}']").click()
    page.locator("[data-key='0']").click()
    page.locator("[data-key='back']").click()  # a slip of the finger, undone
    assert page.locator("[data-display]").inner_text() == "64.000 ₫"
    _fits_a_phone(page)
    screenshot(page, "stall-sale-keypad")

    page.get_by_role("button", name="Tạo mã QR").click()
    page.wait_for_url("**/stall/sale/*/")
    sale = PaymentRequest.objects.get(vendor__user__username="vendor")
    assert sale.amount == 64_000
    assert page.get_by_test_id("sale-amount").inner_text() == "64.000 ₫"
    assert page.locator(".sale-qr svg").bounding_box()["width"] >= 300
    assert sale.reference in page.locator(".sale-ref").inner_text()
    page.wait_for_function("() => document.querySelector('[data-countdown]').textContent.startsWith('14:')")
    _fits_a_phone(page)
    screenshot(page, "stall-sale-qr", full_page=False)

    local = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    body = sepay_body(content=f"CHO40 {sale.reference}", amount=64_000, account=sale.vendor.account_number, when=local)
    assert _post_webhook(live_server.url, body) == 200

    page.get_by_test_id("sale-paid").wait_for(timeout=10_000)
    assert page.get_by_test_id("sale-paid").inner_text() == "Đã nhận 64.000 đồng"
    assert page.evaluate("document.body.dataset.chime") == "played"
    assert page.evaluate("window.notes") == 2  # the two notes of the chime
    assert page.locator("[data-state=pending]").is_hidden()
    payment = Payment.objects.get(payment_request=sale)
    assert payment.status == "succeeded" and payment.channel == "dynamic_qr"
    screenshot(page, "stall-sale-paid", full_page=False)


def test_a_qr_running_out_says_so(live_server, vendor_in_browser):
    page = vendor_in_browser("/stall/sale/")
    page.get_by_role("button", name="20.000 ₫").click()  # a quick amount
    page.wait_for_url("**/stall/sale/*/")
    PaymentRequest.objects.update(expires_at=timezone.now() + dt.timedelta(seconds=2))
    page.reload()
    page.get_by_test_id("sale-expired").wait_for(timeout=6_000)
    assert page.get_by_test_id("sale-expired").inner_text() == "Hết hạn — tạo mã mới"
    assert page.locator(".sale-qr svg").is_hidden()
    screenshot(page, "stall-sale-expired", full_page=False)
    page.get_by_test_id("sale-new").click()
    page.wait_for_url("**/stall/sale/")


def test_the_keypad_page_works_without_javascript(live_server, browser, cast):
    from tests.stall.test_sale_pages import PASSWORD, sign_in

    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, java_script_enabled=False)
    page = context.new_page()
    cast.vendor_user.set_password(PASSWORD)
    cast.vendor_user.save()
    sign_in(page, live_server.url, "/stall/sale/")
    page.get_by_label("Số tiền (đồng)").fill("35000")
    page.get_by_role("button", name="Tạo mã QR").click()
    page.wait_for_url("**/stall/sale/*/")
    assert page.get_by_test_id("sale-amount").inner_text() == "35.000 ₫"
    screenshot(page, "stall-sale-qr-nojs", full_page=False)
    context.close()
