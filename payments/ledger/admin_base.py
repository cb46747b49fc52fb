"""The ground of the payments admin: a read-only window on every row that money
depends on, in Vietnamese through the models' verbose names. Each feature
registers its own models (``payments.<feature>.admin``); ``payments.admin``
imports them all and gives the rest a scoped read-only fallback.

Nothing here edits a payment directly. Status changes and the assignment of
unmatched credits are admin actions that call the same services as the API
(``payments.ledger.services``), so they are checked and audited the same way.

Non-superuser staff (a board member or officer given admin access) see only
what the API would show them: the querysets are scoped with the same selectors.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from market import roles
from market.roles import sees_money
from market.selectors import markets_managed_by
from payments.ledger import selectors as payment_selectors

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
        return format_html('<pre class="pre-wrap">{}</pre>', value)  # css/admin.css (ReadOnlyAdmin.Media)
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


def managed_market_ids(request: HttpRequest) -> QuerySet[Any]:
    return markets_managed_by(user=request.user).values("pk")


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every field read-only, no add, no delete; rows limited by ``scope`` for
    staff who are not superusers. Access follows the roles, like the rest of the
    admin (``market.admin``), not Django's per-model permissions."""

    list_per_page = 50

    class Media:
        # .pre-wrap for multi-line text (_render): a class, as the Content-Security-Policy
        # refuses style attributes.
        css = {"all": ("css/admin.css",)}

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


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0

    class Media:
        css = {"all": ("css/admin.css",)}

    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- anything added to the app later ---------------------------------------------------


def fallback_admin(model: type[models.Model]) -> type[ReadOnlyAdmin]:
    """A read-only admin for a payments model nobody wrote one for yet, scoped by
    its market, its vendor's market or its payment; superusers only otherwise."""
    names = {f.name for f in model._meta.concrete_fields}

    def scope(self: ReadOnlyAdmin, request: HttpRequest, qs: QuerySet[Any]) -> QuerySet[Any]:
        if "market" in names:
            return qs.filter(market_id__in=managed_market_ids(request))
        if "vendor" in names:
            return qs.filter(vendor__market_id__in=managed_market_ids(request))
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
