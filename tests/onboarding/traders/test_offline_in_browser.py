"""The volunteer's offline queue in Chromium on a 360×740 phone: a form sent
without a connection waits with its badge and is sent once when the network
returns; an answer lost on the way, then the resend, registers the trader
once; Background Sync sends a queued form with the page gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from tests.browser import screenshot
from tests.onboarding.traders.browser_support import (
    HEIGHT,
    QUEUED_IN_INDEXEDDB,
    WIDTH,
    Taps,
    fill_trader,
    sign_in,
    volunteer,
)
from tests.onboarding.traders.support import texts_to
from vendors.models import Vendor

__all__ = ["volunteer"]  # the fixture

pytestmark = pytest.mark.django_db(transaction=True)


# --- without a connection --------------------------------------------------------------------


@pytest.fixture
def page_without_worker(browser: Any) -> Iterator[Any]:
    """A phone page whose browser runs no service worker (as Safari and
    Firefox, without Background Sync): the page's own retries alone. Also
    keeps the worker from sending at the same moment as the page, which the
    SQLite test database, one connection shared by the live server's
    threads, cannot take (PostgreSQL can: tests/onboarding/traders/test_pages.py)."""
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        locale="en-US",
        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        service_workers="block",
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_a_form_sent_offline_waits_and_is_sent_once_when_the_network_returns(
    live_server, page_without_worker, volunteer, sms
):
    page = page_without_worker
    sign_in(page, live_server.url)
    taps = Taps()
    fill_trader(
        page, taps, name="Trần Văn Mất Mạng", phone="0933 111 222", stall="D-01", bank="970422", account="7778889990"
    )
    taps(page.get_by_label("Tiểu thương đã đọc (hoặc nghe đọc) nội dung trên và đồng ý."))
    client_ref = page.locator("input[name=client_ref]").input_value()

    page.context.set_offline(True)
    taps(page.get_by_role("button", name="Đăng ký tiểu thương"))

    waiting = page.get_by_test_id("queue-waiting")
    waiting.wait_for()
    assert "Đang chờ gửi (1): Trần Văn Mất Mạng" in waiting.inner_text()
    assert page.get_by_label("Họ và tên tiểu thương").input_value() == ""  # ready for the next trader
    assert page.locator("input[name=client_ref]").input_value() != client_ref
    assert not Vendor.objects.filter(phone="+84933111222").exists()
    screenshot(page, "onboard-volunteer-offline-waiting", full_page=False)

    page.context.set_offline(False)  # the `online` event sends it
    page.get_by_test_id("queue-sent").wait_for()
    assert "Trần Văn Mất Mạng" in page.get_by_test_id("queue-sent").inner_text()
    assert page.get_by_test_id("queue-waiting").count() == 0
    screenshot(page, "onboard-volunteer-offline-sent", full_page=False)
    page.reload()  # a later page load finds nothing left to send
    page.wait_for_timeout(300)
    assert Vendor.objects.filter(phone="+84933111222").count() == 1
    assert str(Vendor.objects.get(phone="+84933111222").client_ref) == client_ref
    assert texts_to("+84933111222") == {"welcome": 1, "invitation": 1, "all": 1}


def test_a_lost_answer_then_the_resend_registers_the_trader_once(live_server, page_without_worker, volunteer, sms):
    page = page_without_worker
    sign_in(page, live_server.url)
    taps = Taps()
    fill_trader(
        page, taps, name="Lò Thị Sóng Yếu", phone="0944 555 666", stall="E-02", bank="mbbank", account="1231231234"
    )
    taps(page.get_by_label("Tiểu thương đã đọc (hoặc nghe đọc) nội dung trên và đồng ý."))

    def reach_server_then_drop(route: Any) -> None:
        route.fetch(max_redirects=0)  # the server registers the trader…
        route.abort("connectionreset")  # …and the answer never reaches the phone

    form_url = "**/onboard/traders/new/*/"
    page.route(
        form_url, lambda route: reach_server_then_drop(route) if route.request.method == "POST" else route.continue_()
    )
    taps(page.get_by_role("button", name="Đăng ký tiểu thương"))
    page.get_by_test_id("queue-waiting").wait_for()  # kept, to send again
    assert Vendor.objects.filter(phone="+84944555666").count() == 1  # it did arrive
    page.unroute(form_url)

    page.reload()  # the next page load sends what waits: the same submission id
    page.wait_for_function("() => JSON.parse(localStorage.getItem('cho40.onboard.queue') || '[]').length === 0")
    assert Vendor.objects.filter(phone="+84944555666").count() == 1
    assert texts_to("+84944555666") == {"welcome": 1, "invitation": 1, "all": 1}
    screenshot(page, "onboard-volunteer-resent", full_page=False)


def test_background_sync_sends_a_queued_form_with_the_page_gone(live_server, page_at, volunteer, sms):
    page = page_at(WIDTH, height=HEIGHT)
    sign_in(page, live_server.url)
    page.evaluate("navigator.serviceWorker.ready")  # /onboard/sw.js, registered by the page
    # The worker's queue is watched from another tab of the site (without the page
    # script), not by polling the database while the worker's request writes
    # (SQLite's shared in-memory test database locks whole tables).
    probe = page.context.new_page()
    probe.goto(live_server.url + "/static/css/cho40.css")
    page.bring_to_front()  # a background tab's timers are throttled
    taps = Taps()
    fill_trader(
        page, taps, name="Đinh Văn Đồng Bộ", phone="0955 321 654", stall="G-03", bank="acb", account="4445556667"
    )
    taps(page.get_by_label("Tiểu thương đã đọc (hoặc nghe đọc) nội dung trên và đồng ý."))
    page.context.set_offline(True)
    taps(page.get_by_role("button", name="Đăng ký tiểu thương"))
    page.get_by_test_id("queue-waiting").wait_for()
    page.wait_for_function(
        "() => navigator.serviceWorker.ready.then(r => r.sync.getTags()).then(t => t.includes('cho40-onboard-send'))"
    )
    assert probe.evaluate(QUEUED_IN_INDEXEDDB) == 1  # the worker's copy
    # Only the worker's copy is left to send: the page's own (localStorage) is
    # put aside, as if the volunteer had closed the tab.
    page_copy = page.evaluate("localStorage.getItem('cho40.onboard.queue')")
    page.evaluate("localStorage.removeItem('cho40.onboard.queue')")
    cdp = page.context.new_cdp_session(page)
    registrations: list = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    page.goto("about:blank")

    # The network is back: Chromium wakes the worker with the sync event (if it
    # has not yet, the test dispatches it through the DevTools protocol).
    page.context.set_offline(False)
    deadline = time.monotonic() + 2
    while probe.evaluate(QUEUED_IN_INDEXEDDB) == 1 and time.monotonic() < deadline:
        probe.wait_for_timeout(100)
    if probe.evaluate(QUEUED_IN_INDEXEDDB) == 1:
        registration = next(r for r in registrations if r["scopeURL"].endswith("/onboard/"))
        cdp.send(
            "ServiceWorker.dispatchSyncEvent",
            {
                "origin": live_server.url,
                "registrationId": registration["registrationId"],
                "tag": "cho40-onboard-send",
                "lastChance": False,
            },
        )
    deadline = time.monotonic() + 15
    while probe.evaluate(QUEUED_IN_INDEXEDDB) != 0 and time.monotonic() < deadline:
        print("PROBE", probe.evaluate(QUEUED_IN_INDEXEDDB), Vendor.objects.filter(phone="+84955321654").count())
        probe.wait_for_timeout(200)  # the worker deletes its copy once the server has answered
    assert Vendor.objects.filter(phone="+84955321654").count() == 1

    # The page's copy, sent later (the tab reopened): the same submission id, still one trader.
    page.goto(live_server.url + reverse("onboard:traders"))
    page.evaluate("queue => localStorage.setItem('cho40.onboard.queue', queue)", page_copy)
    page.reload()
    page.get_by_test_id("queue-sent").wait_for()
    assert Vendor.objects.filter(phone="+84955321654").count() == 1
    assert texts_to("+84955321654") == {"welcome": 1, "invitation": 1, "all": 1}
