"""What the volunteer's browser tests share: the signed-in volunteer, the
tap counter, the form filled as a volunteer fills it, and the phone checks
(no sideways scrolling, tap targets of at least 44 px)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import TAP_TARGETS_TOO_SMALL

PASSWORD = "cho40-test-pass"
WIDTH, HEIGHT = 360, 740
GOAL_TAPS, GOAL_SECONDS = 12, 60

# Whatever is meant to be tapped: links, buttons, fields (hidden ones aside).
# Whatever is meant to be tapped: links, buttons, fields (hidden ones aside); a
# checkbox or radio button is tapped through its label.

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
