"""Admin of the ledger: payments (with the assign action on the unmatched
queue, through the same services as the API) and their events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError
from market import roles
from market.roles import has_any_role
from payments.ledger import selectors as payment_selectors
from payments.ledger import services as payment_services
from payments.ledger.admin_base import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    all_columns,
    columns,
)
from payments.models import (
    Payment,
    PaymentEvent,
)

# --- payments ------------------------------------------------------------------------


class PaymentEventInline(ReadOnlyInline):
    model = PaymentEvent
    fields = columns(PaymentEvent, "created_at", "kind", "actor", "data")
    ordering = ["created_at", "id"]


class UnmatchedFilter(admin.SimpleListFilter):
    title = _("unmatched queue")
    parameter_name = "unmatched"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("Waiting for a vendor")), ("all", _("Every payment without a vendor"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(vendor__isnull=True, status__in=payment_selectors.UNMATCHED_OPEN_STATUSES)
        if self.value() == "all":
            return queryset.filter(vendor__isnull=True)
        return queryset


class AssignVendorForm(forms.Form):
    vendor: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None, label=_("vendor"))  # type: ignore[arg-type]
    note = forms.CharField(
        label=_("note"),
        required=False,
        max_length=payment_services.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Why this vendor: what the payer or the vendor told you. Kept in the audit trail."),
    )

    def __init__(self, *args: Any, vendors: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = vendors  # type: ignore[attr-defined]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "occurred_at", "vendor", "market", "amount", "channel", "source", "status", "attribution",
        "provider_reference",
    ]  # fmt: skip
    list_select_related = ["vendor", "market"]
    list_filter = [
        UnmatchedFilter,
        "status",
        "channel",
        "source",
        "attribution",
        ("market", admin.RelatedOnlyFieldListFilter),
    ]
    date_hierarchy = "local_date"
    search_fields = [
        "provider_txn_id", "provider_reference", "content", "payer_masked", "receiving_account",
        "vendor__full_name", "vendor__merchant_code", "payment_request__reference",
    ]  # fmt: skip
    fields = all_columns(Payment)
    inlines = [PaymentEventInline]
    actions = ["assign_to_vendor", "mark_refunded", "mark_disputed"]

    def scope(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        scope = payment_selectors.payment_scope_q(request.user)
        return qs if scope is None else qs.filter(scope)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change page stays read-only; the permission only unlocks the
        # actions (for those who manage a market), whose service checks each payment.
        if obj is not None or not has_any_role(request.user):
            return False
        return roles.manages_any_market(request.user)

    def _report(self, request: HttpRequest, done: int, failures: list[str], success: str) -> None:
        if done:
            self.message_user(request, success % {"count": done}, messages.SUCCESS)
        for failure in failures:
            self.message_user(request, failure, messages.WARNING)

    def _run(
        self, request: HttpRequest, payments: Iterable[Payment], service: Callable[..., Any], **kwargs: Any
    ) -> tuple[int, list[str]]:
        done, failures = 0, []
        for payment in payments:
            try:
                service(actor=request.user, payment=payment, **kwargs)
                done += 1
            except (DomainError, PermissionDenied) as exc:
                detail = exc.args[0] if exc.args else exc
                failures.append(f"#{payment.pk}: {detail}")
        return done, failures

    @admin.action(description=_("Assign to a vendor…"), permissions=["change"])
    def assign_to_vendor(self, request: HttpRequest, queryset: QuerySet[Payment]) -> HttpResponse | None:
        payments = list(queryset.select_related("market").order_by("occurred_at", "id"))
        vendors = payment_selectors.vendors_assignable_by(user=request.user).order_by("full_name", "id")
        markets = {p.market_id for p in payments}
        market_id = markets.pop() if len(markets) == 1 else None
        if market_id is not None:
            vendors = vendors.filter(market_id=market_id)
        form = AssignVendorForm(request.POST if "apply" in request.POST else None, vendors=vendors)
        if form.is_valid():
            done, failures = self._run(
                request,
                payments,
                payment_services.payment_assign,
                vendor=form.cleaned_data["vendor"],
                note=form.cleaned_data["note"],
            )
            self._report(request, done, failures, str(_("%(count)d payment(s) assigned.")))
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign to a vendor"),
            "opts": self.model._meta,
            "payments": payments,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action": "assign_to_vendor",
        }
        return TemplateResponse(request, "admin/payments/payment/assign_vendor.html", context)

    @admin.action(description=_("Mark as refunded"), permissions=["change"])
    def mark_refunded(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        done, failures = self._run(request, queryset, payment_services.payment_refund)
        self._report(request, done, failures, str(_("%(count)d payment(s) marked refunded.")))

    @admin.action(description=_("Mark as disputed"), permissions=["change"])
    def mark_disputed(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        done, failures = self._run(request, queryset, payment_services.payment_dispute)
        self._report(request, done, failures, str(_("%(count)d payment(s) marked disputed.")))


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = columns(PaymentEvent, "created_at", "payment", "kind", "actor")
    list_select_related = ["payment", "actor"]
    list_filter = ["kind"]
    search_fields = ["kind", "payment__provider_txn_id", "actor__username"]
    fields = all_columns(PaymentEvent)

    def scope(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.filter(payment_id__in=payment_selectors.payment_list(user=request.user).values("pk"))
