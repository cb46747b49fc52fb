"""A registration's review by the market's board (maker-checker, as Mojaloop's
merchant registry does it), and every other change of a vendor's status.

A trader registered by a volunteer (or a board member, or an import) waits
as ``pending``. Someone who manages the market and did not submit the
registration — another board member, the province — approves it
(``active``: its QR takes payments) or rejects it with a reason
(``rejected``: no QR, no card). A rejected registration is corrected
(``vendors.edits.vendor_update``) and sent back for review
(``vendor_resubmit``: ``pending`` again, whoever resent it now a maker too).

Who may decide is ``market.roles.checker_refusal``, the rule a payout-account
change is decided by as well. Every change of status, whichever way it comes
(these pages, the status API, the admin), goes through ``vendor_status_change``
and leaves a ``VendorDecision`` row. The vendor row is locked for the
decision, so two board members deciding at once give one decision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, Forbidden, Invalid
from market import roles
from vendors.models import Vendor, VendorDecision, VendorStatusError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REASON_MAX = VendorDecision._meta.get_field("reason").max_length or 500
_S = Vendor.Status


def lock_vendor_for_decision(vendor_id: int) -> Vendor:
    """Lock the vendor row until the end of the transaction: two decisions on
    one registration are serialised, and the second sees the first's status."""
    return Vendor.objects.select_for_update().get(pk=vendor_id)


def review_makers(vendor: Vendor) -> set[int]:
    """Who submitted the registration now under review: whoever registered it
    and whoever last sent it back after a rejection. None of them may decide it."""
    makers = {vendor.onboarded_by_id} if vendor.onboarded_by_id else set()
    resent_by = (
        VendorDecision.objects.filter(vendor_id=vendor.pk, from_status=_S.REJECTED, to_status=_S.PENDING)
        .order_by("-decided_at", "-id")
        .values_list("decided_by_id", flat=True)
        .first()
    )
    if resent_by:
        makers.add(resent_by)
    return makers


def decision_refusal(*, actor: User, vendor: Vendor) -> str | None:
    """Why ``actor`` may not approve or reject ``vendor``'s registration
    (``market.roles.checker_refusal``'s answer), None if they may. Pages ask it
    to show or hide the buttons; the services ask it again under the lock."""
    return roles.checker_refusal(actor, market_id=vendor.market_id, maker_ids=review_makers(vendor), vendor=vendor)


def _refuse(refusal: str) -> Forbidden:
    if refusal == roles.OWN_SUBMISSION:
        return Forbidden(
            "own_submission",
            _("You submitted this trader: another board member or the province must approve or reject it."),
        )
    if refusal == roles.OWN_STALL:
        return Forbidden(
            "own_stall", _("Your own stall is approved or rejected by another board member or the province.")
        )
    return Forbidden("board_only", _("Only the market board or the province approves or rejects a trader."))


def _clean_reason(raw: str, *, required: bool) -> str:
    reason = " ".join((raw or "").split())
    if required and not reason:
        raise Invalid("reason_required", _("Give the reason, so that the volunteer can correct it."), field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid(
            "reason_too_long",
            _("The reason may be at most %(max)d characters.") % {"max": REASON_MAX},
            field="reason",
        )
    return reason


def _check_actor(*, actor: User, vendor: Vendor, from_status: str, to_status: str) -> None:
    """Who may move ``vendor`` (locked) from ``from_status`` to ``to_status``."""
    if from_status == _S.PENDING and to_status in (_S.ACTIVE, _S.REJECTED):
        refusal = decision_refusal(actor=actor, vendor=vendor)
        if refusal is not None:
            raise _refuse(refusal)
    elif from_status == _S.REJECTED and to_status == _S.PENDING:
        if not roles.onboards_in_market(actor, vendor.market_id):
            raise Forbidden(
                "onboarders_only", _("Only the market's volunteers, board and province send a trader for review.")
            )
    elif not roles.manages_market(actor, vendor.market_id):
        raise Forbidden("board_only", _("Only the market board or the province may change a trader's status."))


def _check_move(*, actor: User, vendor: Vendor, from_status: str, to_status: str) -> None:
    if to_status not in Vendor.TRANSITIONS.get(from_status, frozenset()):
        raise Invalid(
            "invalid_transition",
            _("A trader's status cannot go from %(old)s to %(new)s.")
            % {"old": _S(from_status).label, "new": _S(to_status).label if to_status in _S.values else to_status},
            field="status",
        )
    _check_actor(actor=actor, vendor=vendor, from_status=from_status, to_status=to_status)


def _check_repeat(*, actor: User, vendor: Vendor) -> None:
    """A status asked again (a retry after a lost answer) changes nothing, but
    only to someone who may change it: sending a trader back for review is the
    onboarders', every other status the board's and the province's."""
    if vendor.status == _S.PENDING and roles.onboards_in_market(actor, vendor.market_id):
        return
    if not roles.manages_market(actor, vendor.market_id):
        raise Forbidden("board_only", _("Only the market board or the province may change a trader's status."))


def check_status_change(*, actor: User, vendor: Vendor, status: str, reason: str = "") -> None:
    """Raise what ``vendor_status_change`` would refuse, without changing
    anything (a form validating before its save; the save asks again, locked)."""
    _clean_reason(reason, required=status == _S.REJECTED)
    if status != vendor.status:
        _check_move(actor=actor, vendor=vendor, from_status=vendor.status, to_status=status)


def vendor_status_change(
    *, actor: User, vendor: Vendor, status: str, reason: str = "", expect: str | None = None
) -> Vendor:
    """Move ``vendor`` to ``status`` and record the decision; THE writer of a
    vendor's status. ``expect``: the status the caller saw (a page's button);
    if the vendor has moved on meanwhile the request is refused
    (``already_decided``) instead of deciding twice. Asking for the status it
    already has changes nothing and records nothing.

    Refusals: ``invalid_transition`` (400, ``Vendor.TRANSITIONS``),
    ``reason_required`` (400, a rejection), ``own_submission`` / ``own_stall``
    / ``board_only`` / ``onboarders_only`` (403), ``already_decided`` (409)."""
    reason = _clean_reason(reason, required=status == _S.REJECTED)
    with transaction.atomic():
        locked = lock_vendor_for_decision(vendor.pk)
        from_status = locked.status
        if expect is not None and from_status != expect:
            raise Conflict(
                "already_decided",
                _("This trader is no longer %(expected)s but %(status)s: someone decided it meanwhile.")
                % {"expected": _S(expect).label, "status": locked.get_status_display()},
            )
        if status == from_status:
            _check_repeat(actor=actor, vendor=locked)
            return locked
        _check_move(actor=actor, vendor=locked, from_status=from_status, to_status=status)
        try:
            locked.change_status(status)
        except VendorStatusError as exc:  # checked just above, under the lock: cannot happen
            raise Invalid("invalid_transition", str(exc), field="status") from exc
        VendorDecision.objects.create(
            vendor=locked,
            from_status=from_status,
            to_status=status,
            reason=reason,
            decided_by=actor,
            decided_at=timezone.now(),
        )
    vendor.status = locked.status
    return locked


def vendor_approve(*, actor: User, vendor: Vendor, reason: str = "") -> Vendor:
    """The board approves a pending registration: the stall's QR takes payments."""
    return vendor_status_change(actor=actor, vendor=vendor, status=_S.ACTIVE, reason=reason, expect=_S.PENDING)


def vendor_reject(*, actor: User, vendor: Vendor, reason: str) -> Vendor:
    """The board rejects a pending registration, saying why (required): the
    stall has no QR and no card until it is corrected and approved."""
    return vendor_status_change(actor=actor, vendor=vendor, status=_S.REJECTED, reason=reason, expect=_S.PENDING)


def vendor_resubmit(*, actor: User, vendor: Vendor, reason: str = "") -> Vendor:
    """A volunteer (or the board, the province) sends a corrected registration
    back for review: rejected → pending. They count as a maker from now on."""
    return vendor_status_change(actor=actor, vendor=vendor, status=_S.PENDING, reason=reason, expect=_S.REJECTED)


def vendor_decisions(*, vendor: Vendor) -> QuerySet[VendorDecision]:
    """A vendor's decisions, newest first (the caller has checked it may see the vendor)."""
    return VendorDecision.objects.filter(vendor=vendor).select_related("decided_by")
