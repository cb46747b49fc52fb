"""Reads for markets and reference data, and the querysets of markets a user
may see, manage or onboard in: built on the role predicates of
``market.roles`` (where the rules are written). A resource outside one's
scope is reported as not found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from market import roles
from market.models import Market, Province, Ward

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def market_scope_q(user: User | AnonymousUser, *, prefix: str = "") -> Q | None:
    """A filter on markets (optionally through ``prefix`` such as ``"market__"``)
    matching what ``user`` may see; ``None`` means "no restriction"."""
    if roles.is_anonymous(user):
        return Q(pk__in=[])
    if roles.is_superuser(user):
        return None
    field = f"{prefix}id" if prefix else "id"
    return (
        roles.officer_q(user, prefix=prefix)
        | Q(**{f"{field}__in": Market.objects.filter(roles.board_q(user)).values("id")})
        | Q(**{f"{field}__in": Market.objects.filter(roles.volunteer_q(user)).values("id")})
        | Q(**{f"{field}__in": Market.objects.filter(roles.vendor_q(user)).values("id")})
    )


def market_list(*, user: User | AnonymousUser) -> QuerySet[Market]:
    qs = Market.objects.select_related("ward", "province", "legacy_province")
    scope = market_scope_q(user)
    if scope is not None:
        qs = qs.filter(scope).distinct()
    return qs


def markets_managed_by(*, user: User | AnonymousUser) -> QuerySet[Market]:
    """Markets whose data ``user`` may change: board members for their market,
    officers for their province, superusers for all."""
    if roles.is_anonymous(user):
        return Market.objects.none()
    if roles.is_superuser(user):
        return Market.objects.all()
    return Market.objects.filter(roles.manages_q(user)).distinct()


def markets_onboardable_by(*, user: User | AnonymousUser) -> QuerySet[Market]:
    """Markets where ``user`` may register vendors: those they manage plus
    those they are assigned to as a volunteer."""
    if roles.is_anonymous(user):
        return Market.objects.none()
    if roles.is_superuser(user):
        return Market.objects.all()
    return Market.objects.filter(roles.onboards_q(user)).distinct()


def provinces_managed_by(*, user: User | AnonymousUser) -> QuerySet[Province]:
    if roles.is_anonymous(user):
        return Province.objects.none()
    if roles.is_superuser(user):
        return Province.objects.all()
    return Province.objects.filter(officers__user_id=(user.pk or 0))


def province_list() -> QuerySet[Province]:
    return Province.objects.all()


def ward_list(*, province_code: str) -> QuerySet[Ward]:
    return Ward.objects.filter(province_id=province_code)


def first_board_market_id(*, user: User | AnonymousUser) -> int | None:
    """The market a board member lands on: the first (by id) of those they sit on the board of."""
    if roles.is_anonymous(user):
        return None
    return Market.objects.filter(roles.board_q(user)).order_by("pk").values_list("pk", flat=True).first()
