"""What a statistic covers (the nation, a province, a ward or commune, a
market, or a province's markets of one legacy unit) and who may see it.

The rules, all asked of ``market.roles``:

- superusers see every scope;
- a province officer sees their province(s), every ward/commune in it and
  every market in it;
- a market board member sees their market(s) only;
- volunteers, vendors and everyone else see no money statistic (a volunteer
  sees their own row of the volunteer statistics, ``stats.selectors_volunteers``).

A scope outside one's rights is reported exactly like one that does not
exist: ``NotFound`` (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from common.errors import NotFound
from market import roles
from market.models import LegacyProvince, Market, Province, Ward
from market.selectors import markets_managed_by, provinces_managed_by

if TYPE_CHECKING:
    from market.roles import AnyUser

KINDS: Final = ("nation", "province", "ward", "market", "legacy")


@dataclass(frozen=True)
class Scope:
    """``kind`` and ``key`` name the scope (``key`` is a province or ward code,
    a market id, or ``"<province>/<legacy code>"``; empty for the nation)."""

    kind: str
    key: str
    name: str
    province_code: str | None = None
    legacy_code: str | None = None  # kind "legacy": the legacy unit ("" for markets without one)

    def market_q(self) -> Q:
        """The markets of the scope, as a filter on ``Market``."""
        if self.kind == "province":
            return Q(province_id=self.key)
        if self.kind == "ward":
            return Q(ward_id=self.key)
        if self.kind == "market":
            return Q(pk=int(self.key))
        if self.kind == "legacy":
            legacy = Q(legacy_province_id=self.legacy_code) if self.legacy_code else Q(legacy_province__isnull=True)
            return Q(province_id=self.province_code) & legacy
        return Q()

    def markets(self) -> QuerySet[Market]:
        return Market.objects.filter(self.market_q())

    def rows_q(self, field: str = "market_id") -> Q:
        """A filter on a table that carries a market id in ``field`` (the rollups,
        ``Vendor.market_id``): no filter for the nation, which also counts
        payments no market could be found for."""
        if self.kind == "nation":
            return Q()
        if self.kind == "market":
            return Q(**{field: int(self.key)})
        return Q(**{f"{field}__in": self.markets().values("id")})

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "key": self.key, "name": self.name}


def nation() -> Scope:
    return Scope("nation", "", _("Viet Nam"))


def province_scope(province: Province) -> Scope:
    return Scope("province", province.code, province.name, province_code=province.code)


def market_scope(market: Market) -> Scope:
    return Scope("market", str(market.pk), market.name, province_code=market.province_id)


def legacy_scope(province_code: str, legacy: LegacyProvince | None) -> Scope:
    """The markets of ``province_code`` that belonged to ``legacy`` before the
    2025 merger (``None``: those with no legacy unit recorded)."""
    code = legacy.code if legacy else ""
    name = legacy.name if legacy else _("No former province recorded")
    return Scope("legacy", f"{province_code}/{code}", name, province_code=province_code, legacy_code=code)


def _not_found() -> NotFound:
    return NotFound("not_found", _("Not found."))


def _plain(key: str, max_length: int) -> bool:
    """A code the database can be asked about: ASCII letters and digits only
    (PostgreSQL refuses a NUL byte in a query with an error, not an empty answer)."""
    return 0 < len(key) <= max_length and key.isascii() and key.isalnum()


def scope_for(user: AnyUser, kind: str, key: str | int | None = None) -> Scope:
    """The scope named by ``kind`` and ``key`` if ``user`` may see its money
    statistics; ``NotFound`` otherwise (including when it does not exist)."""
    key = "" if key is None else str(key)
    if roles.is_anonymous(user):
        raise _not_found()
    if kind == "nation":
        if roles.is_superuser(user):
            return nation()
        raise _not_found()
    if kind == "province":
        province = Province.objects.filter(pk=key).first() if _plain(key, 2) else None
        if province is None or not roles.oversees_province(user, province.code):
            raise _not_found()
        return province_scope(province)
    if kind == "ward":
        ward = Ward.objects.filter(pk=key).first() if _plain(key, 5) else None
        if ward is None or not roles.oversees_province(user, ward.province_id):
            raise _not_found()
        return Scope("ward", ward.code, ward.name, province_code=ward.province_id)
    if kind == "market":
        if not _plain(key, 18) or not key.isdigit():
            raise _not_found()
        # One query: the market if it exists and ``user`` manages it (roles.manages_market).
        market = markets_managed_by(user=user).filter(pk=int(key)).first()
        if market is None:
            raise _not_found()
        return market_scope(market)
    raise _not_found()


def home_scope(user: AnyUser) -> Scope:
    """The widest single scope ``user`` sees, for ``GET /api/v1/stats/``: the
    nation for a superuser, else their province (the first by code when they
    follow several), else their market (the first by id); ``NotFound`` for
    everyone else (volunteers, vendors, outsiders)."""
    if roles.is_anonymous(user):
        raise _not_found()
    if roles.is_superuser(user):
        return nation()
    province = provinces_managed_by(user=user).order_by("code").first()
    if province is not None:
        return province_scope(province)
    market = markets_managed_by(user=user).order_by("pk").first()
    if market is not None:
        return market_scope(market)
    raise _not_found()


def volunteer_scope(
    user: AnyUser, *, province: str | None = None, market: str | int | None = None
) -> tuple[Scope, int | None]:
    """The scope of the volunteer statistics and, for a volunteer, whose row
    alone they see: ``(scope, user id)``.

    Superusers, officers and board members get the scope named by
    ``province`` or ``market`` (as ``scope_for``) or else their ``home_scope``,
    every volunteer row in it. A volunteer gets their own row over every
    market (``market``/``province`` name a money scope they do not see: 404).
    Vendors and everyone else: ``NotFound``."""
    if market is not None:
        return scope_for(user, "market", market), None
    if province is not None:
        return scope_for(user, "province", province), None
    try:
        return home_scope(user), None
    except NotFound:
        if roles.volunteers_anywhere(user):
            return nation(), user.pk
        raise
