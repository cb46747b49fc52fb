"""``Authorization: Token <key>`` for the API, with tokens that end (``ApiToken``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import ApiToken
from accounts.services import api_token_touch


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token header, checked against ``ApiToken``: an unknown key, an
    inactive user, a password changed since the token was issued, or a token
    unused for ``API_TOKEN_IDLE_TIMEOUT_DAYS`` answer 401 (sign in again)."""

    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        try:
            token = ApiToken.objects.select_related("user").get(key=key)
        except ApiToken.DoesNotExist:
            raise AuthenticationFailed(_("Invalid token.")) from None
        user, now = token.user, timezone.now()
        if not user.is_active:
            token.delete()  # revoked: reactivating the user does not bring it back
            raise AuthenticationFailed(_("User inactive or deleted."))
        if not token.password_unchanged(user):
            raise AuthenticationFailed(
                _("This token was revoked when the password changed; sign in again."), code="token_revoked"
            )
        if token.idle_expired(now=now):
            raise AuthenticationFailed(
                _("This token expired after %(days)d days unused; sign in again.")
                % {"days": settings.API_TOKEN_IDLE_TIMEOUT_DAYS},
                code="token_expired",
            )
        api_token_touch(token=token, now=now)
        return user, token
