from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from chopay.identifiers import generate_merchant_code
from common.errors import DomainError
from market import roles
from market.admin import ScopedAdmin
from market.selectors import markets_onboardable_by
from vendors import reviews, services
from vendors.account_claims import account_claim_list
from vendors.models import PayoutAccountChange, SharedAccountClaim, Vendor
from vendors.selectors import vendor_scope_q


class VendorAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    """Applies the same normalisation and checks as the API (vendors.services)."""

    class Meta:
        model = Vendor
        fields = [
            "market",
            "full_name",
            "phone",
            "stall_label",
            "goods_category",
            "bank",
            "account_number",
            "account_name",
            "status",
            "user",
        ]

    # Room for "+84 912 345 678" and the like; stored normalised (12 characters).
    phone = forms.CharField(label=Vendor._meta.get_field("phone").verbose_name, max_length=32)

    def clean_phone(self) -> str:
        try:
            return services.clean_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            # The service names its field; a clean_<field> method must not (TypeError, 500).
            raise ValidationError(exc.error_dict["phone"]) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("account_number") and data.get("account_name"):
            data["account_number"], data["account_name"] = services.clean_account(
                account_number=data["account_number"], account_name=data["account_name"]
            )
        self._check_account(data)
        old = self.instance.status if self.instance.pk else Vendor.Status.PENDING
        new = data.get("status")
        if new and new != old and new not in Vendor.TRANSITIONS.get(old, frozenset()):
            raise ValidationError({"status": f"{old} → {new} is not allowed"})
        if not self.instance.pk and new and new != Vendor.Status.PENDING:
            # Maker-checker: whoever adds a trader is its maker; someone else approves it.
            raise ValidationError(
                {"status": "A new trader starts pending; another board member or the province approves it."}
            )
        if self.instance.pk and new and new != old:
            # The review's rules (maker-checker, a reason to reject), as on the board's pages.
            try:
                reviews.check_status_change(actor=self.actor, vendor=self.instance, status=new)
            except DomainError as exc:
                raise ValidationError({"status": exc.message}) from None
        return data

    # Set by VendorAdmin.get_form: the user saving the form.
    actor: Any = None

    def _check_account(self, data: dict[str, Any]) -> None:
        """The API's rule that an account identifies one trader
        (``services.account_claim_check``): the admin cannot move a stall onto
        an account a stall of another market holds either. The admin's change
        view runs in one transaction, so the check's lock lasts until the save."""
        bank, number, market = data.get("bank"), data.get("account_number"), data.get("market")
        if not (bank and number and market):
            return
        instance = self.instance
        if instance.pk and (instance.bank_id, instance.account_number, instance.market_id) == (
            bank.bin,
            number,
            market.pk,
        ):
            return
        try:
            services.account_claim_check(
                actor=self.actor, market=market, bank=bank, account_number=number, exclude_vendor_id=instance.pk
            )
        except DomainError as exc:
            raise ValidationError({"account_number": exc.message}) from None


class PayoutAccountChangeInline(admin.TabularInline):  # type: ignore[type-arg]
    """The vendor's payout-account history, read-only: changes are requested
    and decided through the API (vendors.payout_changes.payout_change_*)."""

    model = PayoutAccountChange
    fk_name = "vendor"
    extra = 0
    can_delete = False
    readonly_fields = [
        "requested_at",
        "outcome",
        "old_bank",
        "old_account_number",
        "old_account_name",
        "new_bank",
        "new_account_number",
        "new_account_name",
        "requested_by",
        "reason",
        "decided_by",
        "decided_at",
        "decision_reason",
    ]
    fields = [*readonly_fields]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Whoever sees the vendor (the admin's queryset is the vendor scope) sees its history.
        return True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Vendor)
class VendorAdmin(ScopedAdmin):
    form = VendorAdminForm
    inlines = [PayoutAccountChangeInline]
    list_display = [
        "merchant_code",
        "full_name",
        "market",
        "stall_label",
        "bank",
        "status",
        "onboarded_by",
        "onboarded_at",
    ]
    # Filter choices only from the vendors in scope: the plain filters listed every market and bank in the country.
    list_filter = [
        "status",
        "goods_category",
        ("market__province", admin.RelatedOnlyFieldListFilter),
        ("market", admin.RelatedOnlyFieldListFilter),
        ("bank", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["full_name", "phone", "merchant_code", "account_number", "stall_label"]
    readonly_fields = ["merchant_code", "onboarded_by", "onboarded_at", "created_at", "updated_at"]
    autocomplete_fields = ["market", "user"]
    fields = [*VendorAdminForm.Meta.fields, *readonly_fields]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        user: Any = request.user
        if not super().has_module_permission(request):
            return False
        if roles.is_superuser(user):
            return True
        if obj is None:
            return markets_onboardable_by(user=user).exists()
        return roles.onboards_in_market(user, obj.market_id)  # type: ignore[attr-defined]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_queryset(self, request: HttpRequest) -> QuerySet[Vendor]:
        # The vendor scope, not the market scope: a vendor sees only their own record.
        qs = admin.ModelAdmin.get_queryset(self, request)
        scope = vendor_scope_q(request.user)
        if scope is None:
            return qs
        return qs.filter(pk__in=Vendor.objects.filter(scope).values("pk"))

    def get_inlines(self, request: HttpRequest, obj: Model | None) -> list[type[admin.options.InlineModelAdmin]]:  # type: ignore[type-arg]
        # A vendor being added has no history yet.
        return list(self.inlines) if obj is not None else []

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        user: Any = request.user
        if obj is not None:
            # Where the money goes changes only through a payout-account change
            # (requested, then approved by the board), never by editing the form.
            readonly.extend(services.PAYOUT_FIELDS)
        # As in the API, only the board and the province activate or suspend a vendor.
        if obj is not None and not roles.manages_market(user, obj.market_id):  # type: ignore[attr-defined]
            readonly.append("status")
        return readonly

    def save_model(self, request: HttpRequest, obj: Vendor, form: Any, change: bool) -> None:
        if not change:
            # Added by hand: the system still assigns the code and records who did it.
            code = generate_merchant_code()
            while Vendor.objects.filter(merchant_code=code).exists():
                code = generate_merchant_code()
            obj.merchant_code = code
            obj.onboarded_by = request.user  # type: ignore[assignment]
            super().save_model(request, obj, form, change)
            return
        # Only the form's fields (never the read-only account): writing back the
        # account this page read would undo a payout change approved meanwhile.
        # The status goes through the review's writer, which records the decision.
        new_status = obj.status
        if "status" in form.changed_data:
            obj.status = form.initial.get("status", obj.status)
        skipped = {*services.PAYOUT_FIELDS, "status"}
        obj.save(update_fields=[name for name in form.fields if name not in skipped] + ["updated_at"])
        if new_status != obj.status:
            reviews.vendor_status_change(actor=request.user, vendor=obj, status=new_status)  # type: ignore[arg-type]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "market" and not roles.is_superuser(request.user):
            kwargs["queryset"] = markets_onboardable_by(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(PayoutAccountChange)
class PayoutAccountChangeAdmin(ScopedAdmin):
    """Every payout-account change in one's scope (boards look here for the
    pending ones), read-only: requests and decisions go through the API."""

    list_display = ["requested_at", "vendor", "outcome", "new_bank", "requested_by", "decided_by", "decided_at"]
    list_filter = ["outcome"]
    search_fields = ["vendor__full_name", "vendor__merchant_code"]
    list_select_related = ["vendor", "new_bank", "requested_by", "decided_by"]
    readonly_fields = ["vendor", *PayoutAccountChangeInline.readonly_fields]
    fields = [*readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PayoutAccountChange]:
        # The vendor scope, not the market scope: a vendor sees only their own stall's changes.
        qs = admin.ModelAdmin.get_queryset(self, request)
        scope = vendor_scope_q(request.user)
        if scope is None:
            return qs
        return qs.filter(vendor_id__in=Vendor.objects.filter(scope).values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(SharedAccountClaim)
class SharedAccountClaimAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only history of shared-account claims, scoped like the API
    (decided through the API, never edited here)."""

    list_display = ["id", "bank", "account_number", "market", "method", "status", "requested_by", "requested_at"]
    list_filter = ["status", "method"]
    search_fields = ["account_number"]
    exclude = ["code_hash"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SharedAccountClaim]:
        return account_claim_list(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
