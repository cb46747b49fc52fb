"""Payout-account changes: where a vendor's money goes changes only here, and
is recorded in a PayoutAccountChange whatever the outcome. The vendor row
(which every QR, card, sale request and payment match reads) keeps the old
account until a board decision; see docs/security.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from market import roles
from market.models import Bank
from vendors.models import PayoutAccountChange, PayoutChangeStateError, Vendor
from vendors.services import account_claim_check, check_duplicates, clean_account, field_error

if TYPE_CHECKING:
    from django.contrib.auth.models import User


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
    check_duplicates(
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
        raise field_error(field, _("Give a reason."), "required")
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
            raise field_error(
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
    # The maker-checker rule shared with a registration's review (market.roles).
    refusal = roles.checker_refusal(
        actor, market_id=change.vendor.market_id, maker_ids=[change.requested_by_id], vendor=change.vendor
    )
    if refusal == roles.NOT_MANAGER:
        raise PayoutChangeDenied(
            _("Only the market board or the province decides a payout-account change."),
            code="payout_change_board_only",
        )
    if refusal == roles.OWN_SUBMISSION:
        raise PayoutChangeDenied(
            _("You requested this change: another board member must decide it."),
            code="payout_change_own_request",
        )
    if refusal == roles.OWN_STALL:
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
