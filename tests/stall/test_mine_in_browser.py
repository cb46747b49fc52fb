"""My stall in Chromium on a 360×740 phone: the QR shown, the card and the
CSV opened with the session, the days and totals; a stall awaiting review sees
why it has no QR."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.browser import screenshot
from tests.factories import PaymentFactory
from tests.stall.test_sale_in_browser import _fits_a_phone
from tests.stall.test_sale_pages import vendor_in_browser
from vendors.models import Vendor

__all__ = ["vendor_in_browser"]  # the fixture

pytestmark = pytest.mark.django_db(transaction=True)


def test_my_stall_shows_the_qr_the_card_and_the_payments(live_server, vendor_in_browser, cast):
    now = timezone.now()
    for days, amount in ((0, 64_000), (0, 20_000), (1, 150_000), (3, 35_000)):
        PaymentFactory(vendor=cast.vendor, amount=amount, occurred_at=now - dt.timedelta(days=days))
    page: Any = vendor_in_browser("/stall/payments/")
    qr = page.get_by_test_id("stall-qr")
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", qr.element_handle())
    today = page.locator(f"tr[data-date='{timezone.localdate():%Y-%m-%d}']")
    assert "84.000 ₫" in today.inner_text()
    _fits_a_phone(page)
    assert page.evaluate("(t => t.scrollWidth <= t.clientWidth)(document.querySelector('.table-scroll'))")
    screenshot(page, "stall-mine")

    card = page.request.get(live_server.url + "/stall/card.pdf")  # the page's session, no token header
    assert card.ok and card.body().startswith(b"%PDF-")
    with page.expect_download() as download:
        page.get_by_test_id("csv-link").click()
    assert download.value.suggested_filename.startswith(f"cho40-{cast.vendor.merchant_code}-payments-")


def test_a_stall_awaiting_review_sees_why_it_has_no_qr(live_server, vendor_in_browser, cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.PENDING)
    page: Any = vendor_in_browser("/stall/payments/")
    assert "Sạp của bạn đang chờ Ban quản lý chợ duyệt." in page.get_by_test_id("no-qr").inner_text()
    assert page.get_by_test_id("stall-qr").count() == 0
    screenshot(page, "stall-mine-pending", full_page=False)
