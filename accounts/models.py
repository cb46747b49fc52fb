"""API tokens that end by themselves.

A token is the bearer's password for the API, so it must not outlive what
it stands for. It is refused (401) once its user is inactive, once the
user's password has changed since it was issued, and once it has gone
unused for ``settings.API_TOKEN_IDLE_TIMEOUT_DAYS``. None of this needs a
signal or a hook on the user model: the token carries an HMAC of the
password hash it was issued under (as Django's session carries the session
auth hash), and the check compares it at every use.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

# last_used_at is written at most this often per token (one conditional UPDATE).
TOUCH_INTERVAL = dt.timedelta(minutes=1)
_MAC_SALT = "accounts.ApiToken.password_mac"


def password_mac(password_hash: str, *, secret: str | bytes | None = None) -> str:
    """An HMAC of the user's password hash: changes whenever the password does."""
    return salted_hmac(_MAC_SALT, password_hash, secret=secret, algorithm="sha256").hexdigest()


class ApiToken(models.Model):
    """One API token per user (``Authorization: Token <key>``)."""

    key = models.CharField(_("key"), max_length=40, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token", verbose_name=_("user")
    )
    password_mac = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), default=timezone.now)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} ({self.key[:6]}…)"

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(20)

    def idle_expired(self, *, now: dt.datetime) -> bool:
        return now - self.last_used_at > dt.timedelta(days=settings.API_TOKEN_IDLE_TIMEOUT_DAYS)

    def password_unchanged(self, user: Any) -> bool:
        """Whether ``user``'s password is still the one this token was issued under."""
        secrets_in_use = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        return any(
            constant_time_compare(self.password_mac, password_mac(user.password, secret=secret))
            for secret in secrets_in_use
        )

    def valid_for(self, user: Any, *, now: dt.datetime) -> bool:
        return bool(user.is_active) and self.password_unchanged(user) and not self.idle_expired(now=now)
