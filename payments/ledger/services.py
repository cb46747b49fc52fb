"""Writes on recorded payments: assigning an unmatched credit to a vendor,
correcting a wrong attribution, marking a payment refunded or disputed and
settling a dispute. Every one leaves a ``PaymentEvent``.

Only the people who oversee the money act here (board members of the market,
province officers, superusers); a vendor may see a payment but not move it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, DomainError, Invalid, NotFound
from payments.ledger.selectors import payment_is_managed_by, vendors_assignable_by
from payments.models import Payment, PaymentEvent, TransitionError
from payments.receipts.publish import publish_receipts_on_commit
from vendors.models import Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NOTE_MAX_LENGTH = 500


def _check_manages(*, actor: User, payment: Payment) -> None:
    if not payment_is_managed_by(user=actor, payment=payment):
        raise PermissionDenied(_("Only the market board or the province may change this payment."))


def _clean_note(note: str) -> str:
    note = " ".join(note.split())
    if len(note) > NOTE_MAX_LENGTH:
        raise Invalid("note_too_long", _("The note may have at most %d characters.") % NOTE_MAX_LENGTH, field="note")
    return note


def _vendor_not_found(vendor_id: int) -> DomainError:
    # One answer for a vendor that does not exist and one outside the caller's
    # markets, so that nobody learns which ids exist elsewhere.
    return NotFound("vendor_not_found", _("Unknown vendor %s.") % vendor_id, field="vendor")


def payment_assignable_vendor(*, actor: User, payment: Payment, vendor_id: int) -> Vendor:
    """The vendor ``vendor_id`` if ``actor`` may give ``payment`` to them.

    Checked in this order, so that the answer about a vendor id never depends
    on what that id is unless the caller may see the vendor: the actor must
    oversee the payment (403), then the vendor must be in a market the actor
    manages (404 ``vendor_not_found`` for an unknown id and for one elsewhere
    alike), then the payment's own state is looked at (the services)."""
    _check_manages(actor=actor, payment=payment)
    vendor = vendors_assignable_by(user=actor).filter(pk=vendor_id).first()
    if vendor is None:
        raise _vendor_not_found(vendor_id)
    return vendor


def _check_vendor_for(*, actor: User, payment: Payment, vendor: Vendor) -> None:
    """``vendor`` may receive ``payment`` from ``actor``: one of the markets the
    actor manages (any other does not exist as far as the caller knows), and
    the payment's market when it has one. A credit queued without a market
    goes to a market whose active stall holds the receiving account, when one
    does (those markets' boards and officers are the ones who see it)."""
    if not vendors_assignable_by(user=actor).filter(pk=vendor.pk).exists():
        raise _vendor_not_found(vendor.pk)
    if payment.market_id is not None:
        allowed = {payment.market_id}
    else:
        allowed = (
            set(
                Vendor.objects.filter(
                    account_number=payment.receiving_account, status=Vendor.Status.ACTIVE
                ).values_list("market_id", flat=True)
            )
            if payment.receiving_account
            else set()
        )
    if allowed and vendor.market_id not in allowed:
        if payment.market_id is None:
            message = _(
                "The payment reached an account that stalls of other markets hold; vendor %s trades elsewhere."
            ) % (vendor.pk,)
        else:
            message = _("The payment arrived in market %(market)s; vendor %(vendor)s trades in another market.") % {
                "market": payment.market_id,
                "vendor": vendor.pk,
            }
        raise Invalid("vendor_not_in_market", message, field="vendor")


def payment_assign(*, actor: User, payment: Payment, vendor: Vendor, note: str = "") -> Payment:
    """Attribute an unmatched credit to ``vendor`` (the unmatched queue).

    Sets the vendor and the vendor's market, marks the attribution as manual
    and records an ``assigned`` event. Two board members clicking at once are
    resolved by a conditional UPDATE on ``vendor IS NULL``: exactly one row
    count is 1; the other caller gets ``already_assigned`` (409).
    """
    _check_manages(actor=actor, payment=payment)
    note = _clean_note(note)
    _check_vendor_for(actor=actor, payment=payment, vendor=vendor)
    if payment.vendor_id is not None:
        raise Conflict(
            "already_assigned",
            _("Payment %(id)s is already attributed to vendor %(vendor)s.")
            % {"id": payment.pk, "vendor": payment.vendor_id},
        )

    previous_market, previous_attribution = payment.market_id, payment.attribution
    now = timezone.now()
    with transaction.atomic():
        updated = Payment.objects.filter(pk=payment.pk, vendor__isnull=True, market=previous_market).update(
            vendor=vendor, market=vendor.market_id, attribution=Payment.Attribution.MANUAL, updated_at=now
        )
        if updated != 1:
            raise Conflict(
                "already_assigned",
                _("Payment %s was assigned by someone else a moment ago.") % payment.pk,
            )
        PaymentEvent.objects.create(
            payment=payment,
            kind="assigned",
            actor=actor,
            data={
                "vendor": vendor.pk,
                "market": vendor.market_id,
                "note": note,
                "previous_market": previous_market,
                "previous_attribution": previous_attribution,
            },
        )
        publish_receipts_on_commit([payment.pk], late=True)  # a receipt only if it is a succeeded one
    payment.vendor, payment.market_id = vendor, vendor.market_id
    payment.attribution, payment.updated_at = Payment.Attribution.MANUAL, now
    return payment


def _payment_mark(
    *, actor: User, payment: Payment, to: str, note: str, only_from: frozenset[str] | None = None
) -> Payment:
    """Move ``payment`` to ``to`` (from any status the state machine allows, or
    only from ``only_from``). The UPDATE is conditional on the status read, so
    a check on it here cannot be overtaken."""
    _check_manages(actor=actor, payment=payment)
    note = _clean_note(note)
    try:
        if only_from is not None and payment.status not in only_from:
            raise TransitionError(f"{payment.status} → {to} is not this action")
        with transaction.atomic():
            payment.transition(to, actor=actor, data={"note": note} if note else None)
            if to == Payment.Status.SUCCEEDED:  # a dispute resolved for the vendor: the money is theirs again
                publish_receipts_on_commit([payment.pk], late=True)
    except TransitionError:
        current = Payment.objects.filter(pk=payment.pk).values_list("status", flat=True).first()
        raise Conflict(
            "invalid_transition",
            _("Payment %(id)s is %(status)s; it cannot become %(to)s.")
            % {"id": payment.pk, "status": current, "to": to},
        ) from None
    return payment


def payment_refund(*, actor: User, payment: Payment, note: str = "") -> Payment:
    """Record that the money went back to the payer (succeeded or disputed → refunded)."""
    return _payment_mark(actor=actor, payment=payment, to=Payment.Status.REFUNDED, note=note)


def payment_dispute(*, actor: User, payment: Payment, note: str = "") -> Payment:
    """Record that the payer or the vendor contests the payment (succeeded → disputed)."""
    return _payment_mark(actor=actor, payment=payment, to=Payment.Status.DISPUTED, note=note)


def payment_resolve_dispute(*, actor: User, payment: Payment, note: str = "") -> Payment:
    """Close a dispute in the vendor's favour: the money stays (disputed → succeeded).
    A dispute settled for the payer is a refund (``payment_refund``)."""
    return _payment_mark(
        actor=actor,
        payment=payment,
        to=Payment.Status.SUCCEEDED,
        note=note,
        only_from=frozenset({Payment.Status.DISPUTED}),
    )


# Attributions a person or an account match decided, which can be wrong: a
# payer who scanned a stall QR, a sale QR or typed a merchant code named the
# vendor themselves, and moving that money is a dispute or a refund instead.
REASSIGNABLE = frozenset({Payment.Attribution.MANUAL, Payment.Attribution.ACCOUNT})


def payment_reassign(*, actor: User, payment: Payment, vendor: Vendor, note: str = "") -> Payment:
    """Move a payment attributed by the board or by the receiving account to
    another vendor of the same market (a wrong assignment, an account two
    stalls share). Race-safe like ``payment_assign``: the UPDATE is
    conditional on the vendor the caller saw; audited as ``reassigned``."""
    _check_manages(actor=actor, payment=payment)
    note = _clean_note(note)
    _check_vendor_for(actor=actor, payment=payment, vendor=vendor)
    if payment.vendor_id is None:
        raise Conflict(
            "not_assigned",
            _("Payment %s is in the unmatched queue; assign it instead.") % payment.pk,
        )
    if payment.attribution not in REASSIGNABLE:
        raise Conflict(
            "attribution_fixed",
            _("The payer chose vendor %(vendor)s (%(how)s); record a dispute or a refund instead.")
            % {"vendor": payment.vendor_id, "how": payment.get_attribution_display()},
        )
    if vendor.pk == payment.vendor_id:
        raise Invalid("same_vendor", _("Payment %s is already attributed to that vendor.") % payment.pk, field="vendor")

    previous_vendor, previous_attribution = payment.vendor_id, payment.attribution
    now = timezone.now()
    with transaction.atomic():
        updated = Payment.objects.filter(pk=payment.pk, vendor=previous_vendor, attribution__in=REASSIGNABLE).update(
            vendor=vendor, attribution=Payment.Attribution.MANUAL, updated_at=now
        )
        if updated != 1:
            raise Conflict(
                "changed_meanwhile",
                _("Payment %s was changed by someone else a moment ago; reload it.") % payment.pk,
            )
        PaymentEvent.objects.create(
            payment=payment,
            kind="reassigned",
            actor=actor,
            data={
                "vendor": vendor.pk,
                "previous_vendor": previous_vendor,
                "previous_attribution": previous_attribution,
                "note": note,
            },
        )
        publish_receipts_on_commit([payment.pk], late=True)  # now a receipt of the new vendor
    payment.vendor, payment.attribution, payment.updated_at = vendor, Payment.Attribution.MANUAL, now
    return payment
