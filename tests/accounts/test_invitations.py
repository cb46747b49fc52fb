"""Invitations (accounts.invitations): hashes only, single use, expiry,
replacement, codes throttled and limited; deactivation (accounts.services)
ends sessions and API tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.invitations import invitation_accept, invitation_by_code, invitation_by_token
from accounts.models import AccountEvent, ApiToken, Invitation, UserSession
from accounts.services import user_deactivate
from accounts.sign_in import sign_in
from common.errors import Conflict, Invalid, NotFound, TooManyAttempts
from market.invitations import invite_volunteer
from tests.accounts.support import last_link_and_code

pytestmark = pytest.mark.django_db

PASSWORD = "Cho40-mat-khau-moi"
PHONE = "+84912000201"


def request_from(address: str = "203.0.113.7") -> object:
    return RequestFactory().post("/invite/", REMOTE_ADDR=address)


@pytest.fixture
def invitation(cast) -> Invitation:
    return invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh Anh", phone="0912 000 201")


def test_it_stores_neither_the_token_nor_the_code(invitation):
    token, code = last_link_and_code(PHONE)
    assert (token, code) == (invitation.token, invitation.code)
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert not any(token in str(value) or value == code for value in stored.values())
    assert len(stored["token_hash"]) == 64 and len(stored["code_hash"]) == 64


def test_the_link_opens_the_invitation_once(invitation):
    assert invitation_by_token(invitation.token).pk == invitation.pk

    user = invitation_accept(invitation_id=invitation.pk, password=PASSWORD)

    assert user.is_active and user.check_password(PASSWORD)
    with pytest.raises(Conflict) as refused:
        invitation_by_token(invitation.token)
    assert refused.value.code == "invitation_used"
    with pytest.raises(Conflict):
        invitation_accept(invitation_id=invitation.pk, password="Another-pass-2026")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert AccountEvent.objects.filter(user=user, kind="accepted").exists()


def test_a_wrong_token_is_not_found(invitation):
    with pytest.raises(NotFound):
        invitation_by_token(invitation.token[:-1] + ("A" if invitation.token[-1] != "A" else "B"))


def test_an_expired_invitation_is_refused_by_link_and_by_code(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    with pytest.raises(Conflict) as refused:
        invitation_by_token(invitation.token)
    assert refused.value.code == "invitation_expired"
    with pytest.raises(Invalid):
        invitation_by_code(request_from(), phone="0912000201", code=invitation.code)
    with pytest.raises(Conflict):
        invitation_accept(invitation_id=invitation.pk, password=PASSWORD)


def test_it_expires_after_the_configured_days(cast, settings):
    settings.INVITATION_TTL_DAYS = 2
    made = invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh", phone="0912000202")
    assert dt.timedelta(days=2) - dt.timedelta(seconds=5) < made.expires_at - made.created_at <= dt.timedelta(days=2)


def test_the_code_opens_the_invitation_in_any_spelling_of_the_phone(invitation):
    found = invitation_by_code(request_from(), phone="+84 912-000-201", code=f" {invitation.code} ")
    assert found.pk == invitation.pk


def test_a_new_invitation_makes_the_old_link_and_code_useless(cast, invitation):
    newer = invite_volunteer(actor=cast.board, market=cast.market, full_name="Đỗ Minh Anh", phone="0912000201")

    with pytest.raises(Conflict) as refused:
        invitation_by_token(invitation.token)
    assert refused.value.code == "invitation_revoked"
    with pytest.raises(Invalid):
        invitation_by_code(request_from(), phone=PHONE, code=invitation.code)
    assert invitation_by_code(request_from(), phone=PHONE, code=newer.code).pk == newer.pk


def test_the_code_dies_after_the_allowed_wrong_tries_whatever_the_network(invitation, settings):
    wrong = "000000" if invitation.code != "000000" else "111111"
    for attempt in range(settings.INVITATION_CODE_MAX_ATTEMPTS):
        with pytest.raises(Invalid):
            invitation_by_code(request_from(f"198.51.100.{attempt}"), phone=PHONE, code=wrong)
        cache.clear()  # a new throttle window each time: only the invitation's own count is left

    with pytest.raises(Invalid):
        invitation_by_code(request_from(), phone=PHONE, code=invitation.code)
    assert Invitation.objects.get(pk=invitation.pk).code_attempts == settings.INVITATION_CODE_MAX_ATTEMPTS
    assert invitation_by_token(invitation.token).pk == invitation.pk  # the link still works


def test_codes_are_throttled_like_passwords(invitation, settings):
    settings.INVITATION_CODE_MAX_ATTEMPTS = 100
    wrong = "000000" if invitation.code != "000000" else "111111"
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        with pytest.raises(Invalid):
            invitation_by_code(request_from(), phone=PHONE, code=wrong)

    with pytest.raises(TooManyAttempts):
        invitation_by_code(request_from("198.51.100.99"), phone=PHONE, code=invitation.code)


def test_the_password_must_pass_djangos_validators(invitation):
    with pytest.raises(ValidationError):
        invitation_accept(invitation_id=invitation.pk, password="12345678")
    invitation.refresh_from_db()
    assert invitation.used_at is None and not invitation.user.is_active


def test_an_invited_volunteer_signs_in_with_their_phone_number(invitation):
    invitation_accept(invitation_id=invitation.pk, password=PASSWORD)

    user = sign_in(request_from(), username="0912 000 201", password=PASSWORD)

    assert user is not None and user.pk == invitation.user_id


def test_deactivation_ends_sessions_and_tokens_and_is_audited(cast, invitation):
    user = invitation_accept(invitation_id=invitation.pk, password=PASSWORD)
    browser = Client()
    browser.force_login(user)
    assert UserSession.objects.filter(user_id=user.pk).count() == 1
    api = APIClient()
    key = api.post("/api/v1/auth/token/", {"username": "0912000201", "password": PASSWORD}, format="json").json()[
        "token"
    ]
    other = Client()
    other.force_login(cast.board)

    user_deactivate(actor=cast.officer, user=user, detail="test")

    assert not UserSession.objects.filter(user_id=user.pk).exists()
    assert UserSession.objects.filter(user_id=cast.board.pk).exists()  # nobody else signed out
    assert not ApiToken.objects.filter(user=user).exists()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/vendors/").status_code == 401
    event = AccountEvent.objects.get(user=user, kind="deactivated")
    assert event.actor == cast.officer and event.at is not None
    user.refresh_from_db()
    assert not user.is_active


def test_superusers_read_invitations_and_the_audit_in_the_admin_without_secrets(cast, invitation):
    admin = Client()
    admin.force_login(cast.admin)
    for url in ("/admin/accounts/invitation/", f"/admin/accounts/invitation/{invitation.pk}/change/"):
        page = admin.get(url)
        assert page.status_code == 200
        assert invitation.token not in page.content.decode()
        assert invitation.code_hash not in page.content.decode()
    assert admin.get("/admin/accounts/accountevent/").status_code == 200
