"""Writes for markets. Views call these; business rules live here."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from market import roles
from market.models import LegacyProvince, Market, Ward
from market.selectors import provinces_managed_by

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def market_create(
    *,
    actor: User,
    name: str,
    code: str,
    ward: Ward,
    address: str = "",
    stall_count: int = 0,
    status: str = Market.Status.ACTIVE,
    cashless_since: dt.date | None = None,
    legacy_province: LegacyProvince | None = None,
) -> Market:
    if not provinces_managed_by(user=actor).filter(pk=ward.province_id).exists():
        raise PermissionDenied("only officers of the market's province may create it")
    _check_code_free(code.upper())
    market = Market(
        name=name,
        code=code.upper(),
        ward=ward,
        province_id=ward.province_id,
        address=address,
        stall_count=stall_count,
        status=status,
        cashless_since=cashless_since,
        legacy_province=legacy_province,
    )
    _check_legacy(market)
    # The code's uniqueness is left to the database (see _save).
    market.full_clean(validate_unique=False)
    _save(market)
    return market


@transaction.atomic
def market_update(*, actor: User, market: Market, data: dict[str, Any]) -> Market:
    if not roles.manages_market(actor, market.pk):
        raise PermissionDenied("only the market's board or province may change it")
    # Moving a market to another province would move it out of its officers' reach.
    if (
        "ward" in data
        and data["ward"].province_id != market.province_id
        and not provinces_managed_by(user=actor).filter(pk=data["ward"].province_id).exists()
    ):
        raise PermissionDenied("cannot move a market into a province you do not manage")
    if "code" in data:
        _check_code_free(data["code"].upper(), market=market)
    for field, value in data.items():
        setattr(market, field, value)
    market.province_id = market.ward.province_id
    if "code" in data:
        market.code = market.code.upper()
    _check_legacy(market)
    # The code's uniqueness is left to the database (see _save).
    market.full_clean(validate_unique=False)
    _save(market)
    return market


def _duplicate_code(code: str) -> ValidationError:
    return ValidationError(
        {"code": ValidationError(f"Market code {code} is already used.", code="duplicate_market_code")}
    )


def _check_code_free(code: str, *, market: Market | None = None) -> None:
    """Refuse a code another market holds (400 ``duplicate_market_code``).
    Called only once the actor may create or change the market, so that the
    answer tells no one else which codes exist."""
    taken = Market.objects.filter(code=code)
    if market is not None:
        taken = taken.exclude(pk=market.pk)
    if taken.exists():
        raise _duplicate_code(code)


def _save(market: Market) -> None:
    """Save; a code taken meanwhile by a concurrent request is reported like the
    checked duplicate (400 ``duplicate_market_code``), not as a 500."""
    try:
        with transaction.atomic():
            market.save()
    except IntegrityError:
        if Market.objects.filter(code=market.code).exclude(pk=market.pk).exists():
            raise _duplicate_code(market.code) from None
        raise


def _check_legacy(market: Market) -> None:
    if market.legacy_province is not None and market.legacy_province.merged_into_id != market.province_id:
        # The code goes on the field's error: Django drops a code given next to a dict.
        raise ValidationError(
            {
                "legacy_province": ValidationError(
                    f"{market.legacy_province.name} was not merged into {market.province_id}",
                    code="legacy_province_mismatch",
                )
            }
        )
