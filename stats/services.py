"""Writes of the statistics app: the adoption target of a province or a
market ("100 % of stalls with a QR and 60 % active by 2027-06-30")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import Invalid, NotFound
from market import roles
from stats.models import Target
from stats.scopes import Scope

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Shares are kept to four decimals (0.6 = 60 %, 0.3333 = 33.33 %).
SHARE_PLACES = Decimal("0.0001")


def may_set_target(actor: User, scope: Scope) -> bool:
    """Province targets: the province's officers; market targets: the market's
    board and its province's officers; superusers both."""
    if scope.kind == "province":
        return roles.oversees_province(actor, scope.key)
    if scope.kind == "market":
        return roles.manages_market(actor, int(scope.key))
    return False


def _share(value: Decimal, field: str) -> Decimal:
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise Invalid("invalid_share", _("A target share lies between 0 and 1 (1 = 100 %)."), field=field)
    return value.quantize(SHARE_PLACES)


@transaction.atomic
def _upsert(scope: Scope, values: dict[str, object]) -> Target:
    lookup: dict[str, Any] = {"province_id": scope.key} if scope.kind == "province" else {"market_id": int(scope.key)}
    target, _created = Target.objects.update_or_create(**lookup, defaults=values)
    return target


def target_set(*, actor: User, scope: Scope, coverage: Decimal, active: Decimal, deadline: dt.date) -> Target:
    """Set (create or replace) the target of a province or market scope,
    recording who set it and when. ``NotFound`` when ``actor`` may not set
    it (as for a scope they do not see); ``Invalid`` for a share outside
    0–1, both shares zero, or a deadline before today (Vietnam)."""
    if scope.kind not in ("province", "market") or not may_set_target(actor, scope):
        raise NotFound("not_found", _("Not found."))
    coverage = _share(coverage, "coverage")
    active = _share(active, "active")
    if not coverage and not active:
        raise Invalid("empty_target", _("A target needs a coverage or an active share above 0."), field="coverage")
    if deadline < timezone.localdate():
        raise Invalid("deadline_past", _("The deadline is already past."), field="deadline")
    values: dict[str, object] = {
        "coverage": coverage,
        "active": active,
        "deadline": deadline,
        "set_by": actor,
        "set_at": timezone.now(),
    }
    try:
        return _upsert(scope, values)
    except IntegrityError:
        # Two first targets at once: the other one was created between our
        # look-up and insert (one target per scope); this one replaces it.
        return _upsert(scope, values)
