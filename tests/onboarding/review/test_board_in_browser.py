"""The board's pages in Chromium on a 360×740 phone (and the home page on a
desktop): the board rejects one trader with a reason and approves another; a
volunteer cannot approve their own trader, nor can the board member who
submitted one; the board approves a pending bank-account change and only then
does the stall's QR pay the new account; the market's cards are printed.
Screenshots: var/screenshots/onboard-board-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from chopay import vietqr
from payments.cards.stall_qr import vendor_static_payload
from tests.browser import TAP_TARGETS_TOO_SMALL, screenshot
from tests.factories import VendorFactory
from vendors.models import PayoutAccountChange, Vendor, VendorDecision
from vendors.payout_changes import payout_change_request

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "cho40-test-pass"
PHONE, PHONE_HEIGHT, DESKTOP = 360, 740, 1280


@pytest.fixture
def people(cast: Any) -> Any:
    for user in (cast.board, cast.volunteer, cast.officer):
        user.set_password(PASSWORD)
        user.save()
    return cast


def phone(page_at: Any) -> Any:
    return page_at(PHONE, PHONE_HEIGHT)


def sign_in(page: Any, base: str, username: str, next_path: str) -> None:
    page.goto(base + next_path)
    assert "/login/" in page.url
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def fits_a_phone(page: Any) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE, f"{page.url} scrolls sideways: {width} px wide"
    assert page.evaluate(TAP_TARGETS_TOO_SMALL) == [], page.url


def qr_pays(vendor: Vendor) -> tuple[str, str]:
    qr = vietqr.decode(vendor_static_payload(Vendor.objects.get(pk=vendor.pk)))
    return qr.bank_bin, qr.account_number


def test_the_board_rejects_one_trader_with_a_reason_and_approves_another(live_server, page_at, people):
    market = people.market
    wrong = VendorFactory(
        market=market, full_name="Đỗ Thị Sai", status=Vendor.Status.PENDING, onboarded_by=people.volunteer
    )
    right = VendorFactory(
        market=market, full_name="Lý Văn Đúng", status=Vendor.Status.PENDING, onboarded_by=people.volunteer
    )
    page = phone(page_at)

    sign_in(page, live_server.url, "board", f"/onboard/markets/{market.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == market.name
    fits_a_phone(page)
    screenshot(page, "onboard-board-home-360")
    page.get_by_role("link", name="Tiểu thương chờ duyệt").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("review-item").count() == 2
    fits_a_phone(page)
    screenshot(page, "onboard-board-review-360")

    # A rejection without a reason is refused, with the error beside the field.
    item = page.locator(f"#vendor-{wrong.pk}")
    item.get_by_role("button", name="Từ chối Đỗ Thị Sai").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("errors").is_visible()
    assert "Hãy nêu lý do từ chối." in page.get_by_test_id("errors").inner_text()
    screenshot(page, "onboard-board-review-reason-required-360")
    assert Vendor.objects.get(pk=wrong.pk).status == Vendor.Status.PENDING

    item = page.locator(f"#vendor-{wrong.pk}")
    item.get_by_label("Lý do từ chối").fill("Tên chủ tài khoản không khớp với CCCD")
    item.get_by_role("button", name="Từ chối Đỗ Thị Sai").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Duyệt Lý Văn Đúng").click()
    page.wait_for_load_state()

    assert Vendor.objects.get(pk=wrong.pk).status == Vendor.Status.REJECTED
    assert Vendor.objects.get(pk=right.pk).status == Vendor.Status.ACTIVE
    assert list(VendorDecision.objects.order_by("id").values_list("vendor_id", "to_status", "reason")) == [
        (wrong.pk, "rejected", "Tên chủ tài khoản không khớp với CCCD"),
        (right.pk, "active", ""),
    ]
    assert "Lý Văn Đúng" in page.locator(".notice").first.inner_text()  # "Đã duyệt …"
    assert page.get_by_test_id("queue-empty").is_visible()
    rejected = page.get_by_test_id("rejected-item")
    assert "Tên chủ tài khoản không khớp với CCCD" in rejected.inner_text()
    fits_a_phone(page)
    screenshot(page, "onboard-board-review-decided-360")


def test_neither_a_volunteer_nor_the_board_member_who_submitted_can_approve_their_own(live_server, page_at, people):
    market = people.market
    by_volunteer = VendorFactory(
        market=market, full_name="Vũ Thị Tự", status=Vendor.Status.PENDING, onboarded_by=people.volunteer
    )
    by_board = VendorFactory(
        market=market, full_name="Hồ Văn Ban", status=Vendor.Status.PENDING, onboarded_by=people.board
    )

    volunteer = phone(page_at)
    sign_in(volunteer, live_server.url, "volunteer", f"/onboard/markets/{market.pk}/review/")
    assert volunteer.get_by_role("button", name="Duyệt Vũ Thị Tự").count() == 0
    assert "Vũ Thị Tự" not in volunteer.content()  # the board's page is not theirs: 404
    assert volunteer.get_by_role("heading", level=1).inner_text() == "Không tìm thấy trang"
    screenshot(volunteer, "onboard-board-volunteer-refused-360")

    board = phone(page_at)
    sign_in(board, live_server.url, "board", f"/onboard/markets/{market.pk}/review/")
    own = board.locator(f"#vendor-{by_board.pk}")
    assert own.get_by_test_id("own-submission").is_visible()
    assert own.get_by_role("button").count() == 0
    assert board.get_by_role("button", name="Duyệt Vũ Thị Tự").is_visible()  # someone else's: theirs to decide
    fits_a_phone(board)
    screenshot(board, "onboard-board-own-submission-360")

    officer = phone(page_at)
    sign_in(officer, live_server.url, "officer", f"/onboard/markets/{market.pk}/review/")
    officer.get_by_role("button", name="Duyệt Hồ Văn Ban").click()
    officer.wait_for_load_state()

    assert Vendor.objects.get(pk=by_board.pk).status == Vendor.Status.ACTIVE
    assert Vendor.objects.get(pk=by_volunteer.pk).status == Vendor.Status.PENDING


def test_the_stall_qr_changes_only_after_the_board_approves_the_new_account(live_server, page_at, people):
    vendor = people.vendor
    old = qr_pays(vendor)
    change = payout_change_request(
        actor=people.volunteer,
        vendor=vendor,
        bank=vendor.bank,
        account_number="5550001234",
        account_name=vendor.account_name,
        reason="Mất thẻ, mở tài khoản mới",
    )
    assert qr_pays(vendor) == old  # requested: the stall still pays the old account
    page = phone(page_at)

    sign_in(page, live_server.url, "board", f"/onboard/markets/{people.market.pk}/")
    page.get_by_role("link", name="Đổi tài khoản nhận tiền").click()
    page.wait_for_load_state()
    item = page.get_by_test_id("payout-item")
    assert "5550001234" in item.inner_text()
    fits_a_phone(page)
    screenshot(page, "onboard-board-payouts-360")
    assert qr_pays(vendor) == old

    page.get_by_role("button", name=f"Duyệt tài khoản mới của {vendor.full_name}").click()
    page.wait_for_load_state()

    assert qr_pays(vendor) == (old[0], "5550001234")
    change.refresh_from_db()
    assert change.outcome == PayoutAccountChange.Outcome.APPROVED
    assert change.decided_by_id == people.board.pk
    assert page.get_by_test_id("payouts-empty").is_visible()
    screenshot(page, "onboard-board-payouts-approved-360")


def test_the_board_prints_the_markets_cards(live_server, page_at, people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page = phone(page_at)

    sign_in(page, live_server.url, "board", f"/onboard/markets/{people.market.pk}/cards/")
    page.get_by_test_id("print").click()
    page.wait_for_load_state()
    download = page.get_by_test_id("download")
    download.wait_for()
    fits_a_phone(page)
    screenshot(page, "onboard-board-cards-360")

    pdf = page.request.get(live_server.url + download.get_attribute("href"))
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")


def test_the_board_home_on_a_desktop(live_server, page_at, people):
    VendorFactory(market=people.market, status=Vendor.Status.PENDING, onboarded_by=people.volunteer)
    page = page_at(DESKTOP)

    sign_in(page, live_server.url, "board", f"/onboard/markets/{people.market.pk}/")

    assert page.get_by_test_id("review-link").inner_text().split("\n")[1].strip() == "1"
    screenshot(page, "onboard-board-home-1280")


def test_the_volunteer_corrects_a_rejected_trader_and_another_board_member_approves(live_server, page_at, people):
    from tests.factories import make_board
    from vendors.reviews import vendor_reject

    market = people.market
    vendor = VendorFactory(
        market=market, full_name="Mai Thị Sửa", status=Vendor.Status.PENDING, onboarded_by=people.volunteer
    )
    vendor_reject(actor=people.board, vendor=vendor, reason="Tên chủ tài khoản sai")
    page = phone(page_at)

    sign_in(page, live_server.url, "volunteer", f"/onboard/markets/{market.pk}/traders/{vendor.pk}/correct/")
    assert "Tên chủ tài khoản sai" in page.get_by_test_id("rejection").inner_text()
    page.get_by_label("Tên chủ tài khoản").fill("Mai Thị Sửa")
    fits_a_phone(page)
    screenshot(page, "onboard-board-correct-360")
    page.get_by_role("button", name="Gửi lại để duyệt").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("status").is_visible()
    screenshot(page, "onboard-board-correct-sent-360")
    vendor.refresh_from_db()
    assert (vendor.status, vendor.account_name) == (Vendor.Status.PENDING, "MAI THI SUA")

    second = make_board(market, "board2")
    second.set_password(PASSWORD)
    second.save()
    board = phone(page_at)
    sign_in(board, live_server.url, "board2", f"/onboard/markets/{market.pk}/review/")
    assert board.locator(f"#vendor-{vendor.pk}").get_by_text("đã gửi lại").is_visible()
    board.get_by_role("button", name="Duyệt Mai Thị Sửa").click()
    board.wait_for_load_state()
    assert Vendor.objects.get(pk=vendor.pk).status == Vendor.Status.ACTIVE
