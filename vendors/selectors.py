"""Reads for vendors, always through the caller's scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from market import roles
from market.selectors import market_scope_q
from vendors.models import PayoutAccountChange, Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def vendor_scope_q(user: User | AnonymousUser, *, prefix: str = "") -> Q | None:
    """Vendors ``user`` may see: as a vendor only their own record (not their
    neighbours'), plus whatever their other roles cover. ``None`` means no
    restriction (superuser)."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if roles.is_superuser(user):
        return None
    staff = roles.onboards_q(user, prefix=f"{prefix}market__")
    return staff | Q(**{f"{prefix}user_id": (user.pk or 0)})


def vendor_list(*, user: User | AnonymousUser) -> QuerySet[Vendor]:
    qs = Vendor.objects.select_related("market", "bank", "onboarded_by")
    scope = vendor_scope_q(user)
    if scope is None:
        return qs
    # The OR across to-many joins can repeat rows; filter by id instead of distinct().
    return qs.filter(pk__in=Vendor.objects.filter(scope).values("pk"))


def vendor_for_user(*, user: User | AnonymousUser) -> Vendor | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Vendor.objects.select_related("market", "bank").filter(user_id=(user.pk or 0)).first()


def find_by_phone(*, market_id: int, phone: str) -> Vendor | None:
    return Vendor.objects.filter(market_id=market_id, phone=phone).first()


def find_by_account(*, market_id: int, bank_bin: str, account_number: str) -> Vendor | None:
    return Vendor.objects.filter(market_id=market_id, bank_id=bank_bin, account_number=account_number).first()


def payout_change_list(*, user: User | AnonymousUser, vendor_id: int) -> QuerySet[PayoutAccountChange]:
    """A vendor's payout-account changes, newest first, for whoever may see the vendor."""
    qs = PayoutAccountChange.objects.select_related(
        "vendor__market", "old_bank", "new_bank", "requested_by", "decided_by"
    ).filter(vendor_id=vendor_id)
    scope = vendor_scope_q(user)
    if scope is None:
        return qs
    return qs.filter(vendor_id__in=Vendor.objects.filter(scope).values("pk"))


__all__ = ["market_scope_q", "vendor_list", "vendor_scope_q"]
