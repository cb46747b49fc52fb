"""Reads of the volunteer's pages, always within the markets the signed-in
person onboards in (``market.roles.onboards_in_market``): anything else is
not found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from market.models import Market
from market.selectors import markets_onboardable_by
from payments.ledger.selectors import vendor_first_activity
from vendors.models import Vendor
from vendors.selectors import find_by_account, find_by_phone, vendor_list

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def onboarding_markets(*, user: User | AnonymousUser) -> QuerySet[Market]:
    return markets_onboardable_by(user=user).order_by("name", "pk")


def onboarding_market(*, user: User | AnonymousUser, market_id: int) -> Market | None:
    return onboarding_markets(user=user).filter(pk=market_id).first()


def trader_get(*, user: User | AnonymousUser, vendor_id: int) -> Vendor | None:
    """A trader of a market ``user`` onboards in."""
    return (
        vendor_list(user=user)
        .filter(pk=vendor_id, market__in=markets_onboardable_by(user=user).values("pk"))
        .select_related("market", "bank", "onboarded_by")
        .first()
    )


def duplicate_of(
    *, market: Market, phone: str | None, bank_bin: str | None, account_number: str | None
) -> Vendor | None:
    """The trader of ``market`` already holding this phone, else this account."""
    found = find_by_phone(market_id=market.pk, phone=phone) if phone else None
    if found is None and bank_bin and account_number:
        found = find_by_account(market_id=market.pk, bank_bin=bank_bin, account_number=account_number)
    return found


@dataclass(frozen=True)
class TraderRow:
    vendor: Vendor
    first_paid: dt.date | None
    paid_days: int

    @property
    def started(self) -> bool:
        return self.first_paid is not None

    @property
    def came_back(self) -> bool:
        """Paid on a second day: the habit has started."""
        return self.paid_days >= 2

    @property
    def needs_visit(self) -> bool:
        return self.vendor.status != Vendor.Status.SUSPENDED and not self.came_back


def my_traders(*, user: User | AnonymousUser) -> QuerySet[Vendor]:
    """Everyone ``user`` registered, in the markets they onboard in now, newest first."""
    return (
        Vendor.objects.filter(onboarded_by_id=user.pk or 0, market__in=markets_onboardable_by(user=user).values("pk"))
        .select_related("market")
        .order_by("-onboarded_at", "-id")
    )


def trader_rows(vendors: list[Vendor]) -> list[TraderRow]:
    """``vendors`` with whether each has been paid, and on how many days."""
    activity = vendor_first_activity(vendor_ids=[v.pk for v in vendors])
    rows = []
    for vendor in vendors:
        first, days = activity.get(vendor.pk, (None, 0))
        rows.append(TraderRow(vendor=vendor, first_paid=first, paid_days=days))
    return rows
