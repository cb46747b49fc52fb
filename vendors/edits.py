"""Edits of a registered vendor: their details (not the payout account,
which changes only by a board decision: ``vendors.payout_changes``), their
status (``vendors.reviews``), and the correction of a registration the
board rejected, sent back for review. Registration itself, and the checks
both share, are ``vendors.services``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from common.errors import Conflict
from market import roles
from vendors.models import Vendor
from vendors.reviews import vendor_status_change
from vendors.services import (
    PAYOUT_FIELDS,
    account_claim_check,
    check_duplicates,
    clean_account,
    clean_phone,
    normalize_account_name,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _check_duplicates_of(*, actor: User, vendor: Vendor) -> None:
    """``check_duplicates`` for the vendor as edited (itself left out)."""
    check_duplicates(
        actor=actor,
        market=vendor.market,
        phone=vendor.phone,
        bank=vendor.bank,
        account_number=vendor.account_number,
        exclude=vendor.pk,
    )


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
            _check_duplicates_of(actor=actor, vendor=vendor)
            vendor.full_clean(exclude=["user", "onboarded_by"], validate_unique=False, validate_constraints=False)
            # Only what was edited: writing back the account this instance
            # read would undo a payout change approved since it was loaded.
            vendor.save(update_fields=[*data, "updated_at"])
    except IntegrityError:
        _check_duplicates_of(actor=actor, vendor=vendor)
        raise
    return vendor


def vendor_change_status(*, actor: User, vendor: Vendor, status: str, reason: str = "") -> Vendor:
    """Approve, reject (with a reason), suspend, re-activate or resend a
    vendor: ``vendors.reviews.vendor_status_change``, which checks who may
    (maker-checker for a registration under review) and records the decision."""
    return vendor_status_change(actor=actor, vendor=vendor, status=status, reason=reason)


# Registration fields a correction may change (a rejected registration has no
# QR and no card, so its account is corrected here, not by a payout change).
CORRECTABLE_FIELDS = ("full_name", "phone", "stall_label", "goods_category", *PAYOUT_FIELDS)


def vendor_correct(*, actor: User, vendor: Vendor, data: dict[str, Any], reason: str = "") -> Vendor:
    """Correct a registration the board rejected and send it back for review
    (``vendors.reviews.vendor_resubmit``: rejected → pending), in one
    transaction. Its account too: a rejected registration has no QR or card,
    and the board reviews the whole registration again. The checks are
    registration's (formats, duplicates in the market, the one-account rule);
    ``actor`` becomes a maker and cannot approve it."""
    if not roles.onboards_in_market(actor, vendor.market_id):
        raise PermissionDenied("you may not change this vendor")
    unknown = set(data) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ValueError(f"not correctable: {sorted(unknown)}")
    with transaction.atomic():
        locked = Vendor.objects.select_for_update().get(pk=vendor.pk)
        if locked.status != Vendor.Status.REJECTED:
            raise Conflict(
                "not_rejected",
                _("Only a registration the board rejected is corrected and sent again; this one is %(status)s.")
                % {"status": locked.get_status_display()},
            )
        values = dict(data)
        if "phone" in values:
            values["phone"] = clean_phone(values["phone"])
        if "full_name" in values:
            values["full_name"] = " ".join(str(values["full_name"]).split())
        if "stall_label" in values:
            values["stall_label"] = str(values["stall_label"]).strip()
        if "account_number" in values or "account_name" in values:
            values["account_number"], values["account_name"] = clean_account(
                account_number=values.get("account_number", locked.account_number),
                account_name=values.get("account_name", locked.account_name),
            )
        for field, value in values.items():
            setattr(locked, field, value)
        _check_duplicates_of(actor=actor, vendor=locked)
        account_claim_check(
            actor=actor,
            market=locked.market,
            bank=locked.bank,
            account_number=locked.account_number,
            exclude_vendor_id=locked.pk,
        )
        locked.full_clean(exclude=["user", "onboarded_by"], validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                locked.save(update_fields=[*values, "updated_at"])
        except IntegrityError:
            _check_duplicates_of(actor=actor, vendor=locked)
            raise
        return vendor_status_change(
            actor=actor, vendor=locked, status=Vendor.Status.PENDING, reason=reason, expect=Vendor.Status.REJECTED
        )
