"""Shared-account claims: how one trader's account comes to stand on stalls
in several markets (``SharedAccountClaim``; the rule is
``vendors.services.account_claim_check``).

A volunteer registering a stall whose account a stall of another market
already holds asks for a claim, either

- ``sms_code``: a 6-digit code is sent by SMS to the phone ON RECORD for the
  existing registration (never to a number the volunteer types); the trader
  reads it out and the volunteer types it in (:func:`account_claim_confirm`).
  The code lives ``CODE_TTL``, is stored hashed, works once, and
  ``MAX_WRONG_CODES`` wrong tries end the claim; at most
  ``MAX_SMS_PER_ACCOUNT`` codes per account per ``SMS_WINDOW``, so nobody
  can flood a trader with messages;
- ``board``: the board (or the province officer) holding the existing
  registration approves or rejects it (:func:`account_claim_decide`); the
  requester cannot decide their own claim.

Answers to the requester never say who holds the account.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import TYPE_CHECKING, Final

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from chopay.text import fold_ascii
from common.errors import Conflict, DomainError, Forbidden, Invalid, TooManyAttempts
from market import roles
from market.models import Bank, Market
from market.selectors import markets_managed_by, markets_onboardable_by
from vendors.models import SharedAccountClaim, Vendor
from vendors.services import clean_account_number
from vendors.sms import send_sms

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

CODE_DIGITS: Final = 6
CODE_TTL: Final = dt.timedelta(minutes=10)
BOARD_TTL: Final = dt.timedelta(days=7)
MAX_WRONG_CODES: Final = 5
MAX_SMS_PER_ACCOUNT: Final = 3
SMS_WINDOW: Final = dt.timedelta(hours=1)
_HASH_SALT: Final = "vendors.SharedAccountClaim.code"

Status = SharedAccountClaim.Status


def _hash_code(code: str, *, nonce: str | None = None) -> str:
    nonce = nonce or secrets.token_hex(8)
    return f"{nonce}${salted_hmac(_HASH_SALT, f'{nonce}:{code}', algorithm='sha256').hexdigest()}"


def _code_matches(code: str, stored: str) -> bool:
    nonce, _sep, _digest = stored.partition("$")
    return bool(nonce) and hmac.compare_digest(_hash_code(code, nonce=nonce), stored)


def account_claim_list(*, user: User | AnonymousUser) -> QuerySet[SharedAccountClaim]:
    """Claims ``user`` may see: those they asked for or may use (onboarding
    rights in the claim's market) and those they decide (managing the market
    of the existing registration)."""
    qs = SharedAccountClaim.objects.select_related("market", "bank", "holder", "requested_by", "decided_by")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if roles.is_superuser(user):
        return qs
    return qs.filter(
        Q(requested_by_id=user.pk)
        | Q(market_id__in=markets_onboardable_by(user=user).values("pk"))
        | Q(holder__market_id__in=markets_managed_by(user=user).values("pk"))
    )


def _not_needed() -> DomainError:
    return Conflict(
        "claim_not_needed",
        _("No stall of another market holds this account (or you manage those that do): register the stall directly."),
        field="account_number",
    )


def _sms_body(*, code: str, market: Market, bank: Bank, account_number: str) -> str:
    where = fold_ascii(market.name)[:40]
    return (
        f"Cho 4.0: Ma xac nhan {code}. {where} muon dung tai khoan {bank.short_name} ••••{account_number[-4:]} "
        f"cua ban cho mot quay moi. Chi doc ma cho tinh nguyen vien neu dung la ban dang ky. "
        f"Het han sau {int(CODE_TTL.total_seconds() // 60)} phut."
    )


def account_claim_request(
    *, actor: User, market: Market, bank: Bank, account_number: str, method: str
) -> SharedAccountClaim:
    """Ask to put an account that a stall of another market holds on a new
    stall in ``market`` (onboarding rights there needed). ``sms_code`` sends
    the code to the existing registration's phone in the same transaction."""
    if not roles.onboards_in_market(actor, market.pk):
        raise PermissionDenied("you may not onboard vendors in this market")
    if method not in SharedAccountClaim.Method.values:
        raise Invalid("invalid_method", _("Unknown confirmation method."), field="method")
    account_number = clean_account_number(account_number)
    holders = Vendor.objects.filter(bank_id=bank.bin, account_number=account_number).exclude(market_id=market.pk)
    # The first registration of the account is the one that speaks for the trader.
    holder = holders.order_by("pk").first()
    if holder is None:
        raise _not_needed()
    holding_markets = set(holders.values_list("market_id", flat=True))
    if set(markets_managed_by(user=actor).filter(pk__in=holding_markets).values_list("pk", flat=True)) == (
        holding_markets
    ):
        raise _not_needed()
    now = timezone.now()
    with transaction.atomic():
        if method == SharedAccountClaim.Method.SMS_CODE:
            recent = SharedAccountClaim.objects.filter(
                bank=bank,
                account_number=account_number,
                method=SharedAccountClaim.Method.SMS_CODE,
                requested_at__gte=now - SMS_WINDOW,
            ).count()
            if recent >= MAX_SMS_PER_ACCOUNT:
                raise TooManyAttempts(
                    "too_many_codes",
                    _("Too many codes were sent for this account; try again in an hour or ask the board."),
                )
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        claim = SharedAccountClaim(
            market=market,
            bank=bank,
            account_number=account_number,
            holder=holder,
            method=method,
            expires_at=now + (CODE_TTL if method == SharedAccountClaim.Method.SMS_CODE else BOARD_TTL),
            requested_by=actor,
            code_hash=_hash_code(code) if method == SharedAccountClaim.Method.SMS_CODE else "",
        )
        claim.save()
        if method == SharedAccountClaim.Method.SMS_CODE:
            send_sms(
                to=holder.phone, body=_sms_body(code=code, market=market, bank=bank, account_number=account_number)
            )
    return claim


def _expire_if_due(claim: SharedAccountClaim, now: dt.datetime) -> None:
    if claim.status == Status.PENDING and now >= claim.expires_at:
        claim.status = Status.EXPIRED
        claim.code_hash = ""
        claim.save(update_fields=["status", "code_hash"])


def _not_pending(claim: SharedAccountClaim) -> DomainError:
    return Conflict(
        "claim_not_pending",
        _("This claim is %(status)s; request a new one.") % {"status": claim.get_status_display()},
    )


def account_claim_confirm(*, actor: User, claim: SharedAccountClaim, code: str) -> SharedAccountClaim:
    """The volunteer types the code the trader received. Right: the claim is
    confirmed (and the code spent); wrong: counted, and the
    ``MAX_WRONG_CODES``-th wrong code rejects the claim."""
    if not roles.onboards_in_market(actor, claim.market_id):
        raise PermissionDenied("you may not onboard vendors in this market")
    now = timezone.now()
    with transaction.atomic():
        locked = SharedAccountClaim.objects.select_for_update().get(pk=claim.pk)
        _expire_if_due(locked, now)
        if locked.method != SharedAccountClaim.Method.SMS_CODE:
            raise Invalid("not_an_sms_claim", _("This claim waits for the board; it has no code."))
        if locked.status != Status.PENDING:
            wrong = None
        elif _code_matches(code.strip(), locked.code_hash):
            locked.status, locked.decided_at, locked.decided_by, locked.code_hash = Status.CONFIRMED, now, actor, ""
            locked.save(update_fields=["status", "decided_at", "decided_by", "code_hash"])
            return locked
        else:
            locked.attempts += 1
            wrong = MAX_WRONG_CODES - locked.attempts
            if wrong <= 0:
                locked.status, locked.decided_at, locked.code_hash = Status.REJECTED, now, ""
                locked.reason = "too many wrong codes"
            locked.save(update_fields=["attempts", "status", "decided_at", "code_hash", "reason"])
    # Outside the block: the count and the expiry stay written.
    if wrong is None or wrong <= 0:
        raise _not_pending(locked)
    raise Invalid(
        "wrong_code",
        _("Wrong code; %(left)d tries left.") % {"left": wrong},
        field="code",
    )


def account_claim_decide(
    *, actor: User, claim: SharedAccountClaim, approve: bool, reason: str = ""
) -> SharedAccountClaim:
    """The board (or province officer) holding the existing registration
    approves or rejects a ``board`` claim; never the person who asked."""
    if not roles.manages_market(actor, claim.holder.market_id):
        raise PermissionDenied("only the board holding the account may decide")
    if claim.requested_by_id == actor.pk:
        raise Forbidden(
            "own_claim",
            _("Whoever asked for a claim cannot decide it; another board member or the province does."),
        )
    now = timezone.now()
    with transaction.atomic():
        locked = SharedAccountClaim.objects.select_for_update().get(pk=claim.pk)
        _expire_if_due(locked, now)
        if locked.method != SharedAccountClaim.Method.BOARD:
            raise Invalid("not_a_board_claim", _("This claim is confirmed by the trader's SMS code, not by the board."))
        if locked.status == Status.PENDING:
            locked.status = Status.APPROVED if approve else Status.REJECTED
            locked.decided_by, locked.decided_at, locked.reason = actor, now, " ".join(reason.split())[:500]
            locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
            return locked
    raise _not_pending(locked)  # outside the block: an expiry found here stays written
