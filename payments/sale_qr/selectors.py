"""Reads for sale QRs (payment requests).

Who sees payment requests (a request outside one's scope is not found):
- a vendor: their own;
- a market board member: every vendor's in their market;
- a province officer: every one in their province;
- a superuser: all.
Volunteers hand out stall cards but do not see sales.

A pending request whose ``expires_at`` has passed is reported as expired
(``display_status``, and the ``status`` filter agrees) even before the
periodic expiry task has written it, so the API never shows a stale
"pending".
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Now
from django.utils import timezone

from market import roles
from market.selectors import markets_managed_by
from payments.models import PaymentRequest
from vendors.models import Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

_PENDING = PaymentRequest.Status.PENDING
_EXPIRED = PaymentRequest.Status.EXPIRED


def display_status(request: PaymentRequest, *, now: dt.datetime | None = None) -> str:
    """The status as the API shows it: pending past its expiry is expired."""
    if request.status == _PENDING and request.expires_at <= (now or timezone.now()):
        return _EXPIRED
    return request.status


def may_sell_for(*, user: User | AnonymousUser, vendor: Vendor) -> bool:
    """Whether ``user`` may create, see and cancel ``vendor``'s sale QRs: the
    vendor themself, or whoever manages the vendor's market (board, province,
    superuser). Volunteers may not."""
    if not getattr(user, "is_authenticated", False):
        return False
    if roles.is_superuser(user) or roles.is_vendor_user(user, vendor):
        return True
    return roles.manages_market(user, vendor.market_id)


def payment_request_scope_q(user: User | AnonymousUser) -> Q | None:
    """Payment requests ``user`` may see; ``None`` means all (superuser)."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if roles.is_superuser(user):
        return None
    return Q(vendor__user_id=user.pk) | Q(market_id__in=markets_managed_by(user=user).values("pk"))


def payment_request_list(
    *, user: User | AnonymousUser, vendor_id: int | None = None, status: str | None = None
) -> QuerySet[PaymentRequest]:
    """Requests in ``user``'s scope, newest first, optionally one vendor's and
    one (displayed) status."""
    qs = PaymentRequest.objects.all()
    scope = payment_request_scope_q(user)
    if scope is not None:
        qs = qs.filter(scope)
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    if status == _PENDING:
        qs = qs.filter(status=_PENDING, expires_at__gt=Now())
    elif status == _EXPIRED:
        qs = qs.filter(Q(status=_EXPIRED) | Q(status=_PENDING, expires_at__lte=Now()))
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def with_display_status(qs: QuerySet[PaymentRequest]) -> QuerySet[PaymentRequest]:
    """Annotate ``shown_status`` in SQL, for callers that aggregate by status."""
    return qs.annotate(
        shown_status=Case(
            When(status=_PENDING, expires_at__lte=Now(), then=Value(_EXPIRED)),
            default=F("status"),
        )
    )


def payment_request_get(*, user: User | AnonymousUser, vendor_id: int, request_id: int) -> PaymentRequest | None:
    return payment_request_list(user=user, vendor_id=vendor_id).filter(pk=request_id).first()


# --- stall cards ---------------------------------------------------------------------
