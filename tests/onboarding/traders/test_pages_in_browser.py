"""The volunteer's pages in Chromium on a 360×740 phone: a trader registered
by the form and by scanning their bank QR with the camera (a fake camera fed
with a VietQR image), counting taps and time against the goal (≤ 12 taps and
≤ 60 s by form, fewer taps by scan); a trader already registered shown; and a
the form without JavaScript and the market picker. The offline queue is
test_offline_in_browser.py."""

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
from tests.onboarding.traders.browser_support import (
    GOAL_SECONDS,
    GOAL_TAPS,
    HEIGHT,
    PASSWORD,
    SCANNED_ACCOUNT,
    SCANNED_BANK,
    WIDTH,
    Taps,
    assert_fits_a_phone,
    fill_trader,
    report,
    sign_in,
    volunteer,
)
from tests.onboarding.traders.support import texts_to
from vendors.models import Consent, Vendor

__all__ = ["volunteer"]  # the fixture

pytestmark = pytest.mark.django_db(transaction=True)


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
