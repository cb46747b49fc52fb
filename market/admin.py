"""Admin in Vietnamese (the models' verbose names are translated), scoped
exactly like the API: staff see and change only what their role covers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from market import roles, selectors
from market.models import (
    Bank,
    BoardMember,
    LegacyProvince,
    Market,
    Province,
    ProvinceOfficer,
    VolunteerAssignment,
    Ward,
)
from market.roles import has_any_role

admin.site.site_header = _("Chợ 4.0 administration")
admin.site.site_title = "Chợ 4.0"
admin.site.index_title = _("Cashless markets")


class ReadOnlyReferenceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Reference data comes from migrations; nobody edits it by hand."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_any_role(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return has_any_role(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Province)
class ProvinceAdmin(ReadOnlyReferenceAdmin):
    list_display = ["code", "name", "kind"]
    search_fields = ["code", "name"]


@admin.register(LegacyProvince)
class LegacyProvinceAdmin(ReadOnlyReferenceAdmin):
    list_display = ["code", "name", "merged_into"]
    search_fields = ["code", "name"]


@admin.register(Ward)
class WardAdmin(ReadOnlyReferenceAdmin):
    list_display = ["code", "name", "kind", "province"]
    list_filter = ["province", "kind"]
    search_fields = ["code", "name"]


@admin.register(Bank)
class BankAdmin(ReadOnlyReferenceAdmin):
    list_display = ["bin", "short_name", "code", "name"]
    search_fields = ["bin", "short_name", "code", "name"]


class ScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows are filtered to the markets the user's role covers; changes need a
    managing role (board or province) over the row's market."""

    market_path = "market__"  # how to reach the market from this model

    def has_module_permission(self, request: HttpRequest) -> bool:
        return has_any_role(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return has_any_role(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return roles.is_superuser(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if not has_any_role(request.user):
            return False
        if roles.is_superuser(request.user):
            return True
        if obj is None:
            return roles.manages_any_market(request.user)
        return roles.manages_market(request.user, self.market_id_of(obj) or 0)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return roles.is_superuser(request.user)

    def market_id_of(self, obj: Model) -> int | None:
        return obj.market_id  # type: ignore[attr-defined,no-any-return]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        scope = selectors.market_scope_q(request.user, prefix=self.market_path)
        if scope is None:
            return qs
        return qs.filter(pk__in=qs.model._default_manager.filter(scope).values("pk"))


class BoardMemberInline(admin.TabularInline):  # type: ignore[type-arg]
    model = BoardMember
    extra = 0
    autocomplete_fields = ["user"]


class VolunteerInline(admin.TabularInline):  # type: ignore[type-arg]
    model = VolunteerAssignment
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Market)
class MarketAdmin(ScopedAdmin):
    market_path = ""
    list_display = ["code", "name", "ward", "province", "legacy_province", "stall_count", "status", "cashless_since"]
    list_filter = ["status", "province", "legacy_province"]
    search_fields = ["code", "name", "address"]
    autocomplete_fields = ["ward"]
    readonly_fields = ["province", "created_at", "updated_at"]
    inlines = [BoardMemberInline, VolunteerInline]

    def market_id_of(self, obj: Model) -> int | None:
        return obj.pk  # type: ignore[no-any-return]

    def save_model(self, request: HttpRequest, obj: Market, form: Any, change: bool) -> None:
        # The province always follows the ward (see market.services).
        obj.province_id = obj.ward.province_id
        super().save_model(request, obj, form, change)


@admin.register(ProvinceOfficer)
class ProvinceOfficerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "province", "created_at"]
    list_filter = ["province"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(BoardMember)
class BoardMemberAdmin(ScopedAdmin):
    list_display = ["user", "market", "title", "created_at"]
    search_fields = ["user__username", "market__name"]
    autocomplete_fields = ["user", "market"]


@admin.register(VolunteerAssignment)
class VolunteerAssignmentAdmin(ScopedAdmin):
    list_display = ["user", "market", "created_at"]
    search_fields = ["user__username", "market__name"]
    autocomplete_fields = ["user", "market"]
