"""Markets (and provinces) side by side: the ranked lists of a nation,
province or ward, and a province's markets grouped by the province they
belonged to before the 2025 merger. Each list is one ``stats.figures`` call
(grouped queries, never one query per market), with the same definitions as
the scope's headline."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from market.models import LegacyProvince, Market, Province
from stats.figures import HEADLINE_KEYS, figures
from stats.periods import Period
from stats.scopes import Scope


def _rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By active share (30 days ending at ``to``), then payments value, then name; ``rank`` from 1."""
    rows.sort(key=lambda row: (-(row["active_share"] or 0), -row["payments_value"], row["name"], str(row["code"])))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def market_rows(scope: Scope) -> list[dict[str, Any]]:
    """The markets of the scope as the ranking names them (one query)."""
    markets = Market.objects.filter(scope.market_q()).select_related("ward")
    return [
        {
            "id": market.pk,
            "name": market.name,
            "code": market.code,
            "ward": {"code": market.ward.code, "name": market.ward.name},
            "legacy_province": market.legacy_province_id,
        }
        for market in markets
    ]


def ranked_markets(
    scope: Scope,
    period: Period,
    by_market: dict[Any, Any] | None = None,
    *,
    rows: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Every market of the scope with its headline figures (``by_market`` when
    already computed; ``rows``, the markets' names, when already read),
    ranked by active share (vendors active in the 30 days ending at ``to`` ÷
    vendors with a QR), then by payments value in the period, then by name."""
    if by_market is None:
        by_market = figures(scope, period, group="market")
    if rows is None:
        rows = market_rows(scope)
    return _rank(
        [{**row, **{key: by_market[row["id"]][key] for key in HEADLINE_KEYS}} for row in rows if row["id"] in by_market]
    )


def ranked_provinces(scope: Scope, period: Period, by_province: dict[Any, Any] | None = None) -> list[dict[str, Any]]:
    """Every province with at least one market, ranked as markets are (the nation's page)."""
    if by_province is None:
        by_province = figures(scope, period, group="province")
    names = dict(Province.objects.filter(pk__in=list(by_province)).values_list("code", "name"))
    rows = [
        {"code": code, "name": names[code], "markets": row["markets"], **{key: row[key] for key in HEADLINE_KEYS}}
        for code, row in by_province.items()
    ]
    return _rank(rows)


def legacy_groups(
    scope: Scope,
    period: Period,
    series: dict[Any, list[dict[str, Any]]],
    no_series: list[dict[str, Any]],
    by_unit: dict[Any, Any] | None = None,
    *,
    names: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The province's markets by the province they belonged to before the 2025
    merger (e.g. the former Bắc Kạn pilot markets of Thái Nguyên), former
    provinces by code then the markets recording none, each with its headline
    figures and ``series`` (by legacy code, from ``series_by``; ``no_series``
    for a group without payments); none when no market of the province
    records a former province."""
    if by_unit is None:
        by_unit = figures(scope, period, group="legacy")
    if not any(by_unit):
        return []
    if names is None:
        names = legacy_names()
    out = []
    for code in sorted(by_unit, key=lambda code: (code is None, code or "")):
        row = by_unit[code]
        out.append(
            {
                "code": code,
                "name": names[code] if code else _("No former province recorded"),
                "markets": row["markets"],
                **{key: row[key] for key in HEADLINE_KEYS},
                "series": series.get(code) or no_series,
            }
        )
    return out


def legacy_names() -> dict[str, str]:
    """Every former province's name by its code (63 rows at most)."""
    return dict(LegacyProvince.objects.values_list("code", "name"))
