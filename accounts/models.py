"""API tokens that end by themselves; phones, invitations, the accounts audit
and sessions that know their user (below ``ApiToken``).

API tokens that end by themselves.

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
from django.contrib.sessions.base_session import AbstractBaseSession
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


class UserPhone(models.Model):
    """The mobile number (E.164) of a person with a login: board members,
    volunteers and traders invited by SMS. One number, one person: an
    invitation to a number on record reaches the person who holds it, and
    signing in with the number finds their login (``vendors.sign_in``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone", verbose_name=_("user")
    )
    phone = models.CharField(_("phone"), max_length=12, unique=True, help_text=_("E.164, e.g. +84912345678"))

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self) -> str:
        return self.phone


class Invitation(models.Model):
    """An SMS invitation to set a password: a one-time link and a short code.

    Neither is stored: ``token_hash`` is the SHA-256 of the link's token (a
    random 32-character secret) and ``code_hash`` an HMAC of the code bound
    to that token. An invitation is open until it is used once, revoked (by
    a new invitation of the same person, or their deactivation) or expired
    (``INVITATION_TTL_DAYS``); the code dies after
    ``INVITATION_CODE_MAX_ATTEMPTS`` wrong tries. The role it grants was
    given when it was sent (the role row exists already); accepting only sets
    the password and activates the login.
    """

    class Kind(models.TextChoices):
        BOARD = "board", _("market board member")
        VOLUNTEER = "volunteer", _("volunteer")
        VENDOR = "vendor", _("trader")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("user")
    )
    phone = models.CharField(_("phone"), max_length=12, db_index=True)
    kind = models.CharField(_("role"), max_length=16, choices=Kind.choices)
    place = models.CharField(_("market"), max_length=128, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64)
    code_attempts = models.PositiveSmallIntegerField(_("wrong code attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_kind_display()}, {self.place})"

    def is_open(self, *, now: dt.datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at


class AccountEvent(models.Model):
    """The audit of accounts: who invited, activated or deactivated whom, and when."""

    class Kind(models.TextChoices):
        INVITED = "invited", _("invited")
        ACCEPTED = "accepted", _("accepted the invitation")
        ROLE_REMOVED = "role_removed", _("role removed")
        DEACTIVATED = "deactivated", _("deactivated")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_events", verbose_name=_("user")
    )
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("account event")
        verbose_name_plural = _("account events")

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"


class UserSession(AbstractBaseSession):
    """A web session that knows whose it is (``SESSION_ENGINE = "accounts.sessions"``),
    so that deactivating a person deletes their sessions with one query."""

    user_id = models.IntegerField(null=True, db_index=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls) -> type[Any]:
        from accounts.sessions import SessionStore

        return SessionStore
