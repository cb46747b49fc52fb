"""Adoption statistics: the payment change log, the rollups folded from it,
and the targets boards and provinces set themselves.

Every row here except ``Target`` is derived from ``payments.Payment`` and can
be recomputed from it (``python manage.py rebuild_stats``). The rollups point
at markets and vendors without a database constraint: they are a cache of the
ledger, and a market or vendor whose payments are gone must not be held back
by a count that is about to be folded away (docs/stats.md, "How the figures
stay current and exact").
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from market.models import Market, Province
from vendors.models import Vendor


class SizeBucket(models.TextChoices):
    """Payment sizes in đồng: each bucket holds amounts from its lower edge
    (inclusive) up to the next bucket's (exclusive)."""

    LT20K = "lt20k", _("under 20,000 ₫")
    LT50K = "lt50k", _("20,000 – 49,999 ₫")
    LT100K = "lt100k", _("50,000 – 99,999 ₫")
    LT500K = "lt500k", _("100,000 – 499,999 ₫")
    GE500K = "ge500k", _("500,000 ₫ and more")


# (bucket, lowest amount, highest amount or None), in order: the one definition
# the fold (Python), the rebuild (SQL CASE) and the selectors share.
SIZE_BUCKETS: list[tuple[str, int, int | None]] = [
    (SizeBucket.LT20K, 0, 19_999),
    (SizeBucket.LT50K, 20_000, 49_999),
    (SizeBucket.LT100K, 50_000, 99_999),
    (SizeBucket.LT500K, 100_000, 499_999),
    (SizeBucket.GE500K, 500_000, None),
]


def size_bucket(amount: int) -> str:
    """The size bucket of a payment of ``amount`` đồng."""
    for key, _low, high in SIZE_BUCKETS:
        if high is None or amount <= high:
            return str(key)
    raise AssertionError("the last bucket has no upper edge")


def _rollup_fk(model: type[models.Model], verbose_name: Any) -> Any:
    # No database constraint and no cascade: see the module docstring.
    return models.ForeignKey(
        model,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the tables' own composite indexes lead with it where needed
        related_name="+",
        verbose_name=verbose_name,
    )


class PaymentChange(models.Model):
    """One signed change of a payment's counted values, written by database
    triggers on ``payments_payment`` in the payment's own transaction (stats
    migration 0002): an INSERT adds +1 with the new values, a DELETE −1 with the
    old ones, an UPDATE of vendor, market, local date, channel, status or
    amount both. ``stats.folding`` folds them into the rollups and deletes them."""

    id = models.BigAutoField(primary_key=True)
    payment_id = models.BigIntegerField(_("payment"))
    sign = models.SmallIntegerField(_("sign"))
    vendor_id = models.BigIntegerField(_("vendor"), null=True)
    market_id = models.BigIntegerField(_("market"), null=True)
    local_date = models.DateField(_("local date"))
    channel = models.CharField(_("channel"), max_length=16)
    status = models.CharField(_("status"), max_length=16)
    amount = models.BigIntegerField(_("amount (VND)"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment change")
        verbose_name_plural = _("payment changes")

    def __str__(self) -> str:
        return f"{'+' if self.sign > 0 else '−'}{self.payment_id}"


class MarketDay(models.Model):
    """Payments of one market on one local day, by channel, status and size
    bucket. A row exists only while its count is not zero."""

    market = _rollup_fk(Market, _("market"))
    local_date = models.DateField(_("local date"))
    channel = models.CharField(_("channel"), max_length=16)
    status = models.CharField(_("status"), max_length=16)
    size_bucket = models.CharField(_("size bucket"), max_length=8, choices=SizeBucket.choices)
    count = models.BigIntegerField(_("payments"), default=0)
    value = models.BigIntegerField(_("value (VND)"), default=0)

    class Meta:
        verbose_name = _("market day")
        verbose_name_plural = _("market days")
        constraints = [
            models.UniqueConstraint(
                fields=["market", "local_date", "channel", "status", "size_bucket"], name="stats_marketday_key"
            )
        ]
        # Every column a read uses: a scope's days are index-only scans, market by market.
        indexes = [
            models.Index(
                fields=["market", "local_date", "status", "channel", "size_bucket", "count", "value"],
                name="stats_marketday_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.market_id} {self.local_date} {self.channel} {self.status} {self.size_bucket}: {self.count}"


class VendorDay(models.Model):
    """Succeeded payments of one vendor in one market on one local day: an
    active day. A row exists only while its count is above zero."""

    vendor = _rollup_fk(Vendor, _("vendor"))
    market = _rollup_fk(Market, _("market"))
    local_date = models.DateField(_("local date"))
    count = models.BigIntegerField(_("payments"), default=0)
    value = models.BigIntegerField(_("value (VND)"), default=0)

    class Meta:
        verbose_name = _("vendor day")
        verbose_name_plural = _("vendor days")
        constraints = [
            # Also the (vendor, local_date) index.
            models.UniqueConstraint(fields=["vendor", "local_date", "market"], name="stats_vendorday_key")
        ]
        # With the vendor: counting a scope's active vendors per day reads the index only.
        indexes = [models.Index(fields=["market", "local_date", "vendor"], name="stats_vendorday_market_day_v")]

    def __str__(self) -> str:
        return f"{self.vendor_id} {self.local_date}: {self.count}"


class MarketDayActive(models.Model):
    """The active vendors of one market on one local day: ``vendors`` = its
    ``VendorDay`` rows, ``shared`` = how many of those vendors also have a
    ``VendorDay`` row in another market that day. While ``shared`` is zero in
    every market of a scope, the scope's active vendors of a day are the sum
    of ``vendors`` (each is then counted in one market only). A row exists
    only while ``vendors`` is not zero. Recomputed by the fold from
    ``VendorDay`` for the market-days it touches (stats/folding_active.py)."""

    market = _rollup_fk(Market, _("market"))
    local_date = models.DateField(_("local date"))
    vendors = models.IntegerField(_("active vendors"))
    shared = models.IntegerField(_("active vendors also active in another market"))

    class Meta:
        verbose_name = _("market day active vendors")
        verbose_name_plural = _("market days active vendors")
        constraints = [models.UniqueConstraint(fields=["market", "local_date"], name="stats_marketdayactive_key")]

    def __str__(self) -> str:
        return f"{self.market_id} {self.local_date}: {self.vendors} ({self.shared} shared)"


class VendorMonth(models.Model):
    """The active days of one vendor in one market in one local month, as a
    bit mask: bit ``d - 1`` of ``days`` is set when ``VendorDay`` holds the
    vendor's day ``d`` of ``month`` in that market. A row exists only while
    its mask is not zero. Kept by the fold from ``VendorDay`` (so a read of
    90 days touches at most 4 rows per vendor instead of 90)."""

    vendor = _rollup_fk(Vendor, _("vendor"))
    market = _rollup_fk(Market, _("market"))
    month = models.DateField(_("month"))  # its first day
    days = models.IntegerField(_("active days (bit mask)"))

    class Meta:
        verbose_name = _("vendor month")
        verbose_name_plural = _("vendor months")
        constraints = [models.UniqueConstraint(fields=["vendor", "month", "market"], name="stats_vendormonth_key")]
        indexes = [
            # Every column: the reads of a scope are index-only scans.
            models.Index(fields=["market", "month", "vendor", "days"], name="stats_vendormonth_market"),
            # A vendor's months with their masks: the cohorts read them vendor by vendor, index only.
            models.Index(fields=["vendor", "month", "days"], name="stats_vendormonth_vendor"),
        ]

    def __str__(self) -> str:
        return f"{self.vendor_id} {self.month:%Y-%m}: {self.days:031b}"


class VendorActivity(models.Model):
    """A vendor's active days so far, kept from ``VendorDay`` for the vendors
    each fold touches. ``market`` is the market of the vendor's latest active
    day. A vendor without any active day has no row."""

    vendor = models.OneToOneField(
        Vendor,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="stats_activity",  # the roster joins it once per vendor (stats.figures)
        verbose_name=_("vendor"),
    )
    market = _rollup_fk(Market, _("market"))
    first_active_date = models.DateField(_("first active day"))
    last_active_date = models.DateField(_("last active day"))
    active_days = models.IntegerField(_("active days"))

    class Meta:
        verbose_name = _("vendor activity")
        verbose_name_plural = _("vendor activities")
        indexes = [models.Index(fields=["market", "first_active_date"], name="stats_activity_market_first")]

    def __str__(self) -> str:
        return f"{self.vendor_id}: {self.active_days}"


_share = {"max_digits": 5, "decimal_places": 4, "validators": [MinValueValidator(0), MaxValueValidator(1)]}


class Target(models.Model):
    """What a province or a market board aims for by ``deadline``: the share of
    stalls with a QR (``coverage``) and the share of QR-holding vendors active
    in the last 30 days (``active``). One current target per scope."""

    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("province")
    )
    market = models.ForeignKey(
        Market, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("market")
    )
    coverage = models.DecimalField(_("coverage target"), **_share)  # type: ignore[arg-type]
    active = models.DecimalField(_("active vendors target"), **_share)  # type: ignore[arg-type]
    deadline = models.DateField(_("deadline"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("set by"),
    )
    set_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(province__isnull=False, market__isnull=True)
                | models.Q(province__isnull=True, market__isnull=False),
                name="stats_target_one_scope",
            ),
            models.CheckConstraint(
                condition=models.Q(coverage__gte=0, coverage__lte=1, active__gte=0, active__lte=1),
                name="stats_target_shares",
            ),
            models.UniqueConstraint(fields=["province"], name="stats_target_per_province"),
            models.UniqueConstraint(fields=["market"], name="stats_target_per_market"),
        ]

    def __str__(self) -> str:
        return f"{self.province_id or self.market_id}: {self.coverage}/{self.active} by {self.deadline}"


class DigestSent(models.Model):
    """The weekly digest e-mailed to one user for one ISO week: inserted in the
    send's transaction, so that each person gets each week's digest once
    (stats/digest.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    week_start = models.DateField(_("week (Monday)"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("weekly digest sent")
        verbose_name_plural = _("weekly digests sent")
        constraints = [models.UniqueConstraint(fields=["user", "week_start"], name="stats_digest_per_user_week")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.week_start}"
