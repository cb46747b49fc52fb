"""Issuing and using API tokens (the rules are on ``ApiToken``); deactivating a login."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import TOUCH_INTERVAL, AccountEvent, ApiToken, Invitation, UserSession, password_mac


@transaction.atomic
def api_token_issue(*, user: Any) -> ApiToken:
    """The token a successful sign-in returns: the user's current one while it
    is still valid (so every device of the user keeps working), else a fresh
    key bound to the user's password as it is now."""
    now = timezone.now()
    token, created = ApiToken.objects.select_for_update().get_or_create(
        user=user,
        defaults={"key": ApiToken.new_key(), "password_mac": password_mac(user.password), "created_at": now},
    )
    if created:
        return token
    if token.valid_for(user, now=now):
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
        return token
    token.key = ApiToken.new_key()
    token.password_mac = password_mac(user.password)
    token.created_at = token.last_used_at = now
    token.save(update_fields=["key", "password_mac", "created_at", "last_used_at"])
    return token


def api_token_touch(*, token: ApiToken, now: dt.datetime) -> None:
    """Record that ``token`` was used: one conditional UPDATE, and only when
    the last record is older than ``TOUCH_INTERVAL`` (most requests write nothing)."""
    if now - token.last_used_at < TOUCH_INTERVAL:
        return
    ApiToken.objects.filter(pk=token.pk, last_used_at__lt=now - TOUCH_INTERVAL).update(last_used_at=now)


@transaction.atomic
def user_deactivate(*, actor: Any, user: Any, detail: str = "") -> None:
    """Switch a login off: inactive, every web session deleted, the API token
    deleted, open invitations revoked, and an audit row (who, when). Callers
    check who may (``market.invitations``); reactivation is a new invitation."""
    now = timezone.now()
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    UserSession.objects.filter(user_id=user.pk).delete()
    ApiToken.objects.filter(user_id=user.pk).delete()
    Invitation.objects.filter(user=user, used_at=None, revoked_at=None).update(revoked_at=now, code_hash="")
    AccountEvent.objects.create(user=user, actor=actor, kind=AccountEvent.Kind.DEACTIVATED, detail=detail[:255], at=now)
