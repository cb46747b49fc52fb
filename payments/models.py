"""Payments and everything that records how money reached a stall.

Every row that money depends on is written synchronously to the database;
Celery only does derived work (SMS, expiry, reconciliation) and can catch up.
Each payment carries its market and its local (Asia/Ho_Chi_Minh) date so that
adoption rollups never need a join or a time-zone conversion.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market.models import Market
from vendors.models import Vendor


class Channel(models.TextChoices):
    STATIC_QR = "static_qr", _("Static QR")
    DYNAMIC_QR = "dynamic_qr", _("Dynamic (sale) QR")
    PHONE_TRANSFER = "phone_transfer", _("Phone-number transfer")
    CODE_ENTRY = "code_entry", _("Code entry without data")


class Source(models.TextChoices):
    SEPAY = "sepay", "SePay"
    CASSO = "casso", "Casso"
    PAYOS = "payos", "payOS"
    USSD = "ussd", "USSD"
    MANUAL = "manual", _("Manual")


class TransitionError(Exception):
    """A status change that the state machine does not allow."""


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day in Vietnam (Asia/Ho_Chi_Minh) of an aware datetime."""
    return moment.astimezone(timezone.get_default_timezone()).date()  # TIME_ZONE, memoised by Django


def _guarded_update(instance: models.Model, transitions: dict[str, frozenset[str]], to: str, **fields: Any) -> None:
    """Move ``instance`` to status ``to`` with a conditional UPDATE, so that two
    workers racing on the same row cannot both apply a transition: the loser
    sees zero rows updated and gets ``TransitionError``."""
    current = instance.status  # type: ignore[attr-defined]
    if to not in transitions.get(current, frozenset()):
        raise TransitionError(f"{instance.__class__.__name__} {instance.pk}: {current} → {to} is not allowed")
    now = timezone.now()
    updated = (
        type(instance)
        ._default_manager.filter(pk=instance.pk, status=current)
        .update(status=to, updated_at=now, **fields)
    )
    if updated != 1:
        raise TransitionError(f"{instance.__class__.__name__} {instance.pk} changed concurrently")
    instance.status = to  # type: ignore[attr-defined]
    instance.updated_at = now  # type: ignore[attr-defined]
    for name, value in fields.items():
        setattr(instance, name, value)


class PaymentRequest(models.Model):
    """A sale QR: one amount, one short reference, valid until it expires."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.PAID, Status.EXPIRED, Status.CANCELLED}),
    }

    vendor = models.ForeignKey(
        Vendor, on_delete=models.PROTECT, related_name="payment_requests", verbose_name=_("vendor")
    )
    market = models.ForeignKey(
        Market, on_delete=models.PROTECT, related_name="payment_requests", verbose_name=_("market")
    )
    reference = models.CharField(_("reference"), max_length=12, unique=True)
    amount = models.BigIntegerField(_("amount (VND)"))
    note = models.CharField(_("note"), max_length=64, blank=True)
    payload = models.TextField(_("VietQR payload"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    expires_at = models.DateTimeField(_("expires at"))
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    # Lets a client retry a create after a timeout without making a second QR.
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001 - NULL means none; unique when set
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment request")
        verbose_name_plural = _("payment requests")
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="uniq_payment_request_idempotency",
            )
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["vendor", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount:,}₫"

    def transition(self, to: str, **fields: Any) -> None:
        """pending → paid / expired / cancelled, refused otherwise (``TransitionError``)."""
        _guarded_update(self, self.TRANSITIONS, to, **fields)


class Payment(models.Model):
    """One credit to a trader, recorded exactly once per (source, provider_txn_id).

    ``vendor`` is empty while a bank credit waits in the unmatched queue; a
    board member then assigns it (see ``PaymentEvent``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")
        DISPUTED = "disputed", _("Disputed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.SUCCEEDED, Status.FAILED}),
        Status.SUCCEEDED: frozenset({Status.REFUNDED, Status.DISPUTED}),
        # A dispute ends: the money stays with the vendor, or goes back to the payer.
        Status.DISPUTED: frozenset({Status.SUCCEEDED, Status.REFUNDED}),
    }

    class Attribution(models.TextChoices):
        REQUEST = "request", _("Sale QR reference")
        MERCHANT_CODE = "merchant_code", _("Merchant code in transfer content")
        ACCOUNT = "account", _("Receiving account")
        CODE_ENTRY = "code_entry", _("Code entry")
        MANUAL = "manual", _("Assigned by the market board")
        UNMATCHED = "unmatched", _("Unmatched")

    class AmountCheck(models.TextChoices):
        EXACT = "exact", _("Exact")
        UNDERPAID = "underpaid", _("Underpaid")
        OVERPAID = "overpaid", _("Overpaid")

    # No index of their own: the (vendor, local_date) and (market, local_date)
    # indexes below lead with them and serve every lookup by vendor or market
    # (PROTECT's checks included); each index is written on every payment.
    vendor = models.ForeignKey(
        Vendor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("vendor"),
        db_index=False,
    )
    market = models.ForeignKey(
        Market,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("market"),
        db_index=False,
    )
    amount = models.BigIntegerField(_("amount (VND)"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    provider_txn_id = models.CharField(_("provider transaction id"), max_length=64)
    provider_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUCCEEDED)
    attribution = models.CharField(_("attribution"), max_length=16, choices=Attribution.choices)
    # Indexed only where set (payment_request_idx below): most payments
    # settle no sale, and an index entry is written for every payment.
    payment_request = models.ForeignKey(
        PaymentRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("payment request"),
        db_index=False,
    )
    amount_check = models.CharField(_("amount check"), max_length=16, choices=AmountCheck.choices, blank=True)
    payer_masked = models.CharField(_("payer"), max_length=64, blank=True)
    receiving_account = models.CharField(_("receiving account"), max_length=32, blank=True)
    content = models.CharField(_("transfer content"), max_length=255, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    # Calendar day in Vietnam of occurred_at: the unit of every rollup.
    local_date = models.DateField(_("local date"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    vendor_confirmed_at = models.DateTimeField(_("confirmed by vendor at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["source", "provider_txn_id"], name="uniq_payment_per_provider_txn"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["market", "local_date"]),
            models.Index(fields=["vendor", "local_date"]),
            models.Index(
                fields=["market", "attribution"], name="payment_unmatched_idx", condition=models.Q(vendor__isnull=True)
            ),
            models.Index(
                fields=["payment_request"],
                name="payment_request_idx",
                condition=models.Q(payment_request__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.provider_txn_id} {self.amount:,}₫"

    def transition(self, to: str, *, actor: Any = None, data: dict[str, Any] | None = None, **fields: Any) -> None:
        """pending → succeeded/failed, succeeded → refunded/disputed,
        disputed → succeeded/refunded; audited."""
        before = self.status
        _guarded_update(self, self.TRANSITIONS, to, **fields)
        PaymentEvent.objects.create(
            payment=self, kind=f"status:{to}", actor=actor, data={"from": before, **(data or {})}
        )


class PaymentEvent(models.Model):
    """Audit trail: every status change, assignment and confirmation of a payment."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")

    def __str__(self) -> str:
        return f"{self.kind} #{self.payment_id}"


class WebhookDelivery(models.Model):
    """A raw notification as it arrived, stored before it is verified or processed."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate")
        IGNORED = "ignored", _("Ignored")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    source = models.CharField(max_length=16, choices=Source.choices)
    # Indexed only for deliveries without a payment (delivery_unpaid_idx
    # below: the sweeps of stuck and refused ones); the others are found
    # through their payment, and listed newest first by id.
    received_at = models.DateTimeField(auto_now_add=True)
    headers = models.JSONField(default=dict, blank=True)  # blank: a delivery is kept whatever it carries
    body = models.TextField(blank=True)  # an empty POST is kept too (and refused as malformed)
    # "" when ``body`` is the body as received (UTF-8 text without NUL, which
    # PostgreSQL text cannot hold); "base64" when it is the received bytes in
    # base64 (invalid UTF-8, or a NUL). ``raw_body`` gives the bytes back either way.
    body_encoding = models.CharField(max_length=8, blank=True, default="")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    provider_txn_id = models.CharField(max_length=64, blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]  # the order they were stored in; the primary key serves it
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["received_at"], name="delivery_unpaid_idx", condition=models.Q(payment__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.received_at:%Y-%m-%d %H:%M:%S} {self.status}"

    @property
    def raw_body(self) -> bytes:
        """The body exactly as it was received."""
        if self.body_encoding == "base64":
            return base64.b64decode(self.body)
        return self.body.encode()


class ConfirmationCode(models.Model):
    """The 6-digit code SMSed after a code-entry payment (HOTP of the vendor key)."""

    payment = models.OneToOneField(Payment, on_delete=models.CASCADE, related_name="confirmation")
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="confirmation_codes")
    counter = models.PositiveBigIntegerField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("confirmation code")
        verbose_name_plural = _("confirmation codes")
        constraints = [models.UniqueConstraint(fields=["vendor", "counter"], name="uniq_confirmation_counter")]

    def __str__(self) -> str:
        return f"#{self.counter} ({self.vendor_id})"


class ConfirmationAttempt(models.Model):
    """Every try at confirming a code, kept for throttling and for the audit."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WRONG = "wrong", _("Wrong code")
        USED = "used", _("Code already used")
        EXPIRED = "expired", _("Code expired")
        # Refused unchecked by the throttle: logged, but not counted as a failure,
        # so that waiting out Retry-After is always enough.
        THROTTLED = "throttled", _("Throttled")

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="confirmation_attempts")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    code_tail = models.CharField(max_length=2, blank=True)  # never the whole code
    amount = models.BigIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("confirmation attempt")
        verbose_name_plural = _("confirmation attempts")
        indexes = [models.Index(fields=["vendor", "succeeded", "created_at"])]

    def __str__(self) -> str:
        return f"{self.vendor_id} {self.created_at:%Y-%m-%d %H:%M} {'ok' if self.succeeded else 'wrong'}"


class OfflineConfirmation(models.Model):
    """A confirmation the vendor's device verified while offline, uploaded later."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending reconciliation")
        MATCHED = "matched", _("Matched")
        FLAGGED = "flagged", _("Flagged")

    client_uuid = models.UUIDField(unique=True)
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="offline_confirmations")
    code = models.CharField(max_length=10)
    amount = models.BigIntegerField()
    captured_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    flag_reason = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    reconcile_by = models.DateTimeField()

    class Meta:
        verbose_name = _("offline confirmation")
        verbose_name_plural = _("offline confirmations")
        indexes = [models.Index(fields=["status", "reconcile_by"])]

    def __str__(self) -> str:
        return f"{self.client_uuid} {self.status}"


class OfflineKeyGrant(models.Model):
    """A vendor device that has fetched the vendor's offline key (once per device)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="offline_key_grants")
    device_id = models.CharField(max_length=64)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("offline key grant")
        verbose_name_plural = _("offline key grants")
        constraints = [models.UniqueConstraint(fields=["vendor", "device_id"], name="uniq_offline_key_device")]

    def __str__(self) -> str:
        return f"{self.vendor_id} / {self.device_id}"


class UssdSession(models.Model):
    """State of one USSD dialogue, keyed by the aggregator's sessionId."""

    session_id = models.CharField(max_length=64, unique=True)
    phone = models.CharField(max_length=16)
    service_code = models.CharField(max_length=32, blank=True)
    vendor = models.ForeignKey(Vendor, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    amount = models.BigIntegerField(null=True, blank=True)
    last_text = models.CharField(max_length=255, blank=True)
    last_reply = models.TextField(blank=True)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("USSD session")
        verbose_name_plural = _("USSD sessions")

    def __str__(self) -> str:
        return self.session_id


class OutboundSms(models.Model):
    """An SMS to send, written in the same transaction as what caused it (outbox).

    A Celery task sends it; a periodic sweep re-sends what a broker outage left.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to = models.CharField(max_length=16)
    body = models.CharField(max_length=480)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    payment = models.ForeignKey(Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="sms")
    provider_message_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbound SMS")
        verbose_name_plural = _("outbound SMS")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.to} {self.status}"


class CardBatch(models.Model):
    """One printable PDF of every active vendor's stall card in a market,
    rendered by a Celery task for markets too large to render in a request."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.RUNNING, Status.FAILED}),
        Status.RUNNING: frozenset({Status.DONE, Status.FAILED}),
    }

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="card_batches", verbose_name=_("market"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("cards to render"), default=0)
    done = models.PositiveIntegerField(_("cards rendered"), default=0)
    # Relative to MEDIA_ROOT; served only through the API, which checks scope.
    file = models.CharField(_("file"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("stall card batch")
        verbose_name_plural = _("stall card batches")
        indexes = [models.Index(fields=["market", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.market} cards #{self.pk} ({self.status})"

    def transition(self, to: str, **fields: Any) -> None:
        """pending → running → done, or → failed; refused otherwise (``TransitionError``)."""
        _guarded_update(self, self.TRANSITIONS, to, **fields)


class ReceiptAnnouncement(models.Model):
    """A stall phone's acknowledgement that it announced a payment
    (payments/receipts, docs/stall.md): one row per payment and device, so the
    board sees the delay from credit to announcement and which stalls' phones
    were silent while money arrived."""

    class Method(models.TextChoices):
        SPEECH = "speech", _("Spoken by the phone's voice")
        CLIPS = "clips", _("Played from recorded clips")
        SILENT = "silent", _("Shown only (sound off)")

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="announcements", verbose_name=_("payment")
    )
    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="+", verbose_name=_("vendor"))
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="+", verbose_name=_("market"))
    device_id = models.CharField(_("device"), max_length=64)
    method = models.CharField(_("how"), max_length=16, choices=Method.choices)
    # Server time the acknowledgement arrived, and its delay after the payment was recorded.
    announced_at = models.DateTimeField(_("announced at"))
    delay_ms = models.PositiveIntegerField(_("delay after recording (ms)"))

    class Meta:
        ordering = ["-announced_at"]
        verbose_name = _("receipt announcement")
        verbose_name_plural = _("receipt announcements")
        constraints = [
            models.UniqueConstraint(fields=["payment", "device_id"], name="uniq_announcement_per_device"),
        ]
        indexes = [models.Index(fields=["market", "announced_at"]), models.Index(fields=["vendor", "announced_at"])]

    def __str__(self) -> str:
        return f"{self.payment_id} on {self.device_id} ({self.method})"
