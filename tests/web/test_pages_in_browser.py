"""The public pages and the sign-in, as a person sees them in Chromium, on a
360 px phone and a 1280 px desktop whose browser asks for English."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from tests.browser import TAP_TARGETS_TOO_SMALL, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.web.urls")]

PASSWORD = "cho40-test-pass"
PHONE, DESKTOP = 360, 1280

# Whatever is meant to be tapped: links, buttons, fields (hidden ones aside).


@pytest.fixture
def people(cast: Any) -> Any:
    for user in (cast.admin, cast.officer, cast.board, cast.volunteer, cast.vendor_user, cast.outsider):
        user.set_password(PASSWORD)
        user.save()
    return cast


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def assert_fits_a_phone(page: Any) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE, f"{page.url} scrolls sideways: {width} px wide"
    assert page.evaluate(TAP_TARGETS_TOO_SMALL) == [], page.url


def test_it_shows_the_landing_page_in_vietnamese_to_a_browser_asking_for_english(live_server, page_at):
    page = page_at(PHONE)
    page.goto(live_server.url + "/")

    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", level=1).inner_text() == "Chợ 4.0: đi chợ không cần tiền mặt"
    assert page.get_by_role("link", name="Đăng nhập").is_visible()
    assert page.get_by_role("button", name="English").is_visible()
    assert_fits_a_phone(page)
    screenshot(page, "landing-360")


def test_it_switches_to_english_and_back_in_one_tap_each(live_server, page_at):
    page = page_at(PHONE)
    page.goto(live_server.url + "/login/")

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.url == live_server.url + "/login/"  # stays on the page
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_label("Username or phone number").is_visible()
    page.goto(live_server.url + "/")  # the choice is remembered
    assert page.get_by_role("heading", level=1).inner_text() == "Chợ 4.0: pay at the market without cash"
    screenshot(page, "landing-360-english")

    page.get_by_role("button", name="Tiếng Việt").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("heading", level=1).inner_text() == "Chợ 4.0: đi chợ không cần tiền mặt"


def test_it_lays_out_the_landing_and_sign_in_pages_on_a_desktop(live_server, page_at):
    page = page_at(DESKTOP)
    page.goto(live_server.url + "/")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= DESKTOP
    screenshot(page, "landing-1280")

    page.get_by_role("link", name="Đăng nhập").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Đăng nhập"
    screenshot(page, "login-1280")


def test_it_labels_the_sign_in_fields_and_explains_a_wrong_password_in_vietnamese(live_server, page_at, people):
    page = page_at(PHONE)
    page.goto(live_server.url + "/login/")
    assert page.get_by_label("Tên đăng nhập hoặc số điện thoại").is_visible()
    assert page.get_by_label("Mật khẩu").is_visible()
    assert_fits_a_phone(page)
    screenshot(page, "login-360")

    sign_in(page, live_server.url, "board", "wrong-password")

    summary = page.get_by_test_id("errors")
    assert "Tên đăng nhập, số điện thoại hoặc mật khẩu không đúng" in summary.inner_text()
    assert page.get_by_label("Tên đăng nhập hoặc số điện thoại").input_value() == "board"  # kept, not retyped
    assert_fits_a_phone(page)
    screenshot(page, "login-360-wrong-password")


def test_it_locks_the_account_after_the_configured_failures_even_for_the_right_password(live_server, page_at, people):
    page = page_at(PHONE)
    for attempt in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        sign_in(page, live_server.url, "board", f"guess-{attempt}")
        assert "không đúng" in page.get_by_test_id("errors").inner_text()

    sign_in(page, live_server.url, "board", PASSWORD)

    assert page.url.startswith(live_server.url + "/login/")
    assert "Quá nhiều lần đăng nhập sai" in page.get_by_test_id("errors").inner_text()
    screenshot(page, "login-360-locked")


@pytest.mark.parametrize(
    ("username", "lands_on"),
    [
        ("admin", "dashboard"),
        ("officer", "dashboard"),
        ("board", "market dashboard"),
        ("volunteer", "onboarding"),
        ("vendor", "stall"),
    ],
)
def test_it_sends_each_role_to_its_own_page(live_server, page_at, people, username, lands_on):
    page = page_at(PHONE)
    sign_in(page, live_server.url, username)

    if lands_on == "dashboard":
        assert page.url == live_server.url + reverse("dashboard:home")
    elif lands_on == "market dashboard":
        assert page.url == live_server.url + reverse("dashboard:market", args=[people.market.pk])
    elif lands_on == "onboarding":
        # One market: straight to its new-trader form.
        assert page.url == live_server.url + reverse("onboard:trader-new", args=[people.market.pk])
        assert page.get_by_role("heading", name="Tiểu thương mới").is_visible()
    else:  # the trader's own stall page
        assert page.url == live_server.url + reverse("stall:home")
        assert page.get_by_role("heading", name="Sạp của tôi").is_visible()
        assert page.get_by_role("button", name="Đăng xuất").is_visible()
        assert_fits_a_phone(page)

        page.get_by_role("button", name="Đăng xuất").click()
        page.wait_for_load_state()
        assert page.get_by_role("link", name="Đăng nhập").is_visible()  # the landing page again


def test_it_shows_where_the_keyboard_focus_is(live_server, page_at):
    page = page_at(PHONE)
    page.goto(live_server.url + "/login/")

    seen = []
    for _ in range(6):  # skip link, brand, the two languages, the two fields
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                """() => { const el = document.activeElement, style = getComputedStyle(el);
                   return [el.innerText || el.name, style.outlineStyle, parseFloat(style.outlineWidth)]; }"""
            )
        )

    assert [name for name, _, _ in seen] == [
        "Chuyển đến nội dung chính",
        "Chợ 4.0",
        "Tiếng Việt",
        "English",
        "username",
        "password",
    ]
    assert all(style == "solid" and width >= 3 for _, style, width in seen), seen
