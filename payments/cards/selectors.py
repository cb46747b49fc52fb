"""Reads for stall cards: the markets and vendors one may print, and the card batches."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from market.models import Market
from market.selectors import markets_onboardable_by
from payments.models import CardBatch, PaymentRequest
from vendors.models import Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

_PENDING = PaymentRequest.Status.PENDING
_EXPIRED = PaymentRequest.Status.EXPIRED


def card_markets_for(*, user: User | AnonymousUser) -> QuerySet[Market]:
    """Markets whose cards ``user`` may print: board members, province officers,
    superusers and the market's volunteers (who hand the cards out)."""
    return markets_onboardable_by(user=user)


def card_vendors(*, market: Market) -> QuerySet[Vendor]:
    """The vendors that get a card in a market's batch: active ones, by stall."""
    return (
        Vendor.objects.filter(market=market, status=Vendor.Status.ACTIVE)
        .select_related("bank", "market")
        .order_by("stall_label", "id")
    )


def card_batch_get(*, market: Market, batch_id: int) -> CardBatch | None:
    return CardBatch.objects.filter(market=market, pk=batch_id).first()


# A batch in progress that has not reported progress for this long lost its
# worker (or its broker message): a new request starts afresh.
CARD_BATCH_STALE_AFTER = dt.timedelta(minutes=10)


def card_batch_reusable(*, market: Market, now: dt.datetime | None = None) -> CardBatch | None:
    """A batch of ``market`` that answers a new request as well as a fresh one
    would: in progress and alive, or done after the last change to the market
    and its vendors (and with as many cards as there are active vendors)."""
    latest = CardBatch.objects.filter(market=market).exclude(status=CardBatch.Status.FAILED).first()
    if latest is None:
        return None
    if latest.status in (CardBatch.Status.PENDING, CardBatch.Status.RUNNING):
        alive = latest.updated_at > (now or timezone.now()) - CARD_BATCH_STALE_AFTER
        return latest if alive else None
    if not latest.file:
        return None  # its PDF has been purged (card_batches_purge): render afresh
    changed = Vendor.objects.filter(market=market).order_by("-updated_at").values_list("updated_at", flat=True).first()
    last_change = max(filter(None, (changed, market.updated_at)))
    if latest.created_at <= last_change or latest.total != card_vendors(market=market).count():
        return None
    return latest


def card_batches_stale(*, market: Market, now: dt.datetime | None = None) -> QuerySet[CardBatch]:
    return CardBatch.objects.filter(
        market=market,
        status__in=(CardBatch.Status.PENDING, CardBatch.Status.RUNNING),
        updated_at__lte=(now or timezone.now()) - CARD_BATCH_STALE_AFTER,
    )
