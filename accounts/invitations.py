"""Accounts by invitation: a person gets a login by SMS, nobody types their password.

Whoever may invite (the rules are in ``market.roles``; the services that ask
them are ``market.invitations`` and ``vendors.accounts``) calls
:func:`person_for_phone` to find or create the login of a phone number (new
logins are inactive, without a usable password), gives it its role, then
:func:`invitation_send`. The SMS carries a one-time link
(``/invite/<token>/``) and a short code to type at ``/invite/`` with one's
phone number; both lead to the same page that sets the password, which
activates the login (:func:`invitation_accept`).

- Only hashes are stored: the SHA-256 of the token (32 random characters: a
  hash without salt is enough for a secret that long) and an HMAC of the
  code under the site's secret, bound to that token.
- An invitation is used once; it expires after ``INVITATION_TTL_DAYS``; a new
  invitation of the same person revokes the ones still open.
- A code is throttled as a password is (``accounts.sign_in.attempt_begin``:
  per phone number and per client address, fixed windows) and dies after
  ``INVITATION_CODE_MAX_ATTEMPTS`` wrong tries, whatever the address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from accounts import sign_in
from accounts.models import AccountEvent, Invitation, UserPhone
from chopay.identifiers import normalize_vn_mobile
from chopay.text import fold_ascii
from common.errors import Conflict, Invalid, NotFound, TooManyAttempts
from common.sms import send_sms

CODE_DIGITS = 6
_CODE_SALT = "accounts.Invitation.code"

# What the SMS calls each role (ASCII: Vietnamese without diacritics fits an SMS part).
_SMS_ROLE = {
    Invitation.Kind.BOARD: "thanh vien ban quan ly",
    Invitation.Kind.VOLUNTEER: "tinh nguyen vien",
    Invitation.Kind.VENDOR: "tieu thuong",
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def code_hash(*, token_digest: str, code: str) -> str:
    return salted_hmac(_CODE_SALT, f"{token_digest}:{code}", algorithm="sha256").hexdigest()


def ttl() -> dt.timedelta:
    return dt.timedelta(days=settings.INVITATION_TTL_DAYS)


# --- people ---------------------------------------------------------------------------


def person_with_phone(phone: str) -> Any | None:
    """The login on record for ``phone`` (E.164), if any."""
    row = UserPhone.objects.select_related("user").filter(phone=phone).first()
    return row.user if row else None


def _free_username(phone: str) -> str:
    user_model = get_user_model()
    base = phone.lstrip("+")
    name, n = base, 1
    while user_model.objects.filter(username=name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def person_create(*, full_name: str, phone: str) -> Any:
    """A new login for a person known by name and phone: inactive, with no usable
    password until they accept an invitation. The phone is recorded for them
    when no one holds it yet (``UserPhone``); the username is the number's digits."""
    user_model = get_user_model()
    user = user_model(username=_free_username(phone), first_name=full_name.strip()[:150], is_active=False)
    user.set_unusable_password()
    user.save()
    if not UserPhone.objects.filter(phone=phone).exists():
        UserPhone.objects.create(user=user, phone=phone)
    return user


def person_for_phone(*, full_name: str, phone: str) -> tuple[Any, bool]:
    """``(user, created)``: the login on record for ``phone``, else a new one."""
    user = person_with_phone(phone)
    if user is not None:
        return user, False
    return person_create(full_name=full_name, phone=phone), True


def clean_full_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not 2 <= len(name) <= 128:
        raise Invalid("invalid_name", _("Enter the person's full name."), field="full_name")
    return name


def clean_phone(raw: str) -> str:
    phone = normalize_vn_mobile(raw or "")
    if phone is None:
        raise Invalid("invalid_phone", _("Enter a Vietnamese mobile number, for example 0912 345 678."), field="phone")
    return phone


# --- sending ----------------------------------------------------------------------------


# Room left in the outbox's 480 characters for a caller's note (see ``invitation_send``).
NOTE_MAX = 120


def sms_body(*, kind: str, place: str, token: str, code: str, note: str = "") -> str:
    link = settings.SITE_URL + reverse("accounts:invite_link", args=[token])
    where = fold_ascii(place)[:40]
    role = _SMS_ROLE.get(kind, "")  # type: ignore[call-overload]
    said = " ".join(fold_ascii(note).split())[:NOTE_MAX]
    return (
        f"Cho 4.0: {said + ' ' if said else ''}Ban duoc moi lam {role} {where}. Dat mat khau tai {link} "
        f"hoac nhap ma {code} tai {settings.SITE_URL}{reverse('accounts:invite_code')}. "
        f"Het han sau {settings.INVITATION_TTL_DAYS} ngay."
    )


@transaction.atomic
def invitation_send(*, actor: Any, user: Any, phone: str, kind: str, place: str, note: str = "") -> Invitation:
    """Send ``user`` an invitation by SMS to ``phone``, revoking their open ones.
    ``note`` (folded to ASCII, at most ``NOTE_MAX`` characters) opens the SMS, so
    that one message can carry, say, a trader's merchant code as well.

    The returned invitation carries the token and code it was sent with as
    ``.token`` and ``.code`` (not saved anywhere; for the caller's tests)."""
    now = timezone.now()
    Invitation.objects.filter(user=user, used_at=None, revoked_at=None).update(revoked_at=now, code_hash="")
    token = secrets.token_urlsafe(24)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    digest = token_hash(token)
    invitation = Invitation.objects.create(
        user=user,
        phone=phone,
        kind=kind,
        place=place[:128],
        token_hash=digest,
        code_hash=code_hash(token_digest=digest, code=code),
        created_by=actor,
        created_at=now,
        expires_at=now + ttl(),
    )
    AccountEvent.objects.create(
        user=user, actor=actor, kind=AccountEvent.Kind.INVITED, detail=f"{kind} @ {place}"[:255], at=now
    )
    send_sms(to=phone, body=sms_body(kind=kind, place=place, token=token, code=code, note=note))
    invitation.token = token  # type: ignore[attr-defined]
    invitation.code = code  # type: ignore[attr-defined]
    return invitation


# --- opening ----------------------------------------------------------------------------


def _refuse_unless_open(invitation: Invitation, *, now: dt.datetime) -> None:
    if invitation.used_at is not None:
        raise Conflict(
            "invitation_used",
            _("This invitation has already been used. Sign in with your phone number and password."),
        )
    if invitation.revoked_at is not None:
        raise Conflict(
            "invitation_revoked",
            _("This invitation was replaced by a newer one or withdrawn. Use the latest SMS you received."),
        )
    if now >= invitation.expires_at:
        raise Conflict(
            "invitation_expired",
            _("This invitation has expired. Ask whoever invited you to send a new one."),
        )


def invitation_by_token(token: str) -> Invitation:
    """The open invitation of the link's ``token``, else a domain error saying why not."""
    invitation = Invitation.objects.select_related("user").filter(token_hash=token_hash(token or "")).first()
    if invitation is None:
        raise NotFound("invitation_not_found", _("This invitation link is not valid. Check the link in the SMS."))
    _refuse_unless_open(invitation, now=timezone.now())
    return invitation


def invitation_by_code(request: Any, *, phone: str, code: str) -> Invitation:
    """The open invitation sent to ``phone`` with ``code``. Throttled like a
    password; every wrong code counts against each open invitation of the phone."""
    number = clean_phone(phone)
    try:
        window = sign_in.attempt_begin(request, counted_as=f"invitation-code:{number}")
    except sign_in.TooManyAttempts as refused:
        raise TooManyAttempts(
            "too_many_attempts",
            _("Too many wrong codes for this number or from this network. Try again in %(minutes)d minutes.")
            % {"minutes": max(1, -(-refused.retry_after // 60))},
            retry_after=refused.retry_after,
        ) from None
    except sign_in.SignInUnavailable as down:
        raise TooManyAttempts(
            "sign_in_unavailable",
            _("Sign-in is unavailable for a moment. Please try again shortly."),
            retry_after=down.retry_after,
        ) from None
    now = timezone.now()
    typed = "".join((code or "").split())
    candidates = list(
        Invitation.objects.select_related("user").filter(
            phone=number,
            used_at=None,
            revoked_at=None,
            expires_at__gt=now,
            code_attempts__lt=settings.INVITATION_CODE_MAX_ATTEMPTS,
        )
    )
    for invitation in candidates:
        if invitation.code_hash and constant_time_compare(
            invitation.code_hash, code_hash(token_digest=invitation.token_hash, code=typed)
        ):
            sign_in.attempt_succeeded(window)
            return invitation
    if candidates:
        Invitation.objects.filter(pk__in=[i.pk for i in candidates]).update(code_attempts=F("code_attempts") + 1)
    raise Invalid(
        "wrong_code",
        _(
            "The phone number or code is not right, or the code has expired. Check the SMS and try again; "
            "after %(attempts)d wrong codes ask whoever invited you to send a new invitation."
        )
        % {"attempts": settings.INVITATION_CODE_MAX_ATTEMPTS},
        field="code",
    )


def invitation_open(invitation_id: int) -> Invitation:
    """The invitation a browser proved it holds (by link or code), if still open."""
    invitation = Invitation.objects.select_related("user").filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("invitation_not_found", _("This invitation link is not valid. Check the link in the SMS."))
    _refuse_unless_open(invitation, now=timezone.now())
    return invitation


@transaction.atomic
def invitation_accept(*, invitation_id: int, password: str) -> Any:
    """Use the invitation: set the password (Django's validators), activate the login.
    Single use: the row is locked, and a second acceptance is refused."""
    invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
    if invitation is None:
        raise NotFound("invitation_not_found", _("This invitation link is not valid. Check the link in the SMS."))
    now = timezone.now()
    _refuse_unless_open(invitation, now=now)
    user = invitation.user
    validate_password(password, user)
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    invitation.used_at = now
    invitation.code_hash = ""
    invitation.save(update_fields=["used_at", "code_hash"])
    AccountEvent.objects.create(
        user=user, actor=user, kind=AccountEvent.Kind.ACCEPTED, detail=f"{invitation.kind} @ {invitation.place}"[:255]
    )
    return user
