"""The code check in Chromium on a 360×740 phone: the page's own HOTP equals
docs/code-entry.md's test vector; offline, a customer's code is checked on the
phone with the stall's offline key and marked provisional, refused the second
time, and settled (matched) by the server once the phone is online again;
online, the answer comes from the server."""

from __future__ import annotations

from typing import Any

import pytest

from chopay import codes
from payments.models import OfflineConfirmation, OfflineKeyGrant, Payment
from tests.browser import screenshot
from tests.payments.code_entry.support import code_in_sms, pay, sms, ussd_secret
from tests.stall.test_sale_pages import vendor_in_browser

__all__ = ["sms", "ussd_secret", "vendor_in_browser"]  # fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for_key(page: Any) -> None:
    page.wait_for_selector("[data-key-state][data-ready='1']")


def test_the_pages_code_equals_the_documented_test_vector(live_server, vendor_in_browser):
    page = vendor_in_browser("/stall/code/")
    key = codes.TEST_VECTOR_KEY_HEX
    assert page.evaluate(f"cho40Hotp('{key}', 1, 20000)") == codes.TEST_VECTOR_CODE == "605024"
    assert page.evaluate(f"cho40Hotp('{key}', 1, 200000)") == "357103"
    assert page.evaluate(f"cho40Hotp('{key}', 2, 20000)") == "675770"
    # and the server's implementation, for a large counter and amount
    big = codes.confirmation_code(bytes.fromhex(key), counter=2**40 + 7, amount=9_999_999_999_999)
    assert page.evaluate(f"cho40Hotp('{key}', {2**40 + 7}, 9999999999999)") == big


def test_an_offline_check_is_provisional_until_the_server_matches_it(
    live_server, vendor_in_browser, cast, sms, ussd_secret
):
    page = vendor_in_browser("/stall/code/")
    _wait_for_key(page)  # fetched once with the session, kept on the phone
    device = page.evaluate("localStorage.getItem('cho40.device')")
    assert OfflineKeyGrant.objects.filter(vendor=cast.vendor, device_id=device).exists()
    assert page.evaluate(f"JSON.parse(localStorage.getItem('cho40.codekey.{cast.vendor.pk}')).last") == 0

    pay("stall-offline-1", cast.vendor, 20_000)  # a customer pays by USSD and shows the SMS
    code = code_in_sms(sms.outbox[0].body)

    page.context.set_offline(True)
    # A mistyped code first: not accepted on the phone, nothing queued ("check online", not a refusal).
    _check_on_page(page, f"{(int(code) + 1) % 1_000_000:06d}", "20000")
    page.wait_for_selector("[data-testid=verdict][data-outcome=nomatch]")
    assert "Chưa xác nhận được trên máy này" in page.get_by_test_id("verdict").inner_text()
    assert page.get_by_test_id("queue").locator("li").count() == 0

    _check_on_page(page, code, "20000")
    verdict = page.locator("[data-testid=verdict][data-outcome=provisional]")
    verdict.wait_for()
    assert "Hợp lệ (tạm thời — máy chủ sẽ xác nhận)" in verdict.inner_text()
    assert "TẠM THỜI" in verdict.inner_text()
    item = page.get_by_test_id("queue").locator("li")
    assert item.count() == 1 and item.get_attribute("data-status") == "queued"
    assert "Chưa gửi" in item.inner_text() and "20.000 ₫" in item.inner_text()
    assert not OfflineConfirmation.objects.exists()
    screenshot(page, "stall-code-offline-provisional")

    page.context.set_offline(False)  # the `online` event uploads the queue
    page.wait_for_selector("[data-testid=queue] li[data-status=matched]")
    assert "Đã xác nhận" in page.get_by_test_id("queue").inner_text()
    settled = page.locator("[data-testid=verdict][data-outcome=matched]")  # the server's answer replaces "provisional"
    settled.wait_for()
    assert "Máy chủ đã xác nhận" in settled.inner_text()
    row = OfflineConfirmation.objects.get()
    payment = Payment.objects.get()
    assert (row.status, row.payment_id, row.amount) == ("matched", payment.pk, 20_000)
    assert payment.vendor_confirmed_at == row.captured_at
    assert page.evaluate(f"JSON.parse(localStorage.getItem('cho40.codekey.{cast.vendor.pk}')).last") == 1
    screenshot(page, "stall-code-offline-settled")

    # The answer survives a reload (kept on the phone), and the key is not handed out again.
    page.reload()
    page.wait_for_selector("[data-testid=queue] li[data-status=matched]")
    assert OfflineKeyGrant.objects.filter(vendor=cast.vendor).count() == 1


def test_a_code_accepted_offline_is_refused_the_second_time_on_that_phone(
    live_server, vendor_in_browser, cast, sms, ussd_secret
):
    page = vendor_in_browser("/stall/code/")
    _wait_for_key(page)
    pay("stall-offline-4", cast.vendor, 20_000)
    code = code_in_sms(sms.outbox[0].body)
    page.context.set_offline(True)
    _check_on_page(page, code, "20000")
    page.wait_for_selector("[data-testid=verdict][data-outcome=provisional]")
    _check_on_page(page, code, "20000")
    page.wait_for_selector("[data-testid=verdict][data-outcome=used]")
    assert "Đã dùng trên máy này" in page.get_by_test_id("verdict").inner_text()
    assert page.get_by_test_id("queue").locator("li").count() == 1
    screenshot(page, "stall-code-offline-reused", full_page=False)


def test_an_online_check_shows_the_servers_answer(live_server, vendor_in_browser, cast, sms, ussd_secret):
    pay("stall-online-1", cast.vendor, 64_000)
    code = code_in_sms(sms.outbox[0].body)
    page = vendor_in_browser("/stall/code/")
    page.get_by_label("Mã (6 chữ số)").fill(code)
    page.get_by_label("Số tiền đã trả (đồng)").fill("64000")
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    page.wait_for_selector("[data-testid=verdict][data-outcome=confirmed]")
    assert "Hợp lệ — tiền đã về" in page.get_by_test_id("verdict").inner_text()
    assert "64.000 ₫" in page.get_by_test_id("verdict").inner_text()
    assert page.url.endswith("/stall/code/")  # answered in place (fetch), no reload
    screenshot(page, "stall-code-valid")

    page.get_by_label("Mã (6 chữ số)").fill(code)
    page.get_by_label("Số tiền đã trả (đồng)").fill("64000")
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    page.wait_for_selector("[data-testid=verdict][data-outcome=used]")
    screenshot(page, "stall-code-used")


def test_a_rotated_key_replaces_the_one_kept_on_the_phone(live_server, vendor_in_browser, cast):
    from payments.code_entry.offline import vendor_rotate_code_secret

    page = vendor_in_browser("/stall/code/")
    _wait_for_key(page)
    stored = f"JSON.parse(localStorage.getItem('cho40.codekey.{cast.vendor.pk}')).key"
    cast.vendor.refresh_from_db()
    assert page.evaluate(stored) == cast.vendor.code_secret
    page.reload()  # a second visit: 409, the stored key stays
    _wait_for_key(page)
    assert page.evaluate(stored) == cast.vendor.code_secret

    vendor_rotate_code_secret(actor=cast.board, vendor=cast.vendor)  # the phone was lost, then found
    cast.vendor.refresh_from_db()
    page.reload()
    page.wait_for_function(f"() => {stored} === '{cast.vendor.code_secret}'")


def _check_on_page(page: Any, code: str, amount: str) -> None:
    page.get_by_label("Mã (6 chữ số)").fill(code)
    page.get_by_label("Số tiền đã trả (đồng)").fill(amount)
    page.get_by_role("button", name="Kiểm tra", exact=True).click()


def test_a_check_whose_request_fails_on_the_network_is_made_on_the_phone(
    live_server, vendor_in_browser, cast, sms, ussd_secret
):
    page = vendor_in_browser("/stall/code/")
    _wait_for_key(page)
    pay("stall-offline-2", cast.vendor, 35_000)
    code = code_in_sms(sms.outbox[0].body)
    # "Online" as far as the phone knows, but the request never arrives (a dead mobile network).
    page.route("**/stall/code/", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    _check_on_page(page, code, "35000")
    page.wait_for_selector("[data-testid=verdict][data-outcome=provisional]")
    assert not OfflineConfirmation.objects.exists()


def test_a_code_confirmed_elsewhere_meanwhile_comes_back_flagged(
    live_server, vendor_in_browser, cast, sms, ussd_secret
):
    from payments.code_entry.confirmation import confirmation_code_confirm

    page = vendor_in_browser("/stall/code/")
    _wait_for_key(page)
    pay("stall-offline-3", cast.vendor, 50_000)
    code = code_in_sms(sms.outbox[0].body)
    page.context.set_offline(True)
    _check_on_page(page, code, "50000")
    page.wait_for_selector("[data-testid=verdict][data-outcome=provisional]")
    # The same SMS shown at another stall's phone of this vendor, online, first.
    result = confirmation_code_confirm(vendor=cast.vendor, user=None, code=code, amount=50_000, remote_addr=None)
    assert result.outcome == "confirmed"

    page.context.set_offline(False)
    page.wait_for_selector("[data-testid=queue] li[data-status=flagged]")
    assert "Bị đánh dấu: mã đã được dùng ở nơi khác" in page.get_by_test_id("queue").inner_text()
    refused = page.locator("[data-testid=verdict][data-outcome=flagged]")
    refused.wait_for()
    assert "Máy chủ không xác nhận mã này" in refused.inner_text()
    assert OfflineConfirmation.objects.get().flag_reason == "code_already_used"
    screenshot(page, "stall-code-offline-flagged", full_page=False)
