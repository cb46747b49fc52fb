"""Reads for payments: who may see which payment, the unmatched queue and the
daily summary. (Payment requests are read in ``payments.sale_qr.selectors``.)

Scope rules (a payment outside one's scope is reported as not found):
- superuser: every payment, including unmatched ones with no market at all;
- province officer: payments whose market is in their province, matched or not;
- market board member: payments whose market is theirs, matched or not;
- an unmatched payment with no market (active stalls at different banks share
  the account number, in several markets, and the provider did not say which
  bank) belongs to the scope that holds its receiving account: the boards of
  the markets where an ACTIVE vendor holds that account, and the officers of
  their provinces. A pending or suspended registration gives no sight of it
  (attribution queues a credit held only by such stalls under their market);
- vendor: only payments attributed to them;
- volunteer: none. Volunteers onboard traders; they do not see money.

A user with several roles sees the union. Unmatched payments that match no
vendor anywhere and carry no market are visible to superusers only: nothing
in the row says which province they belong to. (docs/security.md)
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import Count, Min, Q, QuerySet, Sum

from common.filters import IdFilter
from market import roles
from market.selectors import markets_managed_by
from payments.models import Channel, Payment, Source
from vendors.models import Vendor

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Statuses of an unmatched payment that still needs a decision. A failed or
# refunded credit is history: nobody has to attribute it any more.
UNMATCHED_OPEN_STATUSES = (Payment.Status.PENDING, Payment.Status.SUCCEEDED, Payment.Status.DISPUTED)


def payment_manage_q(user: User | AnonymousUser) -> Q | None:
    """Payments whose money ``user`` oversees and may act on (assign, refund,
    dispute): board members, officers, superusers. ``None`` means everything."""
    if roles.is_anonymous(user):
        return Q(pk__in=[])
    if roles.is_superuser(user):
        return None
    # Literal id lists, not subqueries: ``market_id IN (SELECT …)`` inside an OR
    # becomes a hashed subplan and PostgreSQL scans the whole payments table;
    # ``market_id = ANY(…)`` uses the (market, local_date) index. A user
    # manages a handful of markets, an officer a province's (≈50).
    market_ids = list(markets_managed_by(user=user).values_list("pk", flat=True))
    scope = Q(market_id__in=market_ids)
    if market_ids:
        # The markets a board member or officer manages hold these accounts
        # (markets_managed_by covers an officer's whole province).
        accounts = (
            Vendor.objects.filter(market_id__in=market_ids, status=Vendor.Status.ACTIVE)
            .exclude(account_number="")
            .values("account_number")
        )
        # Few rows have neither vendor nor market; the partial unmatched index finds them.
        scope |= Q(market__isnull=True, vendor__isnull=True, receiving_account__in=accounts)
    return scope


def payment_scope_q(user: User | AnonymousUser) -> Q | None:
    """Payments ``user`` may see: those they manage plus, for a vendor, their own."""
    manage = payment_manage_q(user)
    if manage is None or roles.is_anonymous(user):
        return manage
    own = list(Vendor.objects.filter(user_id=user.pk or 0).values_list("pk", flat=True))
    return manage | Q(vendor_id__in=own) if own else manage


def payment_list(*, user: User | AnonymousUser) -> QuerySet[Payment]:
    qs = Payment.objects.all()
    scope = payment_scope_q(user)
    return qs if scope is None else qs.filter(scope)


def payment_get(*, user: User | AnonymousUser, pk: int) -> Payment | None:
    """One payment in scope with its audit trail, or ``None``."""
    return (
        payment_list(user=user)
        .select_related("vendor", "market", "payment_request")
        .prefetch_related("events__actor")
        .filter(pk=pk)
        .first()
    )


def payment_managed_list(*, user: User | AnonymousUser) -> QuerySet[Payment]:
    qs = Payment.objects.all()
    scope = payment_manage_q(user)
    return qs if scope is None else qs.filter(scope)


def payment_is_managed_by(*, user: User | AnonymousUser, payment: Payment) -> bool:
    return payment_managed_list(user=user).filter(pk=payment.pk).exists()


def unmatched_list(*, user: User | AnonymousUser) -> QuerySet[Payment]:
    """The unmatched queue: credits no vendor has been attributed to yet, that
    ``user`` may assign. Empty for vendors and volunteers."""
    return payment_managed_list(user=user).filter(vendor__isnull=True, status__in=UNMATCHED_OPEN_STATUSES)


def vendors_assignable_by(*, user: User | AnonymousUser) -> QuerySet[Vendor]:
    """Vendors a payment may be assigned to by ``user``: those of the markets
    they manage (a volunteer or a vendor may not move money between stalls)."""
    if roles.is_anonymous(user):
        return Vendor.objects.none()
    qs = Vendor.objects.select_related("market")
    if roles.is_superuser(user):
        return qs
    return qs.filter(market_id__in=markets_managed_by(user=user).values("pk"))


class PaymentFilter(django_filters.FilterSet):
    """Query-string filters shared by the list, the unmatched queue and the CSV export.

    ``date_from``/``date_to`` are Vietnam calendar days (``local_date``), both
    inclusive; ``occurred_after`` (inclusive) / ``occurred_before`` (exclusive)
    are ISO 8601 instants, read in Vietnam time when they carry no offset.
    """

    vendor = IdFilter(field_name="vendor_id")
    market = IdFilter(field_name="market_id")
    payment_request = IdFilter(field_name="payment_request_id")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    status = django_filters.ChoiceFilter(choices=Payment.Status.choices)
    source = django_filters.ChoiceFilter(choices=Source.choices)
    attribution = django_filters.ChoiceFilter(choices=Payment.Attribution.choices)
    date_from = django_filters.DateFilter(field_name="local_date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="local_date", lookup_expr="lte")
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    unmatched = django_filters.BooleanFilter(field_name="vendor", lookup_expr="isnull")

    class Meta:
        model = Payment
        fields: list[str] = []


def _average(amount: int, count: int) -> int:
    """Average ticket in whole đồng, rounded half up (integers only: no float)."""
    return (2 * amount + count) // (2 * count) if count else 0


def _empty_channels() -> dict[str, dict[str, int]]:
    return {channel: {"count": 0, "amount": 0} for channel in Channel.values}


def payment_daily_summary(
    *,
    user: User | AnonymousUser,
    date_from: dt.date,
    date_to: dt.date,
    vendor_id: int | None = None,
    market_id: int | None = None,
) -> dict[str, Any]:
    """Succeeded payments per Vietnam calendar day in ``user``'s scope: count,
    amount, average ticket and the split by channel. Days without a payment are
    listed with zeros so a chart needs no gap-filling.

    Only ``succeeded`` payments count: a refunded credit went back to the payer,
    and a pending, failed or disputed one is not money the stall can rely on.
    The grouping happens in the database (GROUP BY local_date, channel); Python
    only folds the few resulting rows into days.
    """
    qs = payment_list(user=user).filter(
        status=Payment.Status.SUCCEEDED, local_date__gte=date_from, local_date__lte=date_to
    )
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    if market_id is not None:
        qs = qs.filter(market_id=market_id)
    rows = (
        qs.order_by()
        .values("local_date", "channel")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("local_date", "channel")
    )

    days: dict[dt.date, dict[str, Any]] = {}
    day = date_from
    while day <= date_to:
        days[day] = {"date": day, "count": 0, "amount": 0, "by_channel": _empty_channels()}
        day += dt.timedelta(days=1)
    totals: dict[str, Any] = {"count": 0, "amount": 0, "by_channel": _empty_channels()}
    for row in rows:
        entry = days[row["local_date"]]
        count, amount = int(row["count"]), int(row["amount"] or 0)
        for bucket in (entry, totals):
            bucket["count"] += count
            bucket["amount"] += amount
            channel = bucket["by_channel"].setdefault(row["channel"], {"count": 0, "amount": 0})
            channel["count"] += count
            channel["amount"] += amount
    for bucket in [*days.values(), totals]:
        bucket["average_ticket"] = _average(bucket["amount"], bucket["count"])
    return {"date_from": date_from, "date_to": date_to, "totals": totals, "days": list(days.values())}


# --- first payments of newly onboarded traders ---------------------------------------


def vendor_first_activity(*, vendor_ids: list[int]) -> dict[int, tuple[dt.date, int]]:
    """For each of ``vendor_ids`` that has been paid: the local date of its
    first succeeded payment and how many distinct days it has been paid on.
    No amounts: it serves the volunteer's "my traders" page (volunteers do not
    see money), which asks whether a trader has started and come back."""
    rows = (
        Payment.objects.filter(vendor_id__in=vendor_ids, status=Payment.Status.SUCCEEDED)
        .values("vendor_id")
        .annotate(first=Min("local_date"), days=Count("local_date", distinct=True))
        .order_by()
    )
    return {row["vendor_id"]: (row["first"], row["days"]) for row in rows}
