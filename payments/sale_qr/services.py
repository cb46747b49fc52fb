"""Writes for sale QRs (payment requests): create, cancel, expire.

A payment request is one amount, one short reference and one dynamic VietQR
payload, valid until ``expires_at``. The reference goes into both the bill
number and the purpose of the payload, so that the bank credit it causes can
be attributed to it (``payments.bank_credits.attribution``); a credit settles it
(pending → paid) there, not here.

Uniqueness of the reference is the database's job: a random reference is
inserted and, on the rare collision, a new one is drawn. The same holds for
the ``Idempotency-Key`` of a retried create, unique per vendor: the loser of a
race reads the winner's row instead of making a second QR.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Final

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from chopay import payment_text
from chopay.identifiers import new_reference
from chopay.vietqr import MAX_AMOUNT
from common.errors import Conflict, Invalid
from payments.models import PaymentRequest, TransitionError
from vendors.models import Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "MAX_TTL_SECONDS",
    "MIN_TTL_SECONDS",
    "payment_request_cancel",
    "payment_request_create",
    "payment_request_expire_due",
    "payment_request_expire_if_due",
    "sale_payload",
]

logger = logging.getLogger(__name__)

_CREATE_TRIES: Final = 8

MIN_TTL_SECONDS: Final = 60
MAX_TTL_SECONDS: Final = 7 * 24 * 3600


def sale_payload(*, vendor: Vendor, amount: int, reference: str) -> str:
    """The dynamic VietQR payload of one sale: ``amount`` đồng to ``vendor``,
    the reference in both the bill number and the purpose (``chopay.payment_text``
    makes it; this only takes the bank data from the vendor's row)."""
    return payment_text.sale_payload(
        bank_bin=vendor.bank_id, account_number=vendor.account_number, amount=amount, reference=reference
    )


def _check_vendor_may_sell(vendor: Vendor) -> None:
    if vendor.status == Vendor.Status.SUSPENDED:
        raise Conflict(
            "vendor_suspended",
            "This vendor is suspended and cannot take payments.",
        )
    if vendor.status != Vendor.Status.ACTIVE:
        raise Conflict(
            "vendor_not_active",
            "This vendor's QR code has not been verified yet; the market board activates the vendor first.",
        )


def _replay(existing: PaymentRequest, *, amount: int, note: str) -> PaymentRequest:
    """The request a retried create refers to, if it asked for the same thing."""
    if existing.amount != amount or existing.note != note:
        raise Conflict(
            "idempotency_conflict",
            f"Idempotency-Key already used for payment request {existing.reference} with a different amount or note.",
        )
    return existing


def payment_request_create(
    *,
    actor: User,
    vendor: Vendor,
    amount: int,
    note: str = "",
    expires_in: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[PaymentRequest, bool]:
    """Create a sale QR for ``amount`` đồng; returns ``(request, created)``.

    The caller has checked that ``actor`` may sell for ``vendor``. With an
    ``idempotency_key`` already used for this vendor, the first request is
    returned (``created`` False) if it asked for the same amount and note,
    else ``idempotency_conflict``. The vendor must be active.
    """
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT:
        raise Invalid(
            "invalid_amount", f"Amount must be a whole number of đồng from 1 to {MAX_AMOUNT}.", field="amount"
        )
    ttl = settings.PAYMENT_REQUEST_DEFAULT_TTL_SECONDS if expires_in is None else expires_in
    if not MIN_TTL_SECONDS <= ttl <= MAX_TTL_SECONDS:
        raise Invalid(
            "invalid_expires_in",
            f"expires_in must be from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS} seconds.",
            field="expires_in",
        )
    note = " ".join(note.split())
    key = idempotency_key or None

    if key is not None:
        existing = PaymentRequest.objects.filter(vendor=vendor, idempotency_key=key).first()
        if existing is not None:
            return _replay(existing, amount=amount, note=note), False
    _check_vendor_may_sell(vendor)

    for _attempt in range(_CREATE_TRIES):
        reference = new_reference()
        request = PaymentRequest(
            vendor=vendor,
            market_id=vendor.market_id,
            reference=reference,
            amount=amount,
            note=note,
            payload=sale_payload(vendor=vendor, amount=amount, reference=reference),
            expires_at=timezone.now() + dt.timedelta(seconds=ttl),
            idempotency_key=key,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        # Uniqueness is left to the constraints, which also hold under concurrency.
        request.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                request.save(force_insert=True)
        except IntegrityError:
            if key is not None:
                existing = PaymentRequest.objects.filter(vendor=vendor, idempotency_key=key).first()
                if existing is not None:  # a concurrent retry of the same create won
                    return _replay(existing, amount=amount, note=note), False
            logger.info("payment request reference %s collided; drawing another", reference)
            continue
        return request, True
    raise RuntimeError("could not allocate a unique payment request reference")


def payment_request_expire_if_due(request: PaymentRequest, *, now: dt.datetime | None = None) -> bool:
    """Expire ``request`` if it is pending past its expiry; True if this call did it."""
    now = now or timezone.now()
    if request.status != PaymentRequest.Status.PENDING or request.expires_at > now:
        return False
    try:
        request.transition(PaymentRequest.Status.EXPIRED)
    except TransitionError:
        # Settled or cancelled meanwhile: that outcome stands.
        request.refresh_from_db(fields=["status", "paid_at", "updated_at"])
        return False
    return True


def payment_request_cancel(*, actor: User, request: PaymentRequest) -> PaymentRequest:
    """pending → cancelled. A request that is already paid, expired or
    cancelled is refused (409 ``invalid_transition``): a sale that was paid
    cannot be cancelled here."""
    payment_request_expire_if_due(request)
    try:
        request.transition(PaymentRequest.Status.CANCELLED)
    except TransitionError:
        request.refresh_from_db(fields=["status", "paid_at", "updated_at"])
        raise Conflict(
            "invalid_transition",
            f"Payment request {request.reference} is {request.status} and can no longer be cancelled.",
        ) from None
    logger.info("payment request %s cancelled by user %s", request.reference, getattr(actor, "pk", None))
    return request


def payment_request_expire_due(*, now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Expire up to ``limit`` pending requests whose time is up; returns how
    many this call expired. Idempotent: each row moves with a conditional
    UPDATE, so a concurrent run or a payment settling the same request at
    the same moment simply wins or loses, never both."""
    now = now or timezone.now()
    due = (
        PaymentRequest.objects.filter(status=PaymentRequest.Status.PENDING, expires_at__lte=now)
        .order_by("expires_at")
        .only("id", "status", "updated_at")[:limit]
    )
    expired = 0
    for request in due:
        try:
            request.transition(PaymentRequest.Status.EXPIRED)
        except TransitionError:
            continue
        expired += 1
    return expired
