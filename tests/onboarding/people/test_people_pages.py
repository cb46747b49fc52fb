"""/onboard/people/: the board invites and removes its volunteers, the province
its board members; everyone else gets a 404."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import UserSession
from market.invitations import invite_volunteer
from market.models import BoardMember, VolunteerAssignment
from tests.accounts.support import sms_to

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def people_url(cast) -> str:
    return f"/onboard/people/{cast.market.pk}/"


def test_the_board_sees_its_volunteers_and_no_board_section(cast):
    page = client_of(cast.board).get(people_url(cast))
    text = page.content.decode()

    assert page.status_code == 200
    assert "Nhân sự của Chợ Đồng Quang" in text
    assert "Mời tình nguyện viên" in text and "Mời thành viên ban quản lý" not in text
    assert 'data-testid="volunteer-list"' in text and "volunteer" in text


def test_the_officer_sees_both_sections(cast):
    text = client_of(cast.officer).get(people_url(cast)).content.decode()
    assert "Mời thành viên ban quản lý" in text and "Mời tình nguyện viên" in text


@pytest.mark.parametrize("who", ["volunteer", "vendor_user", "other_board", "far_officer", "outsider"])
def test_anyone_else_gets_not_found(cast, who):
    browser = client_of(getattr(cast, who))
    assert browser.get(people_url(cast)).status_code == 404
    sent = browser.post(
        f"{people_url(cast)}invite/",
        {"role": "volunteer", "volunteer-full_name": "X Y", "volunteer-phone": "0912000501"},
    )
    assert sent.status_code == 404
    assert not sms_to("+84912000501")


def test_signed_out_visitors_are_sent_to_sign_in(cast):
    page = Client().get(people_url(cast))
    assert page.status_code == 302 and page["Location"].startswith("/login/")


def test_the_market_list_goes_straight_to_the_boards_only_market(cast):
    page = client_of(cast.board).get("/onboard/people/")
    assert page.status_code == 302 and page["Location"] == people_url(cast)
    officer = client_of(cast.officer).get("/onboard/people/").content.decode()
    assert "Chợ Đồng Quang" in officer and "Chợ Thái" in officer and "Chợ Hôm" not in officer
    assert client_of(cast.volunteer).get("/onboard/people/").status_code == 404


def test_the_board_invites_a_volunteer(cast):
    browser = client_of(cast.board)

    sent = browser.post(
        f"{people_url(cast)}invite/",
        {"role": "volunteer", "volunteer-full_name": "Hoàng Thu Hà", "volunteer-phone": "0912 000 502"},
        follow=True,
    )

    text = sent.content.decode()
    assert "Đã gửi lời mời qua SMS tới Hoàng Thu Hà (0912 000 502)" in text
    assert "Đã mời, chưa nhận lời" in text
    assert VolunteerAssignment.objects.filter(market=cast.market, user__phone__phone="+84912000502").exists()
    assert len(sms_to("+84912000502")) == 1


def test_a_bad_phone_number_is_shown_on_the_form(cast):
    page = client_of(cast.board).post(
        f"{people_url(cast)}invite/", {"role": "volunteer", "volunteer-full_name": "Hà", "volunteer-phone": "12"}
    )
    text = page.content.decode()
    assert page.status_code == 400
    assert "Hãy nhập số di động Việt Nam, ví dụ 0912 345 678." in text
    assert 'value="Hà"' in text  # what was typed stays
    assert not sms_to("12")


def test_the_board_cannot_invite_board_members_even_by_hand(cast):
    page = client_of(cast.board).post(
        f"{people_url(cast)}invite/", {"role": "board", "board-full_name": "Lê Mai", "board-phone": "0912000503"}
    )
    assert page.status_code == 404
    assert not BoardMember.objects.filter(user__phone__phone="+84912000503").exists()


def test_the_officer_invites_a_board_member(cast):
    client_of(cast.officer).post(
        f"{people_url(cast)}invite/", {"role": "board", "board-full_name": "Lê Mai", "board-phone": "0912000504"}
    )
    assert BoardMember.objects.filter(market=cast.market, user__phone__phone="+84912000504").exists()


def test_the_board_removes_a_volunteer_after_confirming_and_their_sessions_end(cast):
    person = invite_volunteer(actor=cast.board, market=cast.market, full_name="Hoàng Thu Hà", phone="0912000505").user
    person.is_active = True
    person.save()
    client_of(person)
    browser = client_of(cast.board)
    url = f"{people_url(cast)}remove/volunteer/{person.pk}/"

    confirm = browser.get(url)
    assert confirm.status_code == 200 and "Bỏ Hoàng Thu Hà?" in confirm.content.decode()
    done = browser.post(url, follow=True)

    assert "Đã bỏ Hoàng Thu Hà và vô hiệu hoá tài khoản của họ." in done.content.decode()
    person.refresh_from_db()
    assert not person.is_active
    assert not UserSession.objects.filter(user_id=person.pk).exists()


def test_the_board_cannot_remove_a_board_member_nor_someone_elsewhere(cast):
    browser = client_of(cast.board)
    assert browser.post(f"{people_url(cast)}remove/board/{cast.board.pk}/").status_code == 404
    assert browser.post(f"{people_url(cast)}remove/volunteer/{cast.other_board.pk}/").status_code == 404
    assert browser.post(f"{people_url(cast)}remove/volunteer/999999/").status_code == 404
    assert BoardMember.objects.filter(user=cast.board).exists()


def test_the_remove_form_needs_its_csrf_token(cast):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.board)
    assert browser.post(f"{people_url(cast)}remove/volunteer/{cast.volunteer.pk}/").status_code == 403
    assert VolunteerAssignment.objects.filter(user=cast.volunteer).exists()
