"""Admin of code entry: confirmation codes and attempts, offline confirmations
and key grants, USSD sessions; rows of a vendor, for staff of its market."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from payments.ledger.admin_base import (
    ReadOnlyAdmin,
    all_columns,
    columns,
    managed_market_ids,
)
from payments.models import (
    ConfirmationAttempt,
    ConfirmationCode,
    OfflineConfirmation,
    OfflineKeyGrant,
    UssdSession,
)


class _VendorScoped(ReadOnlyAdmin):
    """Rows of a vendor, visible to staff who manage the vendor's market."""

    def scope(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.filter(vendor__market_id__in=managed_market_ids(request))


@admin.register(ConfirmationCode)
class ConfirmationCodeAdmin(_VendorScoped):
    list_display = columns(ConfirmationCode, "created_at", "vendor", "payment", "counter", "expires_at", "used_at")
    list_select_related = ["vendor", "payment"]
    fields = all_columns(ConfirmationCode)


@admin.register(ConfirmationAttempt)
class ConfirmationAttemptAdmin(_VendorScoped):
    list_display = columns(ConfirmationAttempt, "created_at", "vendor", "succeeded", "amount", "code_tail", "user")
    list_select_related = ["vendor", "user"]
    list_filter = ["succeeded"]
    fields = all_columns(ConfirmationAttempt)


@admin.register(OfflineConfirmation)
class OfflineConfirmationAdmin(_VendorScoped):
    list_display = columns(OfflineConfirmation, "captured_at", "vendor", "amount", "status", "flag_reason", "payment")
    list_select_related = ["vendor", "payment"]
    list_filter = ["status"]
    fields = all_columns(OfflineConfirmation)


@admin.register(OfflineKeyGrant)
class OfflineKeyGrantAdmin(_VendorScoped):
    list_display = columns(OfflineKeyGrant, "granted_at", "vendor", "device_id")
    list_select_related = ["vendor"]
    fields = all_columns(OfflineKeyGrant)


@admin.register(UssdSession)
class UssdSessionAdmin(_VendorScoped):
    list_display = columns(UssdSession, "created_at", "session_id", "phone", "vendor", "amount", "payment")
    list_select_related = ["vendor", "payment"]
    search_fields = ["session_id", "phone"]
    fields = all_columns(UssdSession)
