"""Admin of the SMS outbox: a confirmation code in a message is masked for all
but superusers."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from market import roles
from payments.ledger import selectors as payment_selectors
from payments.ledger.admin_base import (
    ReadOnlyAdmin,
    all_columns,
    columns,
)
from payments.models import (
    OutboundSms,
)

_DIGIT_RUN = re.compile(r"\d{4,}")


@admin.register(OutboundSms)
class OutboundSmsAdmin(ReadOnlyAdmin):
    list_display = columns(OutboundSms, "created_at", "to", "status", "attempts", "sent_at", "payment")
    list_select_related = ["payment"]
    list_filter = ["status"]
    search_fields = ["to", "provider_message_id"]
    fields = all_columns(OutboundSms)

    def scope(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.filter(payment_id__in=payment_selectors.payment_managed_list(user=request.user).values("pk"))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The SMS may carry a vendor's confirmation code: only a superuser reads it whole.
        if roles.is_superuser(request.user):
            return self.fields
        return ["masked_body" if getattr(f, "__name__", f) == "body" else f for f in self.fields or ()]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    @admin.display(description=_("message"))
    def masked_body(self, obj: OutboundSms) -> str:
        return _DIGIT_RUN.sub(lambda m: "•" * len(m.group()), obj.body)
