"""Who may invite whom (market.invitations, the rules of market.roles), and
what an invitation creates: an inactive login, its role, an SMS."""

from __future__ import annotations

import pytest

from accounts.models import AccountEvent, Invitation, UserPhone
from common.errors import Forbidden, Invalid, NotFound
from market.invitations import board_member_remove, invite_board_member, invite_volunteer, volunteer_remove
from market.models import BoardMember, VolunteerAssignment
from tests.accounts.support import sms_to

pytestmark = pytest.mark.django_db


def test_it_lets_the_province_officer_invite_a_board_member(cast):
    invitation = invite_board_member(
        actor=cast.officer, market=cast.market, full_name="  Lê  Thị Mai ", phone="0912 000 111"
    )

    user = invitation.user
    assert user.first_name == "Lê Thị Mai"
    assert not user.is_active and not user.has_usable_password()
    assert UserPhone.objects.get(user=user).phone == "+84912000111"
    assert BoardMember.objects.filter(user=user, market=cast.market).exists()
    assert invitation.kind == Invitation.Kind.BOARD and invitation.place == "Chợ Đồng Quang"
    [body] = sms_to("+84912000111")
    assert f"/invite/{invitation.token}/" in body and invitation.code in body
    assert "ban quan ly Cho Dong Quang" in body
    assert AccountEvent.objects.filter(user=user, actor=cast.officer, kind="invited").exists()


def test_it_lets_a_superuser_invite_a_board_member_anywhere(cast):
    invitation = invite_board_member(
        actor=cast.admin, market=cast.far_market, full_name="Phạm Văn An", phone="0912000112"
    )
    assert BoardMember.objects.filter(user=invitation.user, market=cast.far_market).exists()


@pytest.mark.parametrize("who", ["board", "volunteer"])
def test_it_refuses_board_invitations_from_anyone_below_the_province(cast, who):
    with pytest.raises(Forbidden):
        invite_board_member(actor=getattr(cast, who), market=cast.market, full_name="Lê Mai", phone="0912000113")
    assert not sms_to("+84912000113")


@pytest.mark.parametrize("who", ["far_officer", "other_board", "outsider", "vendor_user"])
def test_it_answers_not_found_outside_ones_markets(cast, who):
    with pytest.raises(NotFound):
        invite_volunteer(actor=getattr(cast, who), market=cast.market, full_name="Lê Mai", phone="0912000114")
    with pytest.raises((NotFound, Forbidden)):
        invite_board_member(actor=getattr(cast, who), market=cast.market, full_name="Lê Mai", phone="0912000114")
    assert not VolunteerAssignment.objects.filter(user__phone__phone="+84912000114").exists()


@pytest.mark.parametrize("who", ["board", "officer", "admin"])
def test_it_lets_the_board_and_above_invite_volunteers(cast, who):
    invitation = invite_volunteer(actor=getattr(cast, who), market=cast.market, full_name="Đỗ Minh", phone="0912000115")
    assert VolunteerAssignment.objects.filter(user=invitation.user, market=cast.market).exists()
    assert "tinh nguyen vien" in sms_to("+84912000115")[0]


def test_a_volunteer_cannot_invite_volunteers(cast):
    with pytest.raises(Forbidden):
        invite_volunteer(actor=cast.volunteer, market=cast.market, full_name="Đỗ Minh", phone="0912000116")


def test_it_refuses_a_number_that_is_not_a_vietnamese_mobile(cast):
    with pytest.raises(Invalid) as refused:
        invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh", phone="12345")
    assert refused.value.field == "phone"


def test_it_gives_the_role_to_the_login_already_on_record_for_the_phone(cast):
    first = invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh", phone="0912000117")
    again = invite_volunteer(actor=cast.other_board, market=cast.other_market, full_name="Minh", phone="+84912000117")

    assert again.user == first.user
    assert set(VolunteerAssignment.objects.filter(user=first.user).values_list("market_id", flat=True)) == {
        cast.market.pk,
        cast.other_market.pk,
    }


def test_a_second_invitation_replaces_the_first(cast):
    first = invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh", phone="0912000118")
    second = invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh", phone="0912000118")

    first.refresh_from_db()
    assert first.revoked_at is not None and first.code_hash == ""
    assert second.revoked_at is None
    assert VolunteerAssignment.objects.filter(user=first.user, market=cast.market).count() == 1


def test_removing_a_volunteers_only_role_deactivates_them(cast):
    person = invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh", phone="0912000119").user

    assert volunteer_remove(actor=cast.board, market=cast.market, user=person) is True

    person.refresh_from_db()
    assert not person.is_active
    assert not VolunteerAssignment.objects.filter(user=person).exists()
    kinds = list(AccountEvent.objects.filter(user=person, actor=cast.board).values_list("kind", flat=True))
    assert "role_removed" in kinds and "deactivated" in kinds


def test_removing_one_of_two_roles_keeps_the_login(cast):
    person = invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh", phone="0912000120").user
    invite_volunteer(actor=cast.other_board, market=cast.other_market, full_name="Đỗ Minh", phone="0912000120")
    person.is_active = True
    person.save()

    assert volunteer_remove(actor=cast.board, market=cast.market, user=person) is False

    person.refresh_from_db()
    assert person.is_active
    assert list(VolunteerAssignment.objects.filter(user=person).values_list("market_id", flat=True)) == [
        cast.other_market.pk
    ]


def test_only_the_province_removes_board_members(cast):
    with pytest.raises(Forbidden):
        board_member_remove(actor=cast.board, market=cast.market, user=cast.board)
    with pytest.raises(NotFound):
        board_member_remove(actor=cast.far_officer, market=cast.market, user=cast.board)

    assert board_member_remove(actor=cast.officer, market=cast.market, user=cast.board) is True
    cast.board.refresh_from_db()
    assert not cast.board.is_active


def test_removing_someone_who_holds_no_such_role_is_not_found(cast):
    with pytest.raises(NotFound):
        volunteer_remove(actor=cast.board, market=cast.market, user=cast.other_board)
