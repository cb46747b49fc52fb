"""Admin of bank-credit webhook deliveries: exactly as they arrived."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from payments.ledger import selectors as payment_selectors
from payments.ledger.admin_base import (
    ReadOnlyAdmin,
    all_columns,
    columns,
)
from payments.models import (
    WebhookDelivery,
)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """Bank notifications exactly as they arrived (secrets were redacted when stored)."""

    list_display = columns(WebhookDelivery, "received_at", "source", "status", "provider_txn_id", "payment", "error")
    list_filter = ["source", "status"]
    search_fields = ["provider_txn_id", "body", "error"]
    fields = all_columns(WebhookDelivery)

    def scope(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        # A delivery that never became a payment cannot be placed in a market.
        return qs.filter(payment_id__in=payment_selectors.payment_managed_list(user=request.user).values("pk"))
