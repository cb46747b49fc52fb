"""Adoption statistics of one scope over one period, as the plain dict the
API, the exports and the dashboard render (its shape: docs/stats.md).

Every figure comes from the rollups (``MarketDay``, ``VendorDay``,
``VendorActivity``) and the roster (markets and vendors), never from the
payments table; ``ensure_current()`` first folds what the change log holds
that is not folded yet, so a read is never behind the writes before it.
The definitions are written once in docs/stats.md ("Metric definitions");
the headline figures are ``stats.figures``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from payments.models import Channel, Payment
from stats import concurrent, folding, market_read
from stats.figures import HEADLINE_KEYS, figures, figures_by_assemble, figures_by_reads
from stats.market_days import market_days
from stats.metrics import ratio
from stats.models import SIZE_BUCKETS, MarketDay, Target
from stats.periods import Period, add_months
from stats.scopes import Scope
from stats.selectors_markets import legacy_groups, legacy_names, market_rows, ranked_markets, ranked_provinces
from stats.selectors_series import (
    empty_series,
    series,
    series_active_rows,
    series_and_groups_assemble,
    series_and_groups_reads,
    series_from,
)
from stats.selectors_vendors import cohort_counts, follow_up

SUCCEEDED: Final = Payment.Status.SUCCEEDED
COHORT_MONTHS: Final = 12


# --- the pieces -------------------------------------------------------------------------


def payment_mix(scope: Scope, period: Period) -> dict[str, Any]:
    """Succeeded payments by size bucket and by channel (every channel, with
    its share of the count), and the payments now refunded or disputed, by
    their local date: one grouped query."""
    return payment_mix_from(payment_mix_rows(scope, period))


def payment_mix_rows(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """The query of ``payment_mix``: count and value by status, channel and size bucket."""
    return list(
        MarketDay.objects.filter(scope.rows_q(), local_date__gte=period.start, local_date__lte=period.end)
        .order_by()
        .values("status", "channel", "size_bucket")
        .annotate(count=Sum("count"), value=Sum("value"))
    )


def payment_mix_from(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``payment_mix`` from its rows."""

    # One pass: the sums by status, by (status, channel) and by (status, size bucket).
    by_key: dict[tuple[str, ...], list[int]] = {}
    for row in rows:
        status = row["status"]
        channel, bucket = str(row["channel"]), str(row["size_bucket"])
        for key in ((status,), (status, "channel", channel), (status, "size_bucket", bucket)):
            cell = by_key.setdefault(key, [0, 0])
            cell[0] += row["count"] or 0
            cell[1] += row["value"] or 0

    def total(status: str, **match: str) -> dict[str, int]:
        ((field, value),) = match.items() if match else ((None, None),)
        count, amount = by_key.get((status, field, str(value)) if field else (status,), (0, 0))
        return {"count": count, "value": amount}

    succeeded = total(status=SUCCEEDED)["count"]
    channels = []
    for channel in Channel:
        sums = total(status=SUCCEEDED, channel=channel.value)
        channels.append(
            {"channel": channel.value, "label": str(channel.label), **sums, "share": ratio(sums["count"], succeeded)}
        )
    return {
        "size_buckets": [
            {"key": str(key), "min": low, "max": high, **total(status=SUCCEEDED, size_bucket=str(key))}
            for key, low, high in SIZE_BUCKETS
        ],
        "channels": channels,
        "refunds": total(status=Payment.Status.REFUNDED),
        "disputes": total(status=Payment.Status.DISPUTED),
    }


def target(scope: Scope, current: dict[str, Any]) -> dict[str, Any] | None:
    """The scope's target (provinces and markets have one) and the progress of
    the current figures towards it: coverage ÷ target coverage, active share ÷
    target active share (1.0 = reached; not capped)."""
    return target_progress(scope_target(scope), current)


def scope_target(scope: Scope) -> Target | None:
    """The target set for the scope, if any (provinces and markets have one)."""
    if scope.kind == "province":
        return Target.objects.select_related("set_by").filter(province_id=scope.key).first()
    if scope.kind == "market":
        return Target.objects.select_related("set_by").filter(market_id=int(scope.key)).first()
    return None


def target_progress(found: Target | None, current: dict[str, Any]) -> dict[str, Any] | None:
    """``target`` from the target found and the current figures."""
    if found is None:
        return None
    set_by = found.set_by.get_username() if found.set_by else None
    return target_values(found.coverage, found.active, found.deadline, found.set_at, set_by, current)


def target_values(
    coverage: Any, active: Any, deadline: dt.date, set_at: dt.datetime, set_by: str | None, current: dict[str, Any]
) -> dict[str, Any]:
    """``target_progress`` from a target's values (``set_by``: the username of who set it)."""
    goal_coverage, goal_active = float(coverage), float(active)
    return {
        "coverage": goal_coverage,
        "active": goal_active,
        "deadline": deadline.isoformat(),
        "coverage_progress": _progress(current["coverage"], goal_coverage),
        "active_progress": _progress(current["active_share"], goal_active),
        "set_at": set_at.isoformat(),
        "set_by": set_by,
    }


def current_target(scope: Scope) -> dict[str, Any] | None:
    """The scope's target with its progress as of today (coverage now, active
    share over the 30 days ending today)."""
    folding.ensure_current()
    today = timezone.localdate()
    return target(scope, figures(scope, Period(today, today))[None])


def _target_of(found: Target | tuple[Any, ...] | None, current: dict[str, Any]) -> dict[str, Any] | None:
    """``target_progress`` of a ``Target`` or of its values as ``stats.market_read`` reads them."""
    if isinstance(found, tuple):
        coverage, active, deadline, set_at, set_by = found
        return target_values(coverage, active, deadline, set_at, set_by, current)
    return target_progress(found, current)


def _progress(current: float | None, goal: float) -> float | None:
    if current is None or goal <= 0:
        return None
    return round(current / goal, 4)


def cohorts(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """Vendors by onboarding month (Vietnam time), the 12 months ending with
    the month of ``to``: how many were onboarded, and how many of them were
    active (≥ 1 succeeded payment) in their onboarding month (m0), the month
    after (m1) … up to the month of ``to`` (days after ``to`` not counted)."""
    first = cohort_first_month(period)
    return cohorts_from(period, *cohort_counts(scope, first, period.end))


def cohort_first_month(period: Period) -> dt.date:
    """The first of the ``COHORT_MONTHS`` onboarding months ``cohorts`` shows."""
    return add_months(period.end.replace(day=1), -(COHORT_MONTHS - 1))


def cohorts_from(
    period: Period, sizes: dict[dt.date, int], activity: dict[tuple[dt.date, dt.date], int]
) -> list[dict[str, Any]]:
    """``cohorts`` from the counts of ``cohort_counts``."""
    first = cohort_first_month(period)
    out = []
    for index in range(COHORT_MONTHS):
        month = add_months(first, index)
        active = [activity.get((month, add_months(month, k)), 0) for k in range(COHORT_MONTHS - index)]
        out.append({"month": month.strftime("%Y-%m"), "vendors": sizes.get(month, 0), "active": active})
    return out


# --- the whole ------------------------------------------------------------------------------


# The reads that take longest (measured at 10 M payments), sent first so that the
# pool's threads end together: the slowest query is not left to start last.
_SLOWEST: Final = ("cohorts", "series_active", "figures:every_vendor", "follow_up", "figures:roster")


def _slowest_first(reads: dict[str, Any]) -> dict[str, Any]:
    first = {name: reads[name] for name in _SLOWEST if name in reads}
    return {**first, **{name: read for name, read in reads.items() if name not in first}}


def _general_reads(scope: Scope, period: Period, groups: tuple[str | None, ...], one_pass: bool) -> dict[str, Any]:
    """The reads of ``scope_stats`` through the ORM, side by side (``stats.concurrent``).
    For a market on PostgreSQL (``one_pass``) this is the previous path, which
    ``stats.market_read`` replaces: kept as the reference its tests compare it with."""
    legacy = "market__legacy_province_id"
    reads: dict[str, Any] = {
        f"figures:{name}": read for name, read in figures_by_reads(scope, period, groups, payments=not one_pass).items()
    }
    if one_pass:
        reads["market_days"] = lambda: market_days(scope, period)
    else:
        reads["mix"] = lambda: payment_mix_rows(scope, period)
    if scope.kind == "province":
        reads.update(series_and_groups_reads(scope, period, legacy, payments=not one_pass))
    elif one_pass:
        reads["series_active"] = lambda: series_active_rows(scope, period)
    else:
        reads["series"] = lambda: series(scope, period)
    reads["cohorts"] = lambda: cohorts(scope, period)
    reads["target"] = lambda: scope_target(scope)
    if scope.kind in ("nation", "province", "ward"):
        reads["markets"] = lambda: market_rows(scope)
    if scope.kind == "province":
        reads["legacy_names"] = legacy_names
    if scope.kind == "market":
        reads["follow_up"] = lambda: follow_up(int(scope.key), period.end)
    got = concurrent.run(_slowest_first(reads))
    if one_pass:
        got["figures:payments"] = got["market_days"]["by_market"]
        got["mix"] = got["market_days"]["mix"]
        got["series_payments"] = got["market_days"]["series"]
    return got


def scope_stats(scope: Scope, period: Period) -> dict[str, Any]:
    """Everything the dashboard and the API show for ``scope`` over ``period``.

    Its queries are independent of each other and are sent side by side on
    PostgreSQL (``stats.concurrent``); the answer is the same either way. A
    market's on PostgreSQL are sent as one round trip instead (``stats.market_read``)."""
    folding.ensure_current()
    groups: tuple[str | None, ...] = (None,)
    if scope.kind == "nation":
        groups += ("province",)
    if scope.kind in ("nation", "province", "ward"):
        groups += ("market",)
    if scope.kind == "province":
        groups += ("legacy",)
    # A market's read on PostgreSQL is one round trip of SQL written once (stats.market_read).
    # Without it (kept as its reference) the market's payments, mix and trend's payments come
    # from one pass over MarketDay (stats.market_days).
    one_pass = connection.vendor == "postgresql" and scope.kind == "market"
    if market_read.applies(scope):
        got = market_read.reads(scope, period)
        got["cohorts"] = cohorts_from(period, *got.pop("cohort_counts"))
    else:
        got = _general_reads(scope, period, groups, one_pass)

    computed = figures_by_assemble(
        scope,
        period,
        groups,
        {name.removeprefix("figures:"): value for name, value in got.items() if name.startswith("figures:")},
    )
    by_unit: dict[Any, list[dict[str, Any]]] = {}
    if scope.kind == "province":
        trend, by_unit = series_and_groups_assemble(period, got)
    elif one_pass:
        trend = series_from(period, got["series_payments"], got["series_active"])
    else:
        trend = got["series"]
    headline = computed[None][None]
    previous = headline.pop("previous")
    headline.pop("markets")
    data: dict[str, Any] = {
        "scope": scope.as_dict(),
        "period": period.as_dict(),
        **headline,
        **payment_mix_from(got["mix"]),
        "previous": {key: previous[key] for key in HEADLINE_KEYS},
        "target": _target_of(got["target"], headline),
        "series": trend,
        "cohorts": got["cohorts"],
    }
    if scope.kind == "nation":
        data["provinces"] = ranked_provinces(scope, period, computed["province"])
    if scope.kind in ("nation", "province", "ward"):
        data["markets"] = ranked_markets(scope, period, computed["market"], rows=got["markets"])
    if scope.kind == "province":
        data["groups"] = legacy_groups(
            scope, period, by_unit, empty_series(period), computed["legacy"], names=got["legacy_names"]
        )
    if scope.kind == "market":
        data["follow_up"] = got["follow_up"]
    return data
