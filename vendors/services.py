"""Writes for vendors: onboarding, edits and status changes.

Duplicate checks name the existing vendor to those who may see it, so that a
volunteer standing at a stall can tell the trader "you are already registered
as …"; nobody else learns who holds a phone or an account.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from chopay.identifiers import generate_merchant_code, normalize_vn_mobile
from chopay.text import fold_ascii
from common.errors import Conflict, DomainError
from market import roles
from market.models import Bank, Market
from market.selectors import markets_managed_by
from vendors.models import PayoutAccountChange, PayoutChangeStateError, SharedAccountClaim, Vendor, VendorStatusError
from vendors.selectors import find_by_account, find_by_phone, vendor_list

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_ACCOUNT_NAME = re.compile(r"^[A-Z0-9 .\-]{2,64}$")
_ACCOUNT_NUMBER = re.compile(r"^[A-Za-z0-9]{6,19}$")
_MERCHANT_CODE_TRIES = 8
# Where a vendor's money goes: changed only through a PayoutAccountChange.
PAYOUT_FIELDS = ("bank", "account_number", "account_name")


def _field_error(field: str, message: str, code: str) -> ValidationError:
    """A validation error on one field that keeps its code: Django drops a
    ``code=`` given next to a dict, and the API reports the code to clients."""
    return ValidationError({field: ValidationError(message, code=code)})


def normalize_account_name(raw: str) -> str:
    """``Nguyễn Thị Hoà`` → ``NGUYEN THI HOA``, as banks print it."""
    return " ".join(fold_ascii(raw).upper().split())


def clean_phone(raw: str) -> str:
    phone = normalize_vn_mobile(raw)
    if phone is None:
        raise _field_error("phone", f"{raw!r} is not a Vietnamese mobile number.", "invalid_phone")
    return phone


def clean_account_number(raw: str) -> str:
    number = raw.strip().replace(" ", "")
    if not _ACCOUNT_NUMBER.match(number):
        raise _field_error("account_number", "Account number must be 6–19 letters or digits.", "invalid_account_number")
    return number


def clean_account(*, account_number: str, account_name: str) -> tuple[str, str]:
    number = clean_account_number(account_number)
    name = normalize_account_name(account_name)
    if not _ACCOUNT_NAME.match(name):
        raise _field_error(
            "account_name", "Account name must be the holder's name as the bank shows it.", "invalid_account_name"
        )
    return number, name


def _may_see(actor: User, vendor: Vendor) -> bool:
    return vendor_list(user=actor).filter(pk=vendor.pk).exists()


def _check_duplicates(
    *, actor: User, market: Market, phone: str, bank: Bank, account_number: str, exclude: int | None
) -> None:
    """Refuse a phone or an account another vendor of ``market`` has. The
    error names that vendor only to someone who may see them (a volunteer,
    board member or officer of the market), so that the volunteer at the stall
    can tell the trader "you are already registered as …"; anyone else (a
    vendor editing their own record) gets the same code without the name."""
    same_phone = find_by_phone(market_id=market.pk, phone=phone)
    if same_phone is not None and same_phone.pk != exclude:
        if _may_see(actor, same_phone):
            message = (
                f"This phone is already registered in {market.name} to vendor "
                f"#{same_phone.pk} {same_phone.full_name} ({same_phone.merchant_code})."
            )
        else:
            message = _("This phone is already registered to another vendor of this market.")
        raise _field_error("phone", message, "duplicate_phone")
    same_account = find_by_account(market_id=market.pk, bank_bin=bank.bin, account_number=account_number)
    if same_account is not None and same_account.pk != exclude:
        if _may_see(actor, same_account):
            message = (
                f"This {bank.short_name} account is already registered in {market.name} to "
                f"vendor #{same_account.pk} {same_account.full_name} ({same_account.merchant_code})."
            )
        else:
            message = _("This bank account is already registered to another vendor of this market.")
        raise _field_error("account_number", message, "duplicate_account")


# --- one account, one trader ------------------------------------------------------

# A confirmed or approved claim must be used within this time.
CLAIM_USE_WINDOW = dt.timedelta(days=1)


def _lock_account(*, bank: Bank, account_number: str) -> None:
    """Serialise, until the end of the current transaction, everyone putting
    this (bank, account) on a vendor: on PostgreSQL a transaction-scoped
    advisory lock keyed on the account (two registrations in different markets
    touch no common row, so no row lock or constraint could order them);
    SQLite serialises writers by itself."""
    if not connection.in_atomic_block:
        raise RuntimeError("account_claim_check must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"vendors.account:{bank.bin}:{account_number}"],
            )


def account_registered_elsewhere() -> DomainError:
    # Nothing about the other registration: not its name, id, market, merchant code or phone.
    return Conflict(
        "account_registered_elsewhere",
        _(
            "This bank account is already registered to a stall in another market. A trader may use one "
            "account for stalls in several markets only after confirming it: request a code sent by SMS to "
            "the trader's phone on record, or the approval of the board holding the account "
            "(POST /api/v1/vendors/account-claims/), then register the stall with account_claim."
        ),
        field="account_number",
    )


def account_claim_check(
    *,
    actor: User,
    market: Market,
    bank: Bank,
    account_number: str,
    claim: SharedAccountClaim | int | None = None,
    exclude_vendor_id: int | None = None,
) -> SharedAccountClaim | None:
    """Decide whether ``actor`` may put (``bank``, ``account_number``) on a
    vendor of ``market``: THE check for every way an account gets onto a
    vendor (registration, edit, an approved payout-account change).

    A receiving account identifies one trader. It may stand on stalls of
    other markets than ``market`` only when they are the same trader:

    - nobody else holds it (vendors other than ``exclude_vendor_id``, in any
      status, in other markets) → allowed, returns ``None``;
    - ``actor`` manages (board, province officer, superuser) every market
      whose stall holds it → allowed: the holding board itself registers;
    - ``claim`` (a ``SharedAccountClaim`` or its id) confirmed by the trader's
      SMS code or approved by the holding board, for this market and account,
      not used, decided less than ``CLAIM_USE_WINDOW`` ago → allowed, returns
      the claim, locked: the caller marks it used in the same transaction
      with :func:`account_claim_consume`;
    - otherwise raises ``DomainError`` 409 ``account_registered_elsewhere`` (or
      ``account_claim_invalid`` for a claim that does not cover this), which
      tells nothing about the other registration.

    Holders in ``market`` itself are the per-market duplicate check's job.
    Must run inside ``transaction.atomic()``: it takes a lock on the account
    so that two registrations racing in different markets cannot both pass.
    """
    _lock_account(bank=bank, account_number=account_number)
    holders = Vendor.objects.filter(bank_id=bank.bin, account_number=account_number).exclude(market_id=market.pk)
    if exclude_vendor_id is not None:
        holders = holders.exclude(pk=exclude_vendor_id)
    holding = dict(holders.values_list("pk", "market_id"))
    if not holding:
        return None
    managed = set(markets_managed_by(user=actor).filter(pk__in=set(holding.values())).values_list("pk", flat=True))
    if managed == set(holding.values()):
        return None
    if claim is None:
        raise account_registered_elsewhere()
    claim_id = claim.pk if isinstance(claim, SharedAccountClaim) else claim
    found = SharedAccountClaim.objects.select_for_update().filter(pk=claim_id).first()
    usable = (
        found is not None
        and found.status in (SharedAccountClaim.Status.CONFIRMED, SharedAccountClaim.Status.APPROVED)
        and found.vendor_id is None
        and found.market_id == market.pk
        and (found.bank_id, found.account_number) == (bank.bin, account_number)
        and found.holder_id in holding
        and found.decided_at is not None
        and timezone.now() < found.decided_at + CLAIM_USE_WINDOW
    )
    if not usable:
        raise Conflict(
            "account_claim_invalid",
            _(
                "This confirmation does not cover this account and market, was already used or has expired; "
                "request a new one."
            ),
            field="account_claim",
        )
    return found


def account_claim_consume(*, claim: SharedAccountClaim, vendor: Vendor) -> None:
    """Mark ``claim`` (returned by :func:`account_claim_check`) used by ``vendor``."""
    updated = SharedAccountClaim.objects.filter(
        pk=claim.pk,
        status__in=(SharedAccountClaim.Status.CONFIRMED, SharedAccountClaim.Status.APPROVED),
        vendor__isnull=True,
    ).update(status=SharedAccountClaim.Status.USED, vendor=vendor, used_at=timezone.now())
    if updated != 1:
        raise RuntimeError(f"shared account claim {claim.pk} was used meanwhile")  # it was locked: cannot happen


def vendor_create(
    *,
    actor: User,
    market: Market,
    full_name: str,
    phone: str,
    bank: Bank,
    account_number: str,
    account_name: str,
    stall_label: str = "",
    goods_category: str = Vendor.GoodsCategory.OTHER,
    account_claim: int | None = None,
) -> Vendor:
    """Register a trader's stall (pending until the board activates it). An
    account that a stall of another market holds needs ``account_claim``
    (see :func:`account_claim_check`)."""
    if not roles.onboards_in_market(actor, market.pk):
        raise PermissionDenied("you may not onboard vendors in this market")
    phone = clean_phone(phone)
    account_number, account_name = clean_account(account_number=account_number, account_name=account_name)
    for _attempt in range(_MERCHANT_CODE_TRIES):
        vendor = Vendor(
            market=market,
            full_name=" ".join(full_name.split()),
            phone=phone,
            stall_label=stall_label.strip(),
            goods_category=goods_category,
            bank=bank,
            account_number=account_number,
            account_name=account_name,
            merchant_code=generate_merchant_code(),
            onboarded_by=actor,
            onboarded_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                _check_duplicates(
                    actor=actor, market=market, phone=phone, bank=bank, account_number=account_number, exclude=None
                )
                claim = account_claim_check(
                    actor=actor, market=market, bank=bank, account_number=account_number, claim=account_claim
                )
                # Uniqueness is _check_duplicates' job (it names the vendor) and, in a
                # race, the database's; full_clean's own check would answer a bare
                # "unique_together" when the other request commits in between.
                vendor.full_clean(
                    exclude=["merchant_code", "user", "onboarded_by"], validate_unique=False, validate_constraints=False
                )
                vendor.save()
                if claim is not None:
                    account_claim_consume(claim=claim, vendor=vendor)
            return vendor
        except IntegrityError as exc:
            # Two volunteers registering the same trader at once: the constraint
            # wins the race; report it like the checked duplicate.
            _check_duplicates(
                actor=actor, market=market, phone=phone, bank=bank, account_number=account_number, exclude=None
            )
            if "merchant_code" not in str(exc):
                raise
    raise RuntimeError("could not allocate a unique merchant code")


def _payout_fields_changed(*, vendor: Vendor, data: dict[str, Any]) -> bool:
    """Whether ``data`` would change where the vendor's money goes. The same
    values sent back (a client that PUTs the whole record) change nothing."""
    if "bank" in data and getattr(data["bank"], "pk", data["bank"]) != vendor.bank_id:
        return True
    if "account_number" in data and str(data["account_number"]).strip().replace(" ", "") != vendor.account_number:
        return True
    return "account_name" in data and normalize_account_name(str(data["account_name"])) != vendor.account_name


def vendor_update(*, actor: User, vendor: Vendor, data: dict[str, Any]) -> Vendor:
    """Edit a vendor's details. The vendor may edit their own; staff with
    onboarding rights in the market may edit any in it.

    The payout account (bank, account number, account name) is not edited
    here: it changes only through ``payout_change_request`` and a board
    decision, so a request that would change it is refused whole."""
    is_self = roles.is_vendor_user(actor, vendor)
    if not is_self and not roles.onboards_in_market(actor, vendor.market_id):
        raise PermissionDenied("you may not change this vendor")
    if _payout_fields_changed(vendor=vendor, data=data):
        raise ValidationError(
            _(
                "The bank account is not edited here: request a payout-account change with "
                "POST /api/v1/vendors/%(id)s/payout-changes/; the market board approves it."
            )
            % {"id": vendor.pk},
            code="payout_change_required",
        )
    for field in PAYOUT_FIELDS:
        data.pop(field, None)
    if "phone" in data:
        data["phone"] = clean_phone(data["phone"])
    if "full_name" in data:
        data["full_name"] = " ".join(data["full_name"].split())
    for field, value in data.items():
        setattr(vendor, field, value)
    try:
        with transaction.atomic():
            _check_duplicates(
                actor=actor,
                market=vendor.market,
                phone=vendor.phone,
                bank=vendor.bank,
                account_number=vendor.account_number,
                exclude=vendor.pk,
            )
            vendor.full_clean(exclude=["user", "onboarded_by"], validate_unique=False, validate_constraints=False)
            # Only what was edited: writing back the account this instance
            # read would undo a payout change approved since it was loaded.
            vendor.save(update_fields=[*data, "updated_at"])
    except IntegrityError:
        _check_duplicates(
            actor=actor,
            market=vendor.market,
            phone=vendor.phone,
            bank=vendor.bank,
            account_number=vendor.account_number,
            exclude=vendor.pk,
        )
        raise
    return vendor


def vendor_change_status(*, actor: User, vendor: Vendor, status: str) -> Vendor:
    """Activate (QR verified), suspend or re-activate. Board and province only."""
    if not roles.manages_market(actor, vendor.market_id):
        raise PermissionDenied("only the market board or the province may change a vendor's status")
    with transaction.atomic():
        locked = Vendor.objects.select_for_update().get(pk=vendor.pk)
        try:
            locked.change_status(status)
        except VendorStatusError as exc:
            raise _field_error("status", str(exc), "invalid_transition") from exc
    return locked


# --- Payout-account changes ----------------------------------------------------------
#
# Where a vendor's money goes changes only here, and is recorded in a
# PayoutAccountChange whatever the outcome. The vendor row (which every QR,
# card, sale request and payment match reads) keeps the old account until a
# board decision; see docs/security.md.


class PayoutChangeDenied(PermissionDenied):
    """The caller is in the vendor's scope but may not do this (HTTP 403)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class PayoutChangeConflict(Exception):
    """The change's state does not allow this now (HTTP 409)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _lock_vendor(vendor_id: int) -> Vendor:
    """Lock the vendor row: serialises every request and decision about its
    payout account (always taken before the change row, so no deadlock).

    No join: PostgreSQL re-checks a row updated while it waited against the
    joined rows it read before, so a join on the bank would lose the vendor
    whose bank the other transaction just changed."""
    return Vendor.objects.select_for_update().get(pk=vendor_id)


def _lock_payout_change(change_id: int) -> PayoutAccountChange:
    """Lock one change row: two decisions on it cannot both see it pending."""
    return PayoutAccountChange.objects.select_for_update().get(pk=change_id)


def _ensure_account_usable(*, actor: User, vendor: Vendor, bank: Bank, account_number: str) -> None:
    """The registration checks, for an account about to receive ``vendor``'s
    money: no other stall of the market holds it, and a stall of another
    market holds it only if ``actor`` manages that market too
    (:func:`account_claim_check`; a payout change carries no trader claim)."""
    _check_duplicates(
        actor=actor,
        market=vendor.market,
        phone=vendor.phone,
        bank=bank,
        account_number=account_number,
        exclude=vendor.pk,
    )
    with transaction.atomic():  # the account lock is held until the caller's transaction ends
        account_claim_check(
            actor=actor, market=vendor.market, bank=bank, account_number=account_number, exclude_vendor_id=vendor.pk
        )


def _clean_reason(raw: str, *, field: str) -> str:
    reason = " ".join(raw.split())
    if not reason:
        raise _field_error(field, _("Give a reason."), "required")
    return reason


def _notify_payout_change(change: PayoutAccountChange) -> None:
    """Tell the trader, in the same transaction as the change (the SMS outbox).

    The sender is named by ``settings.PAYOUT_CHANGE_NOTIFIER`` because SMS
    lives in ``payments``, which builds on ``vendors``: this app must not
    import it."""
    path = getattr(settings, "PAYOUT_CHANGE_NOTIFIER", "")
    if path:
        import_string(path)(change=change)


def _apply_payout_change(*, change: PayoutAccountChange, vendor: Vendor, actor: User, reason: str) -> None:
    """Point the (locked) vendor at the new account and record the approval.

    The new account passes the registration checks again: formats and the
    account rule, which may have changed since the request."""
    if (vendor.bank_id, vendor.account_number, vendor.account_name) != (
        change.old_bank_id,
        change.old_account_number,
        change.old_account_name,
    ):
        raise PayoutChangeConflict(
            _("The vendor's account is no longer the one this change starts from; reject it and request again."),
            code="payout_change_stale",
        )
    account_number, account_name = clean_account(
        account_number=change.new_account_number, account_name=change.new_account_name
    )
    _ensure_account_usable(actor=actor, vendor=vendor, bank=change.new_bank, account_number=account_number)
    vendor.bank = change.new_bank
    vendor.account_number = account_number
    vendor.account_name = account_name
    vendor.full_clean(exclude=["user", "onboarded_by"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            vendor.save(update_fields=["bank", "account_number", "account_name", "updated_at"])
    except IntegrityError:
        # Another vendor took the account between the check and the save.
        _ensure_account_usable(actor=actor, vendor=vendor, bank=change.new_bank, account_number=account_number)
        raise
    change.decide(outcome=PayoutAccountChange.Outcome.APPROVED, by=actor, reason=reason)


def payout_change_request(
    *,
    actor: User,
    vendor: Vendor,
    bank: Bank,
    account_number: str,
    account_name: str,
    reason: str,
) -> PayoutAccountChange:
    """Ask to pay ``vendor`` into another account.

    The vendor themself and anyone who may edit the vendor (volunteers of the
    market, the board, the province) may ask. A request by the market's board
    (or the province, or a superuser) is that board's own decision: applied at
    once and recorded as approved by them. Any other request, including one by
    a board member about their own stall, waits for a board decision.
    """
    is_self = roles.is_vendor_user(actor, vendor)
    if not is_self and not roles.onboards_in_market(actor, vendor.market_id):
        raise PermissionDenied("you may not change this vendor")
    reason = _clean_reason(reason, field="reason")
    account_number, account_name = clean_account(account_number=account_number, account_name=account_name)
    board_decides = not is_self and roles.manages_market(actor, vendor.market_id)
    with transaction.atomic():
        locked = _lock_vendor(vendor.pk)
        if (locked.bank_id, locked.account_number, locked.account_name) == (bank.pk, account_number, account_name):
            raise _field_error(
                "account_number", _("This is already the vendor's payout account."), "payout_account_unchanged"
            )
        if locked.payout_changes.filter(outcome=PayoutAccountChange.Outcome.PENDING).exists():
            raise PayoutChangeConflict(
                _("A payout-account change for this vendor is already waiting for the board's decision."),
                code="payout_change_pending",
            )
        _ensure_account_usable(actor=actor, vendor=locked, bank=bank, account_number=account_number)
        change = PayoutAccountChange(
            vendor=locked,
            old_bank=locked.bank,
            old_account_number=locked.account_number,
            old_account_name=locked.account_name,
            new_bank=bank,
            new_account_number=account_number,
            new_account_name=account_name,
            requested_by=actor,
            reason=reason,
            requested_at=timezone.now(),
        )
        change.full_clean(exclude=["vendor", "old_bank", "new_bank", "requested_by"], validate_constraints=False)
        try:
            with transaction.atomic():
                change.save()
        except IntegrityError as exc:
            # The vendor lock makes this unreachable; the partial unique
            # constraint still holds if a writer ever skips the lock.
            raise PayoutChangeConflict(
                _("A payout-account change for this vendor is already waiting for the board's decision."),
                code="payout_change_pending",
            ) from exc
        if board_decides:
            _apply_payout_change(change=change, vendor=locked, actor=actor, reason="")
        _notify_payout_change(change)
    return change


def _ensure_may_decide(*, actor: User, change: PayoutAccountChange) -> None:
    vendor = change.vendor
    if not roles.manages_market(actor, vendor.market_id):
        raise PayoutChangeDenied(
            _("Only the market board or the province decides a payout-account change."),
            code="payout_change_board_only",
        )
    if change.requested_by_id == actor.pk:
        raise PayoutChangeDenied(
            _("You requested this change: another board member must decide it."),
            code="payout_change_own_request",
        )
    if roles.is_vendor_user(actor, vendor):
        raise PayoutChangeDenied(
            _("A change to your own stall's account is decided by another board member."),
            code="payout_change_own_request",
        )


def _decide(*, actor: User, change: PayoutAccountChange, outcome: str, reason: str) -> PayoutAccountChange:
    with transaction.atomic():
        vendor = _lock_vendor(change.vendor_id)
        locked = _lock_payout_change(change.pk)
        try:
            if outcome == PayoutAccountChange.Outcome.APPROVED:
                if locked.outcome != PayoutAccountChange.Outcome.PENDING:
                    raise PayoutChangeStateError(f"cannot go from {locked.outcome} to {outcome}")
                _apply_payout_change(change=locked, vendor=vendor, actor=actor, reason=reason)
            else:
                locked.decide(outcome=outcome, by=actor, reason=reason)
        except PayoutChangeStateError as exc:
            raise PayoutChangeConflict(
                _("This payout-account change has already been decided (%(outcome)s).")
                % {"outcome": locked.get_outcome_display()},
                code="payout_change_decided",
            ) from exc
        locked.vendor = vendor
        _notify_payout_change(locked)
    return locked


def payout_change_approve(*, actor: User, change: PayoutAccountChange, reason: str = "") -> PayoutAccountChange:
    """The board approves: from now on every QR and match uses the new account."""
    _ensure_may_decide(actor=actor, change=change)
    return _decide(actor=actor, change=change, outcome=PayoutAccountChange.Outcome.APPROVED, reason=reason.strip())


def payout_change_reject(*, actor: User, change: PayoutAccountChange, reason: str) -> PayoutAccountChange:
    """The board refuses, saying why; the vendor keeps the old account."""
    _ensure_may_decide(actor=actor, change=change)
    reason = _clean_reason(reason, field="reason")
    return _decide(actor=actor, change=change, outcome=PayoutAccountChange.Outcome.REJECTED, reason=reason)


def payout_change_cancel(*, actor: User, change: PayoutAccountChange, reason: str = "") -> PayoutAccountChange:
    """Whoever asked withdraws their own pending request."""
    if change.requested_by_id != actor.pk:
        raise PayoutChangeDenied(
            _("Only whoever requested a payout-account change may cancel it."),
            code="payout_change_requester_only",
        )
    return _decide(actor=actor, change=change, outcome=PayoutAccountChange.Outcome.CANCELLED, reason=reason.strip())
