"""The volunteer's pages in Chromium on a 360×740 phone: a trader registered
by the form and by scanning their bank QR with the camera (a fake camera fed
with a VietQR image), counting taps and time against the goal (≤ 12 taps and
≤ 60 s by form, fewer taps by scan); a trader already registered shown; and a
lost connection, then the resend, registering the trader once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from PIL import Image

from chopay import qr_images, vietqr
from tests.browser import CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.onboarding.traders.support import texts_to
from vendors.models import Consent, Vendor

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "cho40-test-pass"
WIDTH, HEIGHT = 360, 740
GOAL_TAPS, GOAL_SECONDS = 12, 60

# Whatever is meant to be tapped: links, buttons, fields (hidden ones aside).
# Whatever is meant to be tapped: links, buttons, fields (hidden ones aside); a
# checkbox or radio button is tapped through its label.
TAP_TARGETS_TOO_SMALL = """() => [...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea')]
  .map(el => ['checkbox', 'radio'].includes(el.type) && el.closest('label') ? el.closest('label') : el)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden')
  .filter(([el, r]) => r.height < 44)
  .map(([el, r]) => `${el.tagName.toLowerCase()} "${(el.innerText || el.name || '').trim()}" ${Math.round(r.height)}px`)"""

QUEUED_IN_INDEXEDDB = """() => new Promise(done => {
  const open = indexedDB.open('cho40-onboard', 1);
  open.onerror = () => done(-1);
  open.onsuccess = () => {
    const count = open.result.transaction('queue').objectStore('queue').count();
    count.onsuccess = () => done(count.result);
    count.onerror = () => done(-1);
  };
})"""

SCANNED_BANK, SCANNED_ACCOUNT = "970436", "0011001234567"


class Taps:
    """Counts what a volunteer's finger does: each tap on a field, a choice or
    a button. Typing into the field just tapped is not a tap."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, locator: Any) -> None:
        locator.click()
        self.count += 1

    def type_into(self, locator: Any, text: str) -> None:
        self(locator)
        locator.press_sequentially(text)


@pytest.fixture
def volunteer(cast: Any) -> Any:
    cast.volunteer.set_password(PASSWORD)
    cast.volunteer.first_name = "Thanh"
    cast.volunteer.save()
    return cast


def sign_in(page: Any, base: str) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill("volunteer")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/onboard/traders/new/**")


def assert_fits_a_phone(page: Any) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways: {width} px wide"
    assert page.evaluate(TAP_TARGETS_TOO_SMALL) == [], page.url


def fill_trader(
    page: Any, taps: Taps, *, name: str, phone: str, stall: str, bank: str | None, account: str | None
) -> None:
    taps.type_into(page.get_by_label("Họ và tên tiểu thương"), name)
    taps.type_into(page.get_by_label("Số điện thoại di động"), phone)
    taps.type_into(page.get_by_label("Sạp"), stall)
    taps(page.locator("label.choice-pill", has_text="Thịt"))
    if bank is not None:
        taps.type_into(page.get_by_label("Tìm ngân hàng"), bank)
    if account is not None:
        taps.type_into(page.get_by_label("Số tài khoản"), account)


def report(kind: str, taps: Taps, seconds: float) -> None:
    print(f"onboarding goal, {kind}: {taps.count} taps (goal ≤ {GOAL_TAPS}), {seconds:.1f} s (goal ≤ {GOAL_SECONDS} s)")


# --- by form ------------------------------------------------------------------------------


def test_a_volunteer_registers_a_trader_by_form_within_the_goal(live_server, page_at, volunteer, sms):
    page = page_at(WIDTH, height=HEIGHT)
    sign_in(page, live_server.url)  # "/" → /onboard/ → the only market's form
    assert page.get_by_test_id("market").inner_text() == volunteer.market.name
    assert page.get_by_text("Nghị định 13/2023/NĐ-CP").first.is_visible()
    assert_fits_a_phone(page)
    screenshot(page, "onboard-volunteer-form-empty")

    taps = Taps()
    started = time.monotonic()
    fill_trader(
        page, taps, name="Nguyễn Thị Hoà Bình", phone="0912 345 678", stall="C-07", bank="vcb", account="0011001234567"
    )
    bank_value = page.locator("[data-bank-select]").input_value()
    account_name = page.get_by_label("Tên chủ tài khoản").input_value()
    taps(page.get_by_label("Tiểu thương đã đọc (hoặc nghe đọc) nội dung trên và đồng ý."))
    screenshot(page, "onboard-volunteer-form-filled")
    taps(page.get_by_role("button", name="Đăng ký tiểu thương"))
    page.wait_for_url("**/onboard/traders/*/?done=1*")
    seconds = time.monotonic() - started
    report("form", taps, seconds)

    assert bank_value == "970436"  # "vcb" found Vietcombank by itself
    assert account_name == "NGUYEN THI HOA BINH"  # as banks print it
    assert taps.count <= GOAL_TAPS and seconds <= GOAL_SECONDS
    vendor = Vendor.objects.get(phone="+84912345678")
    assert (vendor.full_name, vendor.stall_label, vendor.goods_category) == ("Nguyễn Thị Hoà Bình", "C-07", "meat")
    assert (vendor.bank_id, vendor.account_number, vendor.account_name) == (
        "970436",
        "0011001234567",
        "NGUYEN THI HOA BINH",
    )
    assert Consent.objects.get(vendor=vendor).collected_by == volunteer.volunteer

    assert page.get_by_test_id("trader-name").inner_text() == "Nguyễn Thị Hoà Bình"
    assert page.get_by_test_id("qr").locator("svg").is_visible()
    assert page.get_by_test_id("awaiting").is_visible()
    assert page.get_by_test_id("sms-sent").is_visible()
    assert page.get_by_test_id("card-link").get_attribute("href") == reverse("vendor-card-pdf", args=[vendor.pk])
    code = vendor.merchant_code
    assert page.get_by_test_id("merchant-code").inner_text() == f"{code[:4]} {code[4:]}"
    assert_fits_a_phone(page)
    screenshot(page, "onboard-volunteer-done")
    assert [m.to for m in sms.outbox] == ["+84912345678"]  # one SMS: merchant code and invitation
    assert texts_to("+84912345678") == {"welcome": 1, "invitation": 1, "all": 1}

    page.get_by_role("link", name="Tiểu thương của tôi").first.click()
    page.wait_for_url("**/onboard/traders/")
    assert "Nguyễn Thị Hoà Bình" in page.get_by_test_id("traders").inner_text()
    assert "Chưa có lần thanh toán nào" in page.get_by_test_id("traders").inner_text()
    assert_fits_a_phone(page)
    screenshot(page, "onboard-volunteer-my-traders")


def test_the_bank_picker_finds_a_bank_by_name_short_name_or_bin_without_diacritics(live_server, page_at, volunteer):
    page = page_at(WIDTH, height=HEIGHT)
    sign_in(page, live_server.url)
    search, select = page.get_by_label("Tìm ngân hàng"), page.locator("[data-bank-select]")

    for typed, expected in [
        ("vietcom", "970436"),
        ("970415", "970415"),
        ("ngoai thuong", "970436"),
        ("nông nghiệp", "970405"),
    ]:
        search.fill(typed)
        assert select.input_value() == expected, typed
    search.fill("ngan hang tmcp")  # many: nothing chosen for the volunteer
    assert select.locator("option:not([hidden])").count() > 5


def test_a_trader_already_registered_is_shown(live_server, page_at, volunteer):
    existing = volunteer.vendor  # Nguyễn Thị Hoà, A-12, active
    page = page_at(WIDTH, height=HEIGHT)
    sign_in(page, live_server.url)
    local = "0" + existing.phone[3:]

    taps = Taps()
    fill_trader(page, taps, name="Nguyễn Thị Hoà", phone=local, stall="A-12", bank="vcb", account="5556667778")
    taps(page.get_by_label("Tiểu thương đã đọc (hoặc nghe đọc) nội dung trên và đồng ý."))
    taps(page.get_by_role("button", name="Đăng ký tiểu thương"))
    page.wait_for_selector("[data-testid=duplicate]")

    box = page.get_by_test_id("duplicate")
    assert "Tiểu thương này đã được đăng ký" in box.inner_text()
    assert existing.full_name in box.inner_text() and "A-12" in box.inner_text()
    assert box.get_by_role("link", name="Mở hồ sơ tiểu thương này").get_attribute("href") == reverse(
        "onboard:trader", args=[existing.pk]
    )
    assert page.get_by_label("Họ và tên tiểu thương").input_value() == "Nguyễn Thị Hoà"  # kept, not retyped
    assert Vendor.objects.filter(market=volunteer.market).count() == 1
    assert_fits_a_phone(page)
    screenshot(page, "onboard-volunteer-duplicate")


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
    page.wait_for_function("JSON.parse(localStorage.getItem('cho40.onboard.queue') || '[]').length === 0")
    assert Vendor.objects.filter(phone="+84944555666").count() == 1
    assert texts_to("+84944555666") == {"welcome": 1, "invitation": 1, "all": 1}
    screenshot(page, "onboard-volunteer-resent", full_page=False)


# --- by camera scan ---------------------------------------------------------------------------


def write_y4m(png: bytes, path: Path, *, width: int = 640, height: int = 480, frames: int = 3) -> Path:
    """A few identical frames of a grey-scale video showing the QR image in
    the middle: what Chromium's fake camera (--use-file-for-fake-video-capture) plays."""
    import io

    qr = Image.open(io.BytesIO(png)).convert("L")
    side = min(width, height) - 60
    qr = qr.resize((side, side), Image.Resampling.NEAREST)
    frame = Image.new("L", (width, height), 255)
    frame.paste(qr, ((width - side) // 2, (height - side) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * (width // 2 * height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return path


@pytest.fixture
def camera_page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """A phone page whose camera films the trader's bank QR (VietQR, Vietcombank)."""
    payload = vietqr.encode(vietqr.VietQR(bank_bin=SCANNED_BANK, account_number=SCANNED_ACCOUNT))
    video = write_y4m(qr_images.render_png(payload, size=400), tmp_path / "bank-qr.y4m")
    camera = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    context = camera.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        locale="en-US",
        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        permissions=["camera"],
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
    camera.close()


def test_a_volunteer_registers_a_trader_by_scanning_their_bank_qr_in_fewer_taps(
    live_server, camera_page, volunteer, sms
):
    page = camera_page
    sign_in(page, live_server.url)

    taps = Taps()
    started = time.monotonic()
    taps(page.get_by_role("button", name="Quét mã QR ngân hàng của tiểu thương"))
    status = page.locator("[data-scan-status][data-scanned]")
    status.wait_for()
    assert f"Vietcombank · {SCANNED_ACCOUNT}" in status.inner_text()
    assert page.locator("[data-bank-select]").input_value() == SCANNED_BANK
    assert page.get_by_label("Số tài khoản").input_value() == SCANNED_ACCOUNT
    screenshot(page, "onboard-volunteer-scanned")
    fill_trader(page, taps, name="Hà Văn Quét", phone="0967 888 999", stall="F-09", bank=None, account=None)
    taps(page.get_by_label("Tiểu thương đã đọc (hoặc nghe đọc) nội dung trên và đồng ý."))
    taps(page.get_by_role("button", name="Đăng ký tiểu thương"))
    page.wait_for_url("**/onboard/traders/*/?done=1*")
    seconds = time.monotonic() - started
    report("camera scan", taps, seconds)

    assert taps.count < 8  # the form above took 8 taps
    assert seconds <= GOAL_SECONDS
    vendor = Vendor.objects.get(phone="+84967888999")
    assert (vendor.bank_id, vendor.account_number, vendor.account_name) == (
        SCANNED_BANK,
        SCANNED_ACCOUNT,
        "HA VAN QUET",
    )
    screenshot(page, "onboard-volunteer-scan-done")


# --- without JavaScript ------------------------------------------------------------------------


def test_the_form_works_without_javascript(live_server, browser, volunteer, sms):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server.url)
        assert page.get_by_label("Tìm ngân hàng").is_hidden()  # the search needs the script
        assert page.get_by_role("button", name="Quét mã QR ngân hàng của tiểu thương").is_hidden()
        page.get_by_label("Họ và tên tiểu thương").fill("Vi Thị Không Script")
        page.get_by_label("Số điện thoại di động").fill("0911222333")
        page.locator("[data-bank-select]").select_option("970415")
        page.get_by_label("Số tài khoản").fill("1002003004")
        page.get_by_role("button", name="Đăng ký tiểu thương").click()
        page.wait_for_load_state()
        assert "Hãy hỏi sự đồng ý của tiểu thương" in page.get_by_test_id("errors").inner_text()
        page.get_by_label("Tiểu thương đã đọc (hoặc nghe đọc) nội dung trên và đồng ý.").check()
        page.get_by_role("button", name="Đăng ký tiểu thương").click()
        page.wait_for_url("**/onboard/traders/*/?done=1*")

        vendor = Vendor.objects.get(phone="+84911222333")
        assert (vendor.bank_id, vendor.account_name) == ("970415", "VI THI KHONG SCRIPT")
        assert page.get_by_test_id("qr").locator("svg").is_visible()
        screenshot(page, "onboard-volunteer-no-js-done")
    finally:
        context.close()


def test_a_volunteer_of_two_markets_chooses_one_and_it_is_remembered(live_server, page_at, volunteer):
    from market.models import VolunteerAssignment

    VolunteerAssignment.objects.create(user=volunteer.volunteer, market=volunteer.other_market)
    page = page_at(WIDTH, height=HEIGHT)
    page.goto(live_server.url + "/login/")
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill("volunteer")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/onboard/")

    assert page.get_by_role("heading", level=1).inner_text() == "Hôm nay bạn đăng ký ở chợ nào?"
    assert_fits_a_phone(page)
    screenshot(page, "onboard-volunteer-markets")
    page.get_by_role("link", name=volunteer.other_market.name).click()
    assert page.get_by_test_id("market").inner_text() == volunteer.other_market.name

    page.goto(live_server.url + "/")  # next time: straight back to it
    page.wait_for_url("**/onboard/traders/new/**")
    assert page.get_by_test_id("market").inner_text() == volunteer.other_market.name
    page.get_by_role("link", name="Đổi chợ").click()
    assert page.get_by_role("link", name=volunteer.market.name).is_visible()


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
        "navigator.serviceWorker.ready.then(r => r.sync.getTags()).then(t => t.includes('cho40-onboard-send'))"
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
