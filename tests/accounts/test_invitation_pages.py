"""The invitation pages: /invite/<token>/ and /invite/ (phone and code), then
the password page; wrong, used or expired invitations say why, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Invitation, UserSession
from market.invitations import invite_volunteer

pytestmark = pytest.mark.django_db

PASSWORD = "Cho40-mat-khau-moi"


@pytest.fixture
def invitation(cast) -> Invitation:
    return invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh Anh", phone="0912000401")


def set_password(browser: Client, password: str = PASSWORD, again: str | None = None):
    return browser.post("/invite/password/", {"new_password1": password, "new_password2": again or password})


def test_the_link_leads_to_the_password_page_then_home_signed_in(invitation):
    browser = Client(enforce_csrf_checks=False)

    opened = browser.get(f"/invite/{invitation.token}/")
    assert opened.status_code == 302 and opened["Location"] == "/invite/password/"
    page = browser.get("/invite/password/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Đặt mật khẩu" in text and "Xin chào Đỗ Minh Anh" in text and "tình nguyện viên" in text
    assert 'name="csrfmiddlewaretoken"' in text

    done = set_password(browser)

    assert done.status_code == 302 and done["Location"] == "/"
    assert UserSession.objects.filter(user_id=invitation.user_id).exists()
    invitation.refresh_from_db()
    assert invitation.used_at is not None and invitation.user.is_active


def test_the_code_page_opens_the_invitation(invitation):
    browser = Client()
    page = browser.get("/invite/")
    assert "Nhận lời mời" in page.content.decode()

    sent = browser.post("/invite/", {"phone": "0912 000 401", "code": invitation.code})

    assert sent.status_code == 302 and sent["Location"] == "/invite/password/"
    assert set_password(browser).status_code == 302


def test_a_wrong_code_is_explained_on_the_form(invitation):
    wrong = "000000" if invitation.code != "000000" else "111111"
    page = Client().post("/invite/", {"phone": "0912000401", "code": wrong})

    assert page.status_code == 200
    assert "Số điện thoại hoặc mã không đúng" in page.content.decode()


def test_a_weak_password_is_refused_in_vietnamese(invitation):
    browser = Client()
    browser.get(f"/invite/{invitation.token}/")

    page = set_password(browser, "12345678")

    assert page.status_code == 200
    assert "Mật khẩu này hoàn toàn là số" in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.used_at is None


def test_passwords_that_differ_are_refused(invitation):
    browser = Client()
    browser.get(f"/invite/{invitation.token}/")
    assert set_password(browser, PASSWORD, PASSWORD + "x").status_code == 200


@pytest.mark.parametrize(
    ("spoil", "status", "says"),
    [
        ("wrong", 404, "Đường dẫn mời này không hợp lệ"),
        ("used", 409, "Lời mời này đã được sử dụng"),
        ("expired", 409, "Lời mời này đã hết hạn"),
        ("replaced", 409, "đã được thay bằng lời mời mới hơn"),
    ],
)
def test_a_link_that_cannot_be_used_says_why(cast, invitation, spoil, status, says):
    token = invitation.token
    if spoil == "wrong":
        token = "x" * 32
    elif spoil == "used":
        Invitation.objects.filter(pk=invitation.pk).update(used_at=timezone.now())
    elif spoil == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    else:
        invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh Anh", phone="0912000401")

    page = Client().get(f"/invite/{token}/")

    assert page.status_code == status
    assert says in page.content.decode()


def test_an_invitation_used_in_another_tab_is_refused_on_the_password_page(invitation):
    first, second = Client(), Client()
    first.get(f"/invite/{invitation.token}/")
    second.get(f"/invite/{invitation.token}/")
    assert set_password(first).status_code == 302

    page = set_password(second, "Khac-mat-khau-2026")

    assert page.status_code == 409
    invitation.user.refresh_from_db()
    assert invitation.user.check_password(PASSWORD)


def test_the_password_page_without_an_invitation_goes_to_the_code_page():
    page = Client().get("/invite/password/")
    assert page.status_code == 302 and page["Location"] == "/invite/"


def test_the_forms_need_their_csrf_token(invitation):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/invite/", {"phone": "0912000401", "code": invitation.code}).status_code == 403
