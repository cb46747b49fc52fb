"""POST /api/v1/markets/<id>/invitations/ and /api/v1/vendors/<id>/account-invitation/."""

from __future__ import annotations

import pytest

from market.models import BoardMember, VolunteerAssignment
from tests.accounts.support import last_link_and_code
from tests.conftest import client_for
from tests.factories import VendorFactory

pytestmark = pytest.mark.django_db


def invite(user, market, **body):
    return client_for(user).post(f"/api/v1/markets/{market.pk}/invitations/", body, format="json")


def test_the_board_invites_a_volunteer_and_the_answer_holds_no_secret(cast):
    r = invite(cast.board, cast.market, role="volunteer", full_name="Hoàng Thu Hà", phone="0912 000 701")

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["role"] == "volunteer" and body["market"] == "Chợ Đồng Quang" and body["phone"] == "+84912000701"
    token, code = last_link_and_code("+84912000701")
    assert token not in r.content.decode() and code not in r.content.decode()
    assert VolunteerAssignment.objects.filter(user_id=body["user"], market=cast.market).exists()


def test_the_board_may_not_invite_board_members(cast):
    r = invite(cast.board, cast.market, role="board", full_name="Lê Mai", phone="0912000702")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_allowed"
    assert invite(cast.officer, cast.market, role="board", full_name="Lê Mai", phone="0912000702").status_code == 201
    assert BoardMember.objects.filter(market=cast.market, user__phone__phone="+84912000702").exists()


def test_outside_ones_scope_it_is_not_found(cast):
    assert (
        invite(cast.other_board, cast.market, role="volunteer", full_name="X Y", phone="0912000703").status_code == 404
    )
    assert invite(cast.far_officer, cast.market, role="board", full_name="X Y", phone="0912000703").status_code == 404


def test_bad_input_is_a_400_with_the_field(cast):
    r = invite(cast.board, cast.market, role="volunteer", full_name="Hà", phone="12")
    assert r.status_code == 400 and r.json()["error"]["field"] == "phone"
    assert invite(cast.board, cast.market, role="king", full_name="Hà", phone="0912000704").status_code == 400


def test_a_volunteer_sends_a_trader_their_login(cast):
    trader = VendorFactory(market=cast.market, phone="+84912000705", user=None)

    r = client_for(cast.volunteer).post(f"/api/v1/vendors/{trader.pk}/account-invitation/")

    assert r.status_code == 201 and r.json()["role"] == "vendor"
    trader.refresh_from_db()
    assert trader.user_id == r.json()["user"]
    assert client_for(cast.other_board).post(f"/api/v1/vendors/{trader.pk}/account-invitation/").status_code == 404
    assert client_for(cast.vendor_user).post(f"/api/v1/vendors/{cast.vendor.pk}/account-invitation/").status_code == 404
