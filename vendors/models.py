"""Vendors (tiểu thương): the traders whose stalls carry a QR code."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market.models import Bank, Market

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def new_code_secret() -> str:
    return secrets.token_hex(32)


class VendorStatusError(Exception):
    """Raised when a status change is not allowed from the current status."""


class Vendor(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        # Refused by the board at review (maker-checker); the volunteer may correct
        # the registration and send it back for review (rejected → pending).
        REJECTED = "rejected", _("Rejected")

    class GoodsCategory(models.TextChoices):
        VEGETABLES = "vegetables", _("Vegetables and fruit")
        MEAT = "meat", _("Meat")
        FISH = "fish", _("Fish and seafood")
        DRY_GOODS = "dry_goods", _("Dry goods and groceries")
        COOKED_FOOD = "cooked_food", _("Cooked food and drinks")
        CLOTHING = "clothing", _("Clothing and textiles")
        HOUSEHOLD = "household", _("Household goods")
        SERVICES = "services", _("Services")
        OTHER = "other", _("Other")

    # Allowed status moves; anything else is refused by ``change_status``.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.ACTIVE, Status.SUSPENDED, Status.REJECTED}),
        Status.ACTIVE: frozenset({Status.SUSPENDED}),
        Status.SUSPENDED: frozenset({Status.ACTIVE}),
        Status.REJECTED: frozenset({Status.PENDING}),
    }

    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="vendors", verbose_name=_("market"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="vendor",
        verbose_name=_("login"),
    )
    full_name = models.CharField(_("full name"), max_length=128)
    phone = models.CharField(_("phone"), max_length=12, help_text=_("E.164, e.g. +84912345678"))
    stall_label = models.CharField(_("stall"), max_length=32, blank=True)
    goods_category = models.CharField(
        _("goods category"), max_length=16, choices=GoodsCategory.choices, default=GoodsCategory.OTHER
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="vendors", verbose_name=_("bank"))
    account_number = models.CharField(
        _("account number"), max_length=19, validators=[RegexValidator(r"^[A-Za-z0-9]{6,19}$")]
    )
    account_name = models.CharField(_("account name"), max_length=64)
    merchant_code = models.CharField(_("merchant code"), max_length=8, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    onboarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="onboarded_vendors",
        verbose_name=_("onboarded by"),
    )
    onboarded_at = models.DateTimeField(_("onboarded at"), default=timezone.now)
    # The id the volunteer's phone generated for the submission: a resend after a
    # lost connection finds this vendor instead of registering a second one.
    client_ref = models.UUIDField(_("submission id"), null=True, blank=True, unique=True, editable=False)
    # Per-vendor key for offline-verifiable confirmation codes (HMAC); never shown in lists.
    code_secret = models.CharField(max_length=64, default=new_code_secret, editable=False)
    # HOTP moving factor: the counter of the last confirmation code issued.
    code_counter = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["market_id", "stall_label", "id"]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        constraints = [
            models.UniqueConstraint(fields=["market", "phone"], name="uniq_vendor_phone_per_market"),
            models.UniqueConstraint(fields=["market", "bank", "account_number"], name="uniq_vendor_account_per_market"),
        ]
        indexes = [
            models.Index(fields=["market", "status"]),
            # Account first: bank-credit attribution looks vendors up by the receiving account alone.
            models.Index(fields=["account_number", "bank"]),
            models.Index(fields=["onboarded_by", "onboarded_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.merchant_code})"

    def change_status(self, new_status: str) -> None:
        if new_status == self.status:
            return
        if new_status not in self.TRANSITIONS.get(self.status, frozenset()):
            raise VendorStatusError(f"cannot go from {self.status} to {new_status}")
        self.status = new_status
        self.save(update_fields=["status", "updated_at"])


class Consent(models.Model):
    """A trader's consent to the processing of their personal data (Decree
    13/2023/NĐ-CP): the exact text they were shown, its version, who collected
    it, how and when. Kept for good; a new version adds a row."""

    class Method(models.TextChoices):
        FORM = "form", _("Onboarding form")
        IMPORT = "import", _("Bulk import")
        API = "api", _("API")

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="consents", verbose_name=_("vendor"))
    text = models.TextField(_("text shown"))
    version = models.CharField(_("version"), max_length=32)
    language = models.CharField(_("language"), max_length=8, default="vi")
    method = models.CharField(_("method"), max_length=8, choices=Method.choices, default=Method.FORM)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("collected by"),
    )
    collected_at = models.DateTimeField(_("collected at"), default=timezone.now)

    class Meta:
        ordering = ["-collected_at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.vendor_id}: {self.version} ({self.collected_at:%Y-%m-%d})"


class VendorDecision(models.Model):
    """One status decision on a registration, kept for good: the board's
    approval or rejection at review (maker-checker), a suspension, a
    reactivation, a resubmission after a rejection. Who submitted the
    registration is ``vendor.onboarded_by``; whoever did cannot approve it."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("vendor"))
    from_status = models.CharField(_("from"), max_length=16, choices=Vendor.Status.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=Vendor.Status.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("registration decision")
        verbose_name_plural = _("registration decisions")
        indexes = [models.Index(fields=["vendor", "decided_at"])]

    def __str__(self) -> str:
        return f"{self.vendor_id}: {self.from_status} → {self.to_status}"


class PayoutChangeStateError(Exception):
    """Raised when a payout-account change is asked to move from a status
    that does not allow it (only a pending change can be decided)."""


class PayoutAccountChange(models.Model):
    """One request to change where a vendor's money goes (bank, account
    number, account name), kept for good whatever its outcome.

    The vendor row keeps the old account until the change is approved: every
    QR, card, sale request and payment match reads the vendor row, so nothing
    pays the new account before a board decision. See docs/security.md.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    # Allowed moves; anything else is refused by ``decide``.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Outcome.PENDING: frozenset({Outcome.APPROVED, Outcome.REJECTED, Outcome.CANCELLED}),
    }

    vendor = models.ForeignKey(
        Vendor, on_delete=models.PROTECT, related_name="payout_changes", verbose_name=_("vendor")
    )
    old_bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+", verbose_name=_("old bank"))
    old_account_number = models.CharField(_("old account number"), max_length=19)
    old_account_name = models.CharField(_("old account name"), max_length=64)
    new_bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+", verbose_name=_("new bank"))
    new_account_number = models.CharField(_("new account number"), max_length=19)
    new_account_name = models.CharField(_("new account name"), max_length=64)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    reason = models.CharField(_("reason"), max_length=500)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("decision reason"), max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("payout account change")
        verbose_name_plural = _("payout account changes")
        constraints = [
            # At most one change waiting per vendor: a second request is refused.
            models.UniqueConstraint(
                fields=["vendor"],
                condition=models.Q(outcome="pending"),
                name="uniq_pending_payout_change_per_vendor",
            ),
        ]
        indexes = [models.Index(fields=["vendor", "requested_at"])]

    def __str__(self) -> str:
        return f"{self.vendor_id}: {self.old_bank_id}/{self.old_account_number} → {self.new_bank_id}/{self.new_account_number}"

    def decide(self, *, outcome: str, by: User | None, reason: str = "", at: dt.datetime | None = None) -> None:
        """Move a pending change to its outcome; any other move is refused.

        Callers hold the row lock (``vendors.payout_changes._lock_payout_change``)."""
        if outcome not in self.TRANSITIONS.get(self.outcome, frozenset()):
            raise PayoutChangeStateError(f"cannot go from {self.outcome} to {outcome}")
        self.outcome = outcome
        self.decided_by = by
        self.decided_at = at or timezone.now()
        self.decision_reason = reason
        self.save(update_fields=["outcome", "decided_by", "decided_at", "decision_reason"])


class SharedAccountClaim(models.Model):
    """A request to put a bank account that a stall in another market already
    holds on a new stall of the same trader (periodic markets: one trader,
    several markets on different days).

    A receiving account identifies one trader, so it may stand on several
    stalls only when the trader confirms it — a one-time code sent by SMS to
    the phone already on record for the existing registration (``holder``),
    typed in by the volunteer — or when the board holding that registration
    approves. A confirmed or approved claim is used once, by the registration
    of the stall in ``market`` (``vendors.services.account_claim_check``).
    """

    class Method(models.TextChoices):
        SMS_CODE = "sms_code", _("Code sent by SMS to the trader")
        BOARD = "board", _("Approval by the board holding the account")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        CONFIRMED = "confirmed", _("Confirmed by the trader")
        APPROVED = "approved", _("Approved by the board")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        USED = "used", _("Used")

    market = models.ForeignKey(
        Market, on_delete=models.PROTECT, related_name="account_claims", verbose_name=_("market of the new stall")
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+", verbose_name=_("bank"))
    account_number = models.CharField(_("account number"), max_length=19)
    holder = models.ForeignKey(
        Vendor,
        on_delete=models.PROTECT,
        related_name="account_claims_on",
        verbose_name=_("existing registration"),
    )
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # "nonce$hex HMAC-SHA256 of the code"; never the code itself.
    code_hash = models.CharField(max_length=128, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    expires_at = models.DateTimeField(_("expires at"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    vendor = models.OneToOneField(
        Vendor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="account_claim",
        verbose_name=_("stall registered with it"),
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("shared account claim")
        verbose_name_plural = _("shared account claims")
        indexes = [
            models.Index(fields=["account_number", "bank", "requested_at"]),
            models.Index(fields=["holder", "status"]),
        ]

    def __str__(self) -> str:
        return f"claim {self.pk} {self.bank_id}/{self.account_number} → market {self.market_id} ({self.status})"
