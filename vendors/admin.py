from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest

from market.admin import ScopedAdmin
from market.selectors import markets_onboardable_by
from vendors import services
from vendors.models import Vendor


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

    def clean_phone(self) -> str:
        return services.clean_phone(self.cleaned_data["phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("account_number") and data.get("account_name"):
            data["account_number"], data["account_name"] = services.clean_account(
                account_number=data["account_number"], account_name=data["account_name"]
            )
        old = self.instance.status if self.instance.pk else Vendor.Status.PENDING
        new = data.get("status")
        if new and new != old and new not in Vendor.TRANSITIONS.get(old, frozenset()):
            raise ValidationError({"status": f"{old} → {new} is not allowed"})
        return data


@admin.register(Vendor)
class VendorAdmin(ScopedAdmin):
    form = VendorAdminForm
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
    list_filter = ["status", "goods_category", "market__province", "market", "bank"]
    search_fields = ["full_name", "phone", "merchant_code", "account_number", "stall_label"]
    readonly_fields = ["merchant_code", "onboarded_by", "onboarded_at", "created_at", "updated_at"]
    autocomplete_fields = ["market", "user"]
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
        "merchant_code",
        "onboarded_by",
        "onboarded_at",
        "created_at",
        "updated_at",
    ]

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        user: Any = request.user
        if not super().has_module_permission(request):
            return False
        if user.is_superuser:
            return True
        markets = markets_onboardable_by(user=user)
        return markets.exists() if obj is None else markets.filter(pk=obj.market_id).exists()  # type: ignore[attr-defined]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "market" and not request.user.is_superuser:
            kwargs["queryset"] = markets_onboardable_by(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
