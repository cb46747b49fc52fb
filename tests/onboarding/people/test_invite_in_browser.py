"""In Chromium at 360×740: the board invites a volunteer, who opens the SMS link
on their phone, sets a password and is signed in; then signs in again with
their phone number. The code page and an expired link too. Screenshots:
var/screenshots/onboard-invite-*.png."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Invitation
from market.invitations import invite_board_member
from tests.accounts.support import last_link_and_code
from tests.browser import TAP_TARGETS_TOO_SMALL, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "cho40-test-pass"
NEW_PASSWORD = "Rau-sach-Dong-Quang-7"
WIDTH, HEIGHT = 360, 740


def fits_a_phone(page: Any) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} scrolls sideways: {width} px wide"
    assert page.evaluate(TAP_TARGETS_TOO_SMALL) == [], page.url


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def test_a_volunteer_accepts_the_boards_invitation_and_signs_in(live_server, page_at, cast):
    cast.board.set_password(PASSWORD)
    cast.board.save()
    board = page_at(WIDTH, height=HEIGHT)
    sign_in(board, live_server.url, "board", PASSWORD)
    board.goto(live_server.url + "/onboard/people/")
    assert board.get_by_role("heading", level=1).inner_text() == "Nhân sự của Chợ Đồng Quang"
    board.get_by_label("Họ và tên").fill("Hoàng Thu Hà")
    board.get_by_label("Số di động").fill("0912 000 601")
    board.get_by_role("button", name="Gửi lời mời qua SMS").click()
    board.wait_for_load_state()
    assert "Đã gửi lời mời qua SMS tới Hoàng Thu Hà (0912 000 601)" in board.inner_text("main")
    assert "Đã mời, chưa nhận lời" in board.get_by_test_id("volunteer-list").inner_text()
    fits_a_phone(board)
    screenshot(board, "onboard-invite-people")

    token, _code = last_link_and_code("+84912000601")
    phone = page_at(WIDTH, height=HEIGHT)  # the volunteer's own phone
    phone.goto(f"{live_server.url}/invite/{token}/")
    assert phone.url == live_server.url + "/invite/password/"  # the token left the address bar
    assert "Xin chào Hoàng Thu Hà" in phone.get_by_test_id("invitation").inner_text()
    phone.get_by_label("Mật khẩu mới", exact=True).fill("12345678")
    phone.get_by_label("Nhập lại mật khẩu mới").fill("12345678")
    phone.get_by_role("button", name="Lưu mật khẩu và đăng nhập").click()
    phone.wait_for_load_state()
    assert "Mật khẩu này hoàn toàn là số" in phone.get_by_test_id("errors").inner_text()
    fits_a_phone(phone)
    screenshot(phone, "onboard-invite-password-error")

    phone.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    screenshot(phone, "onboard-invite-password")
    phone.get_by_role("button", name="Lưu mật khẩu và đăng nhập").click()
    phone.wait_for_load_state()
    assert phone.url.startswith(live_server.url + "/")
    who = phone.get_by_test_id("role").inner_text()
    assert "Hoàng Thu Hà" in who and "Tình nguyện viên" in who
    screenshot(phone, "onboard-invite-signed-in")

    phone.get_by_role("button", name="Đăng xuất").click()
    phone.wait_for_load_state()
    sign_in(phone, live_server.url, "0912 000 601", NEW_PASSWORD)
    assert "Hoàng Thu Hà" in phone.get_by_test_id("role").inner_text()

    phone.goto(f"{live_server.url}/invite/{token}/")  # the link again: used
    assert "Lời mời này đã được sử dụng" in phone.get_by_test_id("problem").inner_text()

    board.reload()
    assert "Đang hoạt động" in board.get_by_test_id("volunteer-list").inner_text()


def test_a_board_member_accepts_by_code_and_an_expired_link_says_so(live_server, page_at, cast):
    invitation = invite_board_member(actor=cast.officer, market=cast.market, full_name="Lê Thị Mai", phone="0912000602")
    _token, code = last_link_and_code("+84912000602")
    page = page_at(WIDTH, height=HEIGHT)

    page.goto(live_server.url + "/invite/")
    page.get_by_label("Số điện thoại của bạn").fill("0912000602")
    page.get_by_label("Mã trong tin nhắn SMS").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_load_state()
    assert "Số điện thoại hoặc mã không đúng" in page.get_by_test_id("errors").inner_text()
    fits_a_phone(page)
    screenshot(page, "onboard-invite-code-wrong")

    page.get_by_label("Mã trong tin nhắn SMS").fill(code)
    page.get_by_role("button", name="Tiếp tục").click()
    page.wait_for_load_state()
    assert "thành viên ban quản lý" in page.get_by_test_id("invitation").inner_text()
    page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Lưu mật khẩu và đăng nhập").click()
    page.wait_for_load_state()
    assert "Lê Thị Mai" in page.get_by_test_id("role").inner_text()

    later = invite_board_member(
        actor=cast.officer, market=cast.other_market, full_name="Lê Thị Mai", phone="0912000602"
    )
    Invitation.objects.filter(pk=later.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    fresh = page_at(WIDTH, height=HEIGHT)
    fresh.goto(f"{live_server.url}/invite/{later.token}/")
    assert "Lời mời này đã hết hạn" in fresh.get_by_test_id("problem").inner_text()
    fits_a_phone(fresh)
    screenshot(fresh, "onboard-invite-expired")
    assert invitation.pk != later.pk
