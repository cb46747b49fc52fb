"""Reads for markets and reference data, and the one place that decides
which markets a user may see.

Scope rules (a resource outside one's scope is reported as not found):
- superuser: everything;
- province officer: every market in their province(s);
- market board member: their market(s);
- volunteer: the markets they are assigned to;
- vendor: the market of their own stall.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from market.models import Market, Province, Ward

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def _is_anonymous(user: User | AnonymousUser) -> bool:
    return not getattr(user, "is_authenticated", False)


def market_scope_q(user: User | AnonymousUser, *, prefix: str = "") -> Q | None:
    """A filter on markets (optionally through ``prefix`` such as ``"market__"``)
    matching what ``user`` may see; ``None`` means "no restriction"."""
    if _is_anonymous(user):
        return Q(pk__in=[])
    if getattr(user, "is_superuser", False):
        return None
    uid = user.pk or 0
    field = f"{prefix}id" if prefix else "id"
    return (
        Q(**{f"{prefix}province__officers__user_id": uid})
        | Q(**{f"{field}__in": Market.objects.filter(board_members__user_id=uid).values("id")})
        | Q(**{f"{field}__in": Market.objects.filter(volunteer_assignments__user_id=uid).values("id")})
        | Q(**{f"{field}__in": Market.objects.filter(vendors__user_id=uid).values("id")})
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
    if _is_anonymous(user):
        return Market.objects.none()
    if getattr(user, "is_superuser", False):
        return Market.objects.all()
    return Market.objects.filter(Q(province__officers__user_id=user.pk) | Q(board_members__user_id=user.pk)).distinct()


def markets_onboardable_by(*, user: User | AnonymousUser) -> QuerySet[Market]:
    """Markets where ``user`` may register vendors: those they manage plus
    those they are assigned to as a volunteer."""
    if _is_anonymous(user):
        return Market.objects.none()
    if getattr(user, "is_superuser", False):
        return Market.objects.all()
    return Market.objects.filter(
        Q(province__officers__user_id=user.pk)
        | Q(board_members__user_id=user.pk)
        | Q(volunteer_assignments__user_id=user.pk)
    ).distinct()


def provinces_managed_by(*, user: User | AnonymousUser) -> QuerySet[Province]:
    if _is_anonymous(user):
        return Province.objects.none()
    if getattr(user, "is_superuser", False):
        return Province.objects.all()
    return Province.objects.filter(officers__user_id=(user.pk or 0))


def province_list() -> QuerySet[Province]:
    return Province.objects.all()


def ward_list(*, province_code: str) -> QuerySet[Ward]:
    return Ward.objects.filter(province_id=province_code)
