"""Admin of sale QRs (payment requests), scoped like the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from payments.ledger.admin_base import (
    ReadOnlyAdmin,
    all_columns,
)
from payments.models import (
    PaymentRequest,
)
from payments.sale_qr.selectors import payment_request_scope_q


@admin.register(PaymentRequest)
class PaymentRequestAdmin(ReadOnlyAdmin):
    list_display = ["reference", "vendor", "market", "amount", "status", "expires_at", "paid_at", "created_at"]
    list_select_related = ["vendor", "market"]
    list_filter = ["status", ("market", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["reference", "note", "vendor__full_name", "vendor__merchant_code"]
    fields = all_columns(PaymentRequest)

    def scope(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        scope = payment_request_scope_q(request.user)
        return qs if scope is None else qs.filter(scope)
