"""The admin signs in through the sign-in throttle; API tokens, invitations and the
accounts audit are shown read-only to superusers (nobody needs them to invite anyone)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from accounts.forms import AdminSignInForm
from accounts.models import AccountEvent, ApiToken, Invitation

admin.site.login_form = AdminSignInForm


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Superusers may see and delete (revoke) tokens; nobody edits them."""

    list_display = ["user", "created_at", "last_used_at"]
    fields = ["user", "created_at", "last_used_at"]
    readonly_fields = ["user", "created_at", "last_used_at"]
    search_fields = ["user__username"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


class _SuperuserReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(_SuperuserReadOnly):
    """Who was invited as what, by whom, and where the invitation stands (no hashes shown)."""

    list_display = ("user", "kind", "place", "phone", "created_by", "created_at", "expires_at", "used_at", "revoked_at")
    fields = (*list_display, "code_attempts")
    readonly_fields = fields
    list_filter = ["kind"]
    search_fields = ["user__username", "phone", "place"]


@admin.register(AccountEvent)
class AccountEventAdmin(_SuperuserReadOnly):
    list_display = ("at", "user", "kind", "actor", "detail")
    fields = list_display
    readonly_fields = list_display
    list_filter = ["kind"]
    search_fields = ["user__username", "actor__username", "detail"]
