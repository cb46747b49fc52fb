"""Reads for the board's pages, always through the caller's scope: a board
member sees their market(s), a province officer their province's markets, a
superuser all; anyone else finds nothing (the pages answer 404)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet

from common.errors import NotFound
from market.models import Market
from market.selectors import markets_managed_by
from payments.cards.selectors import card_vendors
from payments.models import CardBatch
from vendors.models import PayoutAccountChange, Vendor, VendorDecision

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def board_market(*, user: User | AnonymousUser, market_id: int) -> Market:
    """The market ``market_id`` if ``user`` manages it, else ``NotFound``."""
    market = markets_managed_by(user=user).select_related("province").filter(pk=market_id).first()
    if market is None:
        raise NotFound("not_found", "No such market.")
    return market


def _latest_decisions() -> Any:  # a Prefetch (django-stubs types it by its literal strings)
    return Prefetch(
        "decisions",
        queryset=VendorDecision.objects.select_related("decided_by").order_by("-decided_at", "-id"),
        to_attr="history",
    )


def review_queue(*, market: Market) -> QuerySet[Vendor]:
    """Registrations waiting for the board, oldest first (first come, first decided)."""
    return (
        Vendor.objects.filter(market=market, status=Vendor.Status.PENDING)
        .select_related("bank", "onboarded_by")
        .prefetch_related(_latest_decisions())
        .order_by("onboarded_at", "id")
    )


def rejected_registrations(*, market: Market) -> QuerySet[Vendor]:
    """Rejected registrations waiting to be corrected and sent again, newest first."""
    return (
        Vendor.objects.filter(market=market, status=Vendor.Status.REJECTED)
        .select_related("bank", "onboarded_by")
        .prefetch_related(_latest_decisions())
        .order_by("-updated_at", "-id")
    )


def review_vendor(*, market: Market, vendor_id: int) -> Vendor:
    vendor = Vendor.objects.select_related("market", "bank", "onboarded_by").filter(market=market, pk=vendor_id).first()
    if vendor is None:
        raise NotFound("not_found", "No such trader in this market.")
    return vendor


def pending_payout_changes(*, market: Market) -> QuerySet[PayoutAccountChange]:
    """Payout-account changes of the market's vendors waiting for a decision, oldest first."""
    return (
        PayoutAccountChange.objects.filter(vendor__market=market, outcome=PayoutAccountChange.Outcome.PENDING)
        .select_related("vendor", "vendor__market", "old_bank", "new_bank", "requested_by")
        .order_by("requested_at", "id")
    )


def payout_change_in_market(*, market: Market, change_id: int) -> PayoutAccountChange:
    change = (
        PayoutAccountChange.objects.select_related("vendor", "vendor__market")
        .filter(vendor__market=market, pk=change_id)
        .first()
    )
    if change is None:
        raise NotFound("not_found", "No such payout-account change in this market.")
    return change


def board_counts(*, market: Market) -> dict[str, int]:
    """The numbers on the board's home page."""
    return {
        "pending": Vendor.objects.filter(market=market, status=Vendor.Status.PENDING).count(),
        "rejected": Vendor.objects.filter(market=market, status=Vendor.Status.REJECTED).count(),
        "payout_changes": PayoutAccountChange.objects.filter(
            vendor__market=market, outcome=PayoutAccountChange.Outcome.PENDING
        ).count(),
        "cards": card_vendors(market=market).count(),
    }


def latest_card_batch(*, market: Market) -> CardBatch | None:
    return CardBatch.objects.filter(market=market).order_by("-created_at", "-id").first()
