"""Offline code entry: the vendor's device key, the upload of confirmations
captured without a connection, and their reconciliation with payments."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from django.db import IntegrityError, transaction
from django.utils import timezone

from chopay import codes
from common.errors import Conflict, Forbidden
from market import roles
from payments.code_entry.confirmation import Match, find_code, lock_vendor, mark_used, throttle_retry_after
from payments.models import (
    ConfirmationAttempt,
    OfflineConfirmation,
    OfflineKeyGrant,
)
from vendors.models import Vendor, new_code_secret

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# Devices' clocks drift; a capture this far in the future is still accepted.
CLOCK_SKEW: Final = dt.timedelta(minutes=5)
# No offline capture happened before the programme existed; older is an error.
EARLIEST_CAPTURE: Final = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
# flag_reason of a pending offline confirmation not yet checked because the
# vendor was over the wrong-code limit when it was uploaded; the
# reconciliation checks it (and counts it) once the limit allows.
THROTTLED_UNCHECKED: Final = "throttled"
OFFLINE_SYNC_MAX_ITEMS: Final = 100


@dataclass(frozen=True)
class OfflineKey:
    key_hex: str
    counter: int
    device_id: str


def offline_key_grant(*, vendor: Vendor, device_id: str) -> OfflineKey:
    """The vendor's key, once per device: a second request for the device is refused."""
    if vendor.status != Vendor.Status.ACTIVE:
        raise Forbidden(
            "vendor_not_active",
            "Only an active vendor can receive an offline key.",
        )
    try:
        with transaction.atomic():
            grant = OfflineKeyGrant(vendor=vendor, device_id=device_id)
            grant.full_clean(validate_unique=False, validate_constraints=False)  # the INSERT decides
            grant.save()
            counter, secret = Vendor.objects.filter(pk=vendor.pk).values_list("code_counter", "code_secret").get()
    except IntegrityError:
        raise Conflict(
            "key_already_issued",
            "The offline key was already issued to this device; it is shown once per device.",
        ) from None
    return OfflineKey(key_hex=secret, counter=counter, device_id=device_id)


def vendor_rotate_code_secret(*, actor: User, vendor: Vendor) -> int:
    """Give the vendor a new key (a device was lost) and revoke every device grant.

    Codes issued before the rotation no longer verify; the payments themselves
    stand. Returns how many device grants were revoked.
    """
    is_self = roles.is_vendor_user(actor, vendor)
    if not is_self and not roles.manages_market(actor, vendor.market_id):
        raise Forbidden(
            "permission_denied",
            "Only the vendor, their market board or the province may rotate the key.",
        )
    with transaction.atomic():
        locked = lock_vendor(vendor.pk)
        locked.code_secret = new_code_secret()
        locked.save(update_fields=["code_secret", "updated_at"])
        revoked, _ = OfflineKeyGrant.objects.filter(vendor=locked).delete()
    logger.info("vendor %s code secret rotated by user %s; %s device grants revoked", vendor.pk, actor.pk, revoked)
    return int(revoked)


# --- Offline sync -------------------------------------------------------------------------
# The upload itself is ``payments.code_entry.offline_sync.offline_confirmations_sync`` (one
# transaction per request); ``offline_confirmation_record`` below is the per-item path that
# defines each item's outcome, and that the upload falls back to.


@dataclass(frozen=True)
class OfflineItem:
    client_uuid: uuid.UUID
    code: str
    amount: int
    captured_at: dt.datetime


@dataclass(frozen=True)
class OfflineItemResult:
    client_uuid: str
    status: str  # pending / matched / flagged / error
    payment_id: int | None = None
    flag_reason: str = ""
    error_code: str = ""
    error_message: str = ""


def item_result(row: OfflineConfirmation) -> OfflineItemResult:
    return OfflineItemResult(str(row.client_uuid), row.status, row.payment_id, row.flag_reason)


def item_error(client_uuid: str, code: str, message: str) -> OfflineItemResult:
    return OfflineItemResult(client_uuid, "error", error_code=code, error_message=message)


@dataclass(frozen=True)
class Uploader:
    """Who sent an upload, for the confirmation-attempt log."""

    user: User | None = None
    remote_addr: str | None = None


def same_item(row: OfflineConfirmation, vendor: Vendor, item: OfflineItem) -> bool:
    return (
        row.vendor_id == vendor.pk
        and row.code == item.code
        and row.amount == item.amount
        and row.captured_at == item.captured_at
    )


def offline_confirmation_record(
    *, vendor: Vendor, item: OfflineItem, now: dt.datetime, deadline: dt.timedelta, uploader: Uploader
) -> OfflineItemResult:
    """Record one uploaded item in its own transaction (its ``captured_at`` already checked)."""
    existing = OfflineConfirmation.objects.filter(client_uuid=item.client_uuid).first()
    if existing is None:
        try:
            with transaction.atomic():
                row = OfflineConfirmation(
                    client_uuid=item.client_uuid,
                    vendor=vendor,
                    code=item.code,
                    amount=item.amount,
                    captured_at=item.captured_at,
                    reconcile_by=item.captured_at + deadline,
                )
                row.full_clean(validate_unique=False)
                row.save()
                _offline_try_match(row=row, now=now, attempt_by=uploader)
            return item_result(row)
        except IntegrityError:
            # The same upload in parallel: the other request recorded it first.
            existing = OfflineConfirmation.objects.get(client_uuid=item.client_uuid)
    if not same_item(existing, vendor, item):
        return item_error(
            str(item.client_uuid), "uuid_conflict", "This client_uuid was already used for a different confirmation."
        )
    return item_result(existing)


def _offline_try_match(*, row: OfflineConfirmation, now: dt.datetime, attempt_by: Uploader | None = None) -> None:
    """Match a pending offline confirmation to its payment, flag it, or leave it pending.

    Called inside a transaction; the vendor row is locked so that an online
    confirmation of the same code cannot interleave (and so that parallel
    uploads cannot slip past the wrong-code limit). ``attempt_by`` (a first
    check: at upload, or of an item the limit left unchecked) makes the check
    a logged, counted confirmation attempt; rechecks by the reconciliation
    are not counted again.
    """
    vendor = lock_vendor(row.vendor_id)
    at_upload = attempt_by is not None
    if attempt_by is None and row.flag_reason == THROTTLED_UNCHECKED:
        attempt_by = Uploader()  # never checked yet: this check counts
    attempt: ConfirmationAttempt | None = None
    if attempt_by is not None:
        attempt = ConfirmationAttempt(
            vendor=vendor,
            user=attempt_by.user,
            code_tail=codes.code_tail(row.code),
            amount=row.amount,
            remote_addr=attempt_by.remote_addr,
        )
        if throttle_retry_after(vendor_id=vendor.pk, now=now):
            if at_upload:  # logged once, not at every reconciliation run
                attempt.outcome = ConfirmationAttempt.Outcome.THROTTLED
                attempt.save()
            held: dict[str, object] = {"flag_reason": THROTTLED_UNCHECKED}
            if row.reconcile_by <= now:  # out of time unchecked: the board looks at it
                held = {"status": OfflineConfirmation.Status.FLAGGED, "flag_reason": "too_many_wrong_codes"}
            _offline_update(row, held)
            return
    found = find_code(vendor=vendor, code=row.code, amount=row.amount, at=row.captured_at)
    match: Match | None = None
    if found is not None:
        code_row, match = found
        if match == "ok" and not mark_used(
            code=code_row,
            now=now,
            confirmed_at=row.captured_at,
            data={"via": "offline", "client_uuid": str(row.client_uuid)},
        ):
            match = "used"  # a parallel confirmation won
    if attempt is not None:
        Outcome = ConfirmationAttempt.Outcome
        outcomes = {"ok": Outcome.CONFIRMED, "used": Outcome.USED, "expired": Outcome.EXPIRED}
        attempt.outcome = Outcome.WRONG if match is None else outcomes[match]
        attempt.succeeded = attempt.outcome == Outcome.CONFIRMED
        attempt.payment_id = found[0].payment_id if found is not None else None
        attempt.save()
        if row.flag_reason == THROTTLED_UNCHECKED:
            _offline_update(row, {"flag_reason": ""})
    fields: dict[str, object]
    if found is not None:
        code_row = found[0]
        if match == "ok":
            fields = {"status": OfflineConfirmation.Status.MATCHED, "payment_id": code_row.payment_id}
        else:
            reason = "code_already_used" if match == "used" else "code_expired"
            fields = {
                "status": OfflineConfirmation.Status.FLAGGED,
                "payment_id": code_row.payment_id,
                "flag_reason": reason,
            }
    elif row.reconcile_by <= now:
        fields = {"status": OfflineConfirmation.Status.FLAGGED, "flag_reason": "no_matching_payment"}
    else:
        return
    _offline_update(row, fields)


def _offline_update(row: OfflineConfirmation, fields: dict[str, object]) -> None:
    """Apply ``fields`` to ``row`` if it is still pending (conditional UPDATE)."""
    if OfflineConfirmation.objects.filter(pk=row.pk, status=OfflineConfirmation.Status.PENDING).update(**fields):
        for name, value in fields.items():
            setattr(row, name, value)
    else:
        row.refresh_from_db()


def offline_confirmations_reconcile(
    *, vendor_id: int | None = None, now: dt.datetime | None = None, limit: int = 1000
) -> dict[str, int]:
    """Match pending offline confirmations whose payment has arrived; flag those past their deadline."""
    now = now or timezone.now()
    pending = OfflineConfirmation.objects.filter(status=OfflineConfirmation.Status.PENDING)
    if vendor_id is not None:
        pending = pending.filter(vendor_id=vendor_id)
    counts = {"matched": 0, "flagged": 0, "pending": 0}
    for row_id in pending.order_by("reconcile_by").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            row = OfflineConfirmation.objects.get(pk=row_id)
            if row.status != OfflineConfirmation.Status.PENDING:
                continue
            _offline_try_match(row=row, now=now)
        counts[row.status] += 1
    return counts
