"""Markets, the administrative units they sit in, the banks vendors use, and
who may see what (province officers, market board members, volunteers)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Province(models.Model):
    """A current provincial unit (34 since 2025-07-01)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    short_name = models.CharField(_("short name"), max_length=48)
    kind = models.CharField(_("kind"), max_length=16)  # "Tỉnh" or "Thành phố"

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name


class LegacyProvince(models.Model):
    """A province as it was before the 2025 merger (63 units). Pilot history
    from 2022–2024 is reported under these, e.g. Bắc Kạn (06) → Thái Nguyên (19)."""

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    short_name = models.CharField(_("short name"), max_length=48)
    merged_into = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="legacy_units", verbose_name=_("merged into")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("legacy province")
        verbose_name_plural = _("legacy provinces")

    def __str__(self) -> str:
        return f"{self.name} (≤ 2025)"


class Ward(models.Model):
    """A ward (phường), commune (xã) or special zone (đặc khu)."""

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    short_name = models.CharField(_("short name"), max_length=48)
    kind = models.CharField(_("kind"), max_length=16)  # "Phường", "Xã", "Đặc khu"
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="wards", verbose_name=_("province"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("ward/commune")
        verbose_name_plural = _("wards/communes")

    def __str__(self) -> str:
        return self.name


class Bank(models.Model):
    """A NAPAS member as listed in the VietQR bank list."""

    bin = models.CharField(_("BIN"), max_length=6, primary_key=True, validators=[RegexValidator(r"^\d{6}$")])
    code = models.CharField(_("code"), max_length=16)
    short_name = models.CharField(_("short name"), max_length=32)
    name = models.CharField(_("name"), max_length=128)

    class Meta:
        ordering = ["short_name"]
        verbose_name = _("bank")
        verbose_name_plural = _("banks")

    def __str__(self) -> str:
        return f"{self.short_name} ({self.bin})"


class Market(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=128)
    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9][A-Z0-9-]*$", _("Use upper-case letters, digits and '-'."))],
        help_text=_("Short unique code, e.g. TN-DONGQUANG."),
    )
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="markets", verbose_name=_("ward/commune"))
    # Denormalised from the ward so that province rollups need no join.
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="markets", verbose_name=_("province"))
    legacy_province = models.ForeignKey(
        LegacyProvince,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="markets",
        verbose_name=_("legacy province"),
        help_text=_("Province before the 2025 merger, for pilot history."),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    stall_count = models.PositiveIntegerField(_("stalls on the roster"), default=0, validators=[MinValueValidator(0)])
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    cashless_since = models.DateField(_("cashless start date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["province_id", "name"]
        verbose_name = _("market")
        verbose_name_plural = _("markets")
        indexes = [models.Index(fields=["province", "status"])]

    def __str__(self) -> str:
        return self.name


class ProvinceOfficer(models.Model):
    """An officer of the province (Sở Công Thương, Sở TT&TT) who follows every market in it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="province_roles", verbose_name=_("user")
    )
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, related_name="officers", verbose_name=_("province")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("province officer")
        verbose_name_plural = _("province officers")
        constraints = [models.UniqueConstraint(fields=["user", "province"], name="uniq_province_officer")]

    def __str__(self) -> str:
        return f"{self.user} — {self.province}"


class BoardMember(models.Model):
    """A member of a market's management board (Ban quản lý chợ)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_roles", verbose_name=_("user")
    )
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="board_members", verbose_name=_("market"))
    title = models.CharField(_("title"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("market board member")
        verbose_name_plural = _("market board members")
        constraints = [models.UniqueConstraint(fields=["user", "market"], name="uniq_board_member")]

    def __str__(self) -> str:
        return f"{self.user} — {self.market}"


class VolunteerAssignment(models.Model):
    """A youth volunteer assigned to onboard the traders of a market."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer_roles", verbose_name=_("user")
    )
    market = models.ForeignKey(
        Market, on_delete=models.CASCADE, related_name="volunteer_assignments", verbose_name=_("market")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer assignment")
        verbose_name_plural = _("volunteer assignments")
        constraints = [models.UniqueConstraint(fields=["user", "market"], name="uniq_volunteer_assignment")]

    def __str__(self) -> str:
        return f"{self.user} — {self.market}"
