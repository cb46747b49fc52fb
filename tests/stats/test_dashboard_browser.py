"""The dashboards in Chromium, as a province officer and a market board member
see them on a 360 px phone and a 1280 px desktop, with a month of payments:
charts drawn with bars, nothing wider than the phone (tables scroll in their
own box), every link and button big enough to tap. Screenshots are saved to
var/screenshots/dashboard_*.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import TAP_TARGETS_TOO_SMALL, screenshot
from tests.stats.dashboard_data import month_of_payments

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "cho40-test-pass"
PHONE, DESKTOP = 360, 1280


# The trend drawing shown at this width: its bars, and how many are taller than nothing.
VISIBLE_TREND = """() => {
  const svg = [...document.querySelectorAll('svg.chart-trend')].find(s => s.getBoundingClientRect().width > 0);
  if (!svg) return null;
  const bars = [...svg.querySelectorAll('rect.bar')];
  return {width: svg.getBoundingClientRect().width, bars: bars.length,
          drawn: bars.filter(b => b.getBoundingClientRect().height > 0).length};
}"""


@pytest.fixture
def people(cast: Any) -> Any:
    month_of_payments(cast)
    for user in (cast.officer, cast.board, cast.admin):
        user.set_password(PASSWORD)
        user.save()
    return cast


def sign_in(page: Any, base: str, username: str, next_path: str) -> None:
    page.goto(base + next_path)
    assert "/login/" in page.url  # signed out: the sign-in page first
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    assert page.url.startswith(base + next_path.split("?")[0]), page.url  # and back where they were going


def check_page(page: Any, width: int, buckets: int) -> None:
    trend = page.evaluate(VISIBLE_TREND)
    assert trend is not None, "no trend chart visible"
    assert trend["bars"] == buckets
    assert trend["drawn"] >= buckets - 2  # a day without payments may have none
    assert trend["width"] > (270 if width == PHONE else 500)  # the card's width, not a thumbnail
    assert page.locator("svg.chart-mix rect.segment").count() >= 2
    assert page.locator("svg.chart-progress").first.is_visible()
    if width == PHONE:
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        assert scroll_width <= PHONE, f"{page.url} scrolls sideways: {scroll_width} px"
    assert page.evaluate(TAP_TARGETS_TOO_SMALL) == [], page.url


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_an_officer_reads_the_province_dashboard(live_server: Any, page_at: Any, people: Any, width: int) -> None:
    page = page_at(width)
    sign_in(page, live_server.url, "officer", "/dashboard/")  # their province, at /dashboard/

    assert page.get_by_role("heading", level=1).inner_text() == "Tỉnh Thái Nguyên"
    check_page(page, width, 30)
    ranking = page.locator("table.market-table")
    assert ranking.locator("tbody tr").count() == 2
    assert page.get_by_text("Bắc Kạn").first.is_visible()
    if width == PHONE:  # the ranking is wider than the phone: it scrolls in its own box
        box = page.locator(".table-scroll").filter(has=ranking)
        assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    screenshot(page, f"dashboard_province_{width}")

    page.get_by_role("link", name="7 ngày").click()
    page.wait_for_load_state()
    assert "preset=7d" in page.url
    check_page(page, width, 7)


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_a_board_member_reads_the_market_dashboard_and_can_call_a_trader(
    live_server: Any, page_at: Any, people: Any, width: int
) -> None:
    page = page_at(width)
    sign_in(page, live_server.url, "board", f"/dashboard/markets/{people.market.pk}/")

    assert page.get_by_role("heading", level=1).inner_text() == "Chợ Đồng Quang"
    check_page(page, width, 30)
    call = page.locator("table.follow-up a[href^='tel:']")
    assert call.count() >= 2
    assert call.first.is_visible()
    box = call.first.bounding_box()
    assert box["x"] + box["width"] <= width, "the number to call is cut off"  # no sideways scroll needed to call
    screenshot(page, f"dashboard_market_{width}")

    # The board sets its target on the page: 100 % coverage, 60 % active by a date.
    page.locator("summary", has_text="Đặt mục tiêu").click()
    page.get_by_label("Quầy/sạp có mã QR (%)").fill("100")
    page.get_by_label("Tiểu thương có QR hoạt động trong 30 ngày (%)").fill("60")
    page.get_by_label("Hạn chót").fill("2030-06-30")
    assert page.evaluate(TAP_TARGETS_TOO_SMALL) == [], page.url
    if width == PHONE:
        screenshot(page, "dashboard_market_target_form_360")
    page.get_by_role("button", name="Lưu mục tiêu").click()
    page.wait_for_load_state()
    assert "Đã lưu mục tiêu." in page.locator("main").inner_text()
    assert "100 % quầy/sạp có mã QR và 60 % trong số đó hoạt động trước ngày 30/06/2030." in page.locator(
        "#target"
    ).inner_text().replace("\u00a0", " ")


def test_the_volunteer_leaderboard_on_a_phone(live_server: Any, page_at: Any, people: Any) -> None:
    page = page_at(PHONE)
    sign_in(page, live_server.url, "board", "/dashboard/volunteers/")
    assert page.locator("table.volunteer-table tbody tr").count() == 1
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE
    assert page.evaluate(TAP_TARGETS_TOO_SMALL) == [], page.url
    screenshot(page, "dashboard_volunteers_360")


def test_a_superuser_reads_the_nation_and_opens_a_province(live_server: Any, page_at: Any, people: Any) -> None:
    page = page_at(PHONE)
    sign_in(page, live_server.url, "admin", "/dashboard/")
    assert page.get_by_role("heading", level=1).inner_text() == "Việt Nam"
    check_page(page, PHONE, 30)
    screenshot(page, "dashboard_nation_360")
    page.get_by_role("link", name="Tỉnh Thái Nguyên").click()
    page.wait_for_load_state()
    assert page.url.startswith(live_server.url + "/dashboard/provinces/19/")
