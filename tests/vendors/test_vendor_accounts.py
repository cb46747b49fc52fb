"""A trader's login by invitation (vendors.accounts.vendor_account_invite)."""

from __future__ import annotations

import pytest

from accounts.invitations import invitation_accept
from accounts.models import Invitation
from common.errors import NotFound
from market.invitations import invite_volunteer
from tests.accounts.support import sms_to
from tests.factories import VendorFactory
from vendors.accounts import vendor_account_invite
from vendors.sign_in import username_for_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def trader(cast):
    return VendorFactory(market=cast.market, full_name="Trần Thị Lan", phone="+84912000301", user=None)


@pytest.mark.parametrize("who", ["volunteer", "board", "officer", "admin"])
def test_whoever_onboards_in_the_market_sends_a_trader_their_login(cast, trader, who):
    invitation = vendor_account_invite(actor=getattr(cast, who), vendor=trader)

    trader.refresh_from_db()
    assert trader.user == invitation.user
    assert trader.user.first_name == "Trần Thị Lan" and not trader.user.is_active
    assert invitation.kind == Invitation.Kind.VENDOR
    [body] = sms_to("+84912000301")
    assert "tieu thuong Cho Dong Quang" in body and invitation.code in body


@pytest.mark.parametrize("who", ["other_board", "far_officer", "outsider", "vendor_user"])
def test_nobody_else_may(cast, trader, who):
    with pytest.raises(NotFound):
        vendor_account_invite(actor=getattr(cast, who), vendor=trader)
    trader.refresh_from_db()
    assert trader.user is None and not sms_to("+84912000301")


def test_a_second_invitation_reuses_the_login_and_replaces_the_first(cast, trader):
    first = vendor_account_invite(actor=cast.volunteer, vendor=trader)
    second = vendor_account_invite(actor=cast.volunteer, vendor=trader)

    assert second.user == first.user
    first.refresh_from_db()
    assert first.revoked_at is not None


def test_a_volunteer_who_is_also_a_trader_keeps_one_login(cast):
    person = invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh", phone="0912000302").user
    stall = VendorFactory(market=cast.market, full_name="Đỗ Minh", phone="+84912000302", user=None)

    invitation = vendor_account_invite(actor=cast.volunteer, vendor=stall)

    assert invitation.user == person


def test_the_trader_then_signs_in_with_the_stalls_phone(cast, trader):
    invitation = vendor_account_invite(actor=cast.volunteer, vendor=trader)
    user = invitation_accept(invitation_id=invitation.pk, password="Cho40-mat-khau-moi")

    assert username_for_phone("+84912000301") == user.username


def test_one_sms_can_carry_the_merchant_code_too(cast, trader):
    vendor_account_invite(actor=cast.volunteer, vendor=trader, note=f"Mã quầy của bạn: {trader.merchant_code}.")

    [body] = sms_to("+84912000301")
    assert body.startswith(f"Cho 4.0: Ma quay cua ban: {trader.merchant_code}. Ban duoc moi lam tieu thuong")
    assert len(body) <= 480
