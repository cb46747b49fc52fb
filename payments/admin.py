"""Django admin for the payments app: a read-only window on every row that money
depends on, in Vietnamese through the models' verbose names.

Nothing here edits a payment directly. Status changes and the assignment of
unmatched credits are admin actions that call the same services as the API
(``payments.services.payments``), so they are checked and audited the same way.

Non-superuser staff (a board member or officer given admin access) see only
what the API would show them: the querysets are scoped with the same selectors.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from common.errors import DomainError
from market import roles
from market.roles import has_any_role, sees_money
from market.selectors import markets_managed_by
from payments import payment_selectors
from payments.models import (
    ConfirmationAttempt,
    ConfirmationCode,
    OfflineConfirmation,
    OfflineKeyGrant,
    OutboundSms,
    Payment,
    PaymentEvent,
    PaymentRequest,
    UssdSession,
    WebhookDelivery,
)
from payments.sale_qr.selectors import payment_request_scope_q
from payments.services import payments as payment_services

# Labels for fields the models leave without a verbose name (the raw and
# technical tables). Fields that have one are shown with it.
FIELD_LABELS: dict[str, Any] = {
    "id": _("ID"),
    "payment": _("payment"),
    "vendor": _("vendor"),
    "market": _("market"),
    "kind": _("event"),
    "actor": _("by"),
    "data": _("details"),
    "created_at": _("created at"),
    "updated_at": _("updated at"),
    "source": _("source"),
    "received_at": _("received at"),
    "headers": _("headers"),
    "body": _("raw body"),
    "body_encoding": _("raw body encoding"),
    "remote_addr": _("IP address"),
    "status": _("status"),
    "error": _("error"),
    "provider_txn_id": _("provider transaction id"),
    "processed_at": _("processed at"),
    "counter": _("counter"),
    "expires_at": _("expires at"),
    "used_at": _("used at"),
    "outcome": _("outcome"),
    "user": _("user"),
    "code_tail": _("last digits of the code"),
    "amount": _("amount (VND)"),
    "succeeded": _("succeeded"),
    "client_uuid": _("record id on the device"),
    "code": _("code"),
    "captured_at": _("captured at"),
    "flag_reason": _("flag reason"),
    "reconcile_by": _("reconcile by"),
    "device_id": _("device"),
    "granted_at": _("granted at"),
    "session_id": _("session id"),
    "phone": _("phone"),
    "service_code": _("service code"),
    "last_text": _("last input"),
    "last_reply": _("last reply"),
    "to": _("recipient"),
    "attempts": _("attempts"),
    "provider_message_id": _("provider message id"),
    "last_error": _("last error"),
    "sent_at": _("sent at"),
    "idempotency_key": _("idempotency key"),
    "created_by": _("created by"),
    "requested_by": _("requested by"),
}

_DIGIT_RUN = re.compile(r"\d{4,}")


def _render(value: Any) -> Any:
    """What the admin would show for a field it labels itself: Vietnam time,
    a dash for nothing, raw JSON and bodies as preformatted text."""
    if value is None or value == "":
        return admin.site.empty_value_display
    if isinstance(value, dt.datetime):
        return formats.localize(timezone.localtime(value))
    if isinstance(value, dt.date):
        return formats.localize(value)
    if isinstance(value, (dict, list)):
        return format_html("<pre>{}</pre>", json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))
    if isinstance(value, str) and "\n" in value.strip():
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', value)
    return value


def _column(model: type[models.Model], name: str) -> str | Callable[[Any], Any]:
    """``name`` itself when the model gives the field a verbose name (the admin
    then shows it, translated), otherwise a read-only display labelled from
    ``FIELD_LABELS``."""
    field: Any = model._meta.get_field(name)
    label = FIELD_LABELS.get(name)
    has_own_label = str(field.verbose_name) != name.replace("_", " ")
    if has_own_label or label is None:
        return name

    def display(obj: Any) -> Any:
        if field.choices:
            return getattr(obj, f"get_{name}_display")()
        return _render(getattr(obj, name))

    display.__name__ = name
    display.short_description = label  # type: ignore[attr-defined]
    display.admin_order_field = name  # type: ignore[attr-defined]
    if isinstance(field, models.BooleanField):
        display.boolean = True  # type: ignore[attr-defined]
    return display


def columns(model: type[models.Model], *names: str) -> list[Any]:
    return [_column(model, name) for name in names]


def all_columns(model: type[models.Model]) -> list[Any]:
    return columns(model, *(f.name for f in model._meta.concrete_fields))


def _managed_market_ids(request: HttpRequest) -> QuerySet[Any]:
    return markets_managed_by(user=request.user).values("pk")


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every field read-only, no add, no delete; rows limited by ``scope`` for
    staff who are not superusers. Access follows the roles, like the rest of the
    admin (``market.admin``), not Django's per-model permissions."""

    list_per_page = 50

    def scope(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.none()  # unknown rows are for superusers only

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if roles.is_superuser(request.user):
            return qs
        return self.scope(request, qs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return sees_money(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_money(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- payments ------------------------------------------------------------------------


class PaymentEventInline(_ReadOnlyInline):
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


# --- raw deliveries and technical tables ---------------------------------------------


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


class _VendorScoped(ReadOnlyAdmin):
    """Rows of a vendor, visible to staff who manage the vendor's market."""

    def scope(self, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.filter(vendor__market_id__in=_managed_market_ids(request))


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


# --- anything added to the app later ---------------------------------------------------


def _fallback_admin(model: type[models.Model]) -> type[ReadOnlyAdmin]:
    """A read-only admin for a payments model nobody wrote one for yet, scoped by
    its market, its vendor's market or its payment; superusers only otherwise."""
    names = {f.name for f in model._meta.concrete_fields}

    def scope(self: ReadOnlyAdmin, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        if "market" in names:
            return qs.filter(market_id__in=_managed_market_ids(request))
        if "vendor" in names:
            return qs.filter(vendor__market_id__in=_managed_market_ids(request))
        if "payment" in names:
            return qs.filter(payment_id__in=payment_selectors.payment_managed_list(user=request.user).values("pk"))
        return qs.none()

    first = [n for n in ("id", "created_at", "market", "vendor", "status") if n in names]
    attrs = {
        "__module__": __name__,
        "fields": all_columns(model),
        "list_display": columns(model, *first),
        "scope": scope,
    }
    return type(f"{model.__name__}Admin", (ReadOnlyAdmin,), attrs)


for _model in apps.get_app_config("payments").get_models():
    if not admin.site.is_registered(_model):
        admin.site.register(_model, _fallback_admin(_model))
