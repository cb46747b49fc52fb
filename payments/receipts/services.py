"""Writes of live receipts: a stall phone's acknowledgement that it announced
a payment (docs/stall.md, "Acknowledgements and the speaker-silent list")."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Conflict, Invalid, NotFound
from payments.models import Payment, ReceiptAnnouncement
from vendors.models import Vendor

DEVICE_ID_MAX_LENGTH = 64
_DEVICE_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")


@dataclass(frozen=True)
class Acknowledged:
    announcement: ReceiptAnnouncement
    created: bool

    @property
    def delay_ms(self) -> int:
        return self.announcement.delay_ms


def _check_device_id(device_id: str) -> str:
    if not (0 < len(device_id) <= DEVICE_ID_MAX_LENGTH) or not set(device_id) <= _DEVICE_ID_CHARS:
        raise Invalid("invalid_device_id", _("The device id is not valid."), field="device_id")
    return device_id


def _check_method(method: str) -> str:
    if method not in ReceiptAnnouncement.Method.values:
        raise Invalid("invalid_method", _("Unknown announcement method."), field="method")
    return method


def receipt_announce(*, vendor: Vendor, payment_id: int, device_id: str, method: str) -> Acknowledged:
    """Record that ``device_id`` of ``vendor`` announced payment ``payment_id``
    (``method``: speech, clips or silent). Idempotent per (payment, device):
    a repeat, or the loser of two racing requests, gets the first row back
    unchanged. A payment of another vendor (or none) is ``NotFound``; one that
    is not succeeded is refused (``Conflict``): only receipts are announced.
    ``delay_ms`` is the server's clock minus the payment's ``recorded_at``."""
    device_id = _check_device_id(device_id)
    method = _check_method(method)
    payment = Payment.objects.filter(pk=payment_id, vendor=vendor).only("id", "status", "recorded_at").first()
    if payment is None:
        raise NotFound("payment_not_found", _("No such payment of this stall."))
    existing = ReceiptAnnouncement.objects.filter(payment=payment, device_id=device_id).first()
    if existing is not None:
        return Acknowledged(existing, created=False)
    if payment.status != Payment.Status.SUCCEEDED:
        raise Conflict("not_a_receipt", _("This payment has not succeeded; it is not announced."))
    now = timezone.now()
    announcement = ReceiptAnnouncement(
        payment=payment,
        vendor=vendor,
        market_id=vendor.market_id,
        device_id=device_id,
        method=method,
        announced_at=now,
        delay_ms=max(0, int((now - payment.recorded_at).total_seconds() * 1000)),
    )
    try:
        with transaction.atomic():  # a savepoint inside a caller's transaction
            announcement.save(force_insert=True)
    except IntegrityError:
        # Two requests for the same (payment, device) at once: the other one won.
        winner = ReceiptAnnouncement.objects.filter(payment=payment, device_id=device_id).first()
        if winner is None:
            raise
        return Acknowledged(winner, created=False)
    return Acknowledged(announcement, created=True)
